/**
 * The two Prometheus rules operators write for this, computed the way Prometheus computes them:
 *   static_90:      container_memory_working_set_bytes > 0.9 * limit                       (for: 2m)
 *   predict_linear: predict_linear(container_memory_working_set_bytes[10m], 1800) > limit  (for: 2m)
 * (for CPU, the usage rate in cores against the CPU limit). The limit is the one in force at the evaluation,
 * as `kube_pod_container_resource_limits` reports it.
 */
export interface UsageSeries {
  /** Unix seconds, increasing. */
  times: ArrayLike<number>;
  values: ArrayLike<number>;
  limits: ArrayLike<number>;
}

export const RULE_FOR_SECONDS = 120;
export const STATIC_RATIO = 0.9;
export const PREDICT_RANGE_SECONDS = 600;
export const PREDICT_AHEAD_SECONDS = 1800;

export function staticThresholdHolds(series: UsageSeries, ratio = STATIC_RATIO): boolean[] {
  return Array.from(series.values, (v, i) => v > ratio * series.limits[i]!);
}

/**
 * `predict_linear(x[range], ahead)` at each sample's time: an ordinary least-squares line through the samples
 * in the left-open range (t - range, t] (Prometheus 3), with its intercept taken at the evaluation time t,
 * extrapolated `ahead` seconds. Fewer than two samples give no value (NaN), as Prometheus returns nothing.
 */
export function predictLinear(
  series: Pick<UsageSeries, 'times' | 'values'>,
  rangeSeconds = PREDICT_RANGE_SECONDS,
  aheadSeconds = PREDICT_AHEAD_SECONDS,
): Float64Array {
  const { times, values } = series;
  const out = new Float64Array(values.length);
  let first = 0;
  for (let i = 0; i < values.length; i++) {
    const t = times[i]!;
    while (times[first]! <= t - rangeSeconds) first++;
    const n = i - first + 1;
    if (n < 2) {
      out[i] = Number.NaN;
      continue;
    }
    let sumX = 0;
    let sumY = 0;
    for (let j = first; j <= i; j++) {
      sumX += times[j]! - t;
      sumY += values[j]!;
    }
    const meanX = sumX / n;
    const meanY = sumY / n;
    let covXY = 0;
    let varX = 0;
    for (let j = first; j <= i; j++) {
      const dx = times[j]! - t - meanX;
      covXY += dx * (values[j]! - meanY);
      varX += dx * dx;
    }
    const slope = covXY / varX;
    const intercept = meanY - slope * meanX;
    out[i] = intercept + slope * aheadSeconds;
  }
  return out;
}

export function predictLinearHolds(series: UsageSeries): boolean[] {
  const predicted = predictLinear(series);
  return Array.from(predicted, (p, i) => p > series.limits[i]!);
}
