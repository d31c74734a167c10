import { failureAt, onsetAt, type PodSeries, podDays } from './generator.js';

/**
 * What bench:faults reports for one detector, from the times at which it opened incidents (alerts):
 * - a failure is predicted when an alert opens at or after the fault's onset and strictly before the failure;
 *   recall = predicted / faulty series; lead time = failure time - first such alert;
 * - every alert on a benign series is a false incident, reported per 100 benign pod-days;
 * - alerts on a faulty series before its onset are false too, reported apart (count and per 100 pod-days of
 *   pre-onset time). Alerts after the failure are not counted: by then the series has ended.
 * - chance recall: the recall a detector raising alerts at random, at its own benign false-incident rate,
 *   would reach on the same faults (mean over faulty series of 1 - exp(-rate * (failure - onset))). A recall
 *   near it says the alerts on faults are mostly the detector's background noise, not detection.
 * Percentiles interpolate linearly between order statistics (numpy's default).
 */
export interface DetectorFigures {
  recall: number;
  predicted: number;
  faulty_series: number;
  lead_time_median_s: number | null;
  lead_time_p10_s: number | null;
  false_incidents_per_100_pod_days: number;
  false_incidents_benign: number;
  pre_onset_false_incidents: number;
  pre_onset_false_per_100_pod_days: number;
  chance_recall: number;
}

export interface SeriesVerdict {
  id: string;
  shape: string;
  faulty: boolean;
  podDays: number;
  alerts: number;
  /** Seconds from the first alert in [onset, failure) to the failure; null if none. */
  leadTimeSeconds: number | null;
  falseIncidents: number;
}

export function judgeSeries(series: PodSeries, alerts: readonly number[]): SeriesVerdict {
  const onset = onsetAt(series);
  const failure = failureAt(series);
  let leadTimeSeconds: number | null = null;
  let falseIncidents = 0;
  for (const at of alerts) {
    if (onset === null || at < onset) falseIncidents++;
    else if (failure !== null && at < failure && leadTimeSeconds === null) leadTimeSeconds = failure - at;
  }
  return {
    id: series.id,
    shape: series.shape,
    faulty: series.faulty,
    podDays: podDays(series),
    alerts: alerts.length,
    leadTimeSeconds,
    falseIncidents,
  };
}

export function percentile(values: readonly number[], q: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const above = Math.min(below + 1, sorted.length - 1);
  return sorted[below]! + (sorted[above]! - sorted[below]!) * (position - below);
}

export function summarise(suite: readonly PodSeries[], verdicts: readonly SeriesVerdict[]): DetectorFigures {
  const byId = new Map(suite.map((s) => [s.id, s]));
  let faulty = 0;
  let benignDays = 0;
  let benignFalse = 0;
  let preOnsetDays = 0;
  let preOnsetFalse = 0;
  const leads: number[] = [];
  const faultSeconds: number[] = [];
  for (const v of verdicts) {
    const s = byId.get(v.id)!;
    if (v.faulty) {
      faulty++;
      preOnsetDays += (s.onsetIndex! * s.stepSeconds) / 86_400;
      preOnsetFalse += v.falseIncidents;
      faultSeconds.push((s.failureIndex! - s.onsetIndex!) * s.stepSeconds);
      if (v.leadTimeSeconds !== null) leads.push(v.leadTimeSeconds);
    } else {
      benignDays += v.podDays;
      benignFalse += v.falseIncidents;
    }
  }
  const round = (x: number, digits: number) => Number(x.toFixed(digits));
  const falsePerSecond = benignDays === 0 ? 0 : benignFalse / (benignDays * 86_400);
  const chance = faultSeconds.reduce((sum, seconds) => sum + 1 - Math.exp(-falsePerSecond * seconds), 0);
  const median = percentile(leads, 0.5);
  const p10 = percentile(leads, 0.1);
  return {
    recall: faulty === 0 ? 0 : round(leads.length / faulty, 3),
    predicted: leads.length,
    faulty_series: faulty,
    lead_time_median_s: median === null ? null : Math.round(median),
    lead_time_p10_s: p10 === null ? null : Math.round(p10),
    false_incidents_per_100_pod_days: benignDays === 0 ? 0 : round((100 * benignFalse) / benignDays, 2),
    false_incidents_benign: benignFalse,
    pre_onset_false_incidents: preOnsetFalse,
    pre_onset_false_per_100_pod_days: preOnsetDays === 0 ? 0 : round((100 * preOnsetFalse) / preOnsetDays, 2),
    chance_recall: faulty === 0 ? 0 : round(chance / faulty, 3),
  };
}
