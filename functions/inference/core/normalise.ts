import type { NormalisationBasis, PodInventory, ScoredSignal } from '../../shared/contracts/index.js';
import { linearTrend } from './trend.js';

export interface Normalisation {
  basis: NormalisationBasis;
  denominator: number;
}

/**
 * Without a limit or request there is nothing to run out of, so the window is scaled against its own maximum
 * with headroom: the classifier still sees a shape, but no time-to-limit is claimed.
 */
export const OBSERVED_MAX_HEADROOM = 1.25;

/**
 * Picks what a usage series is divided by: the container's limit (what OOM-kills or throttles it), else its
 * request, else the window's own maximum. Memory is in bytes, CPU in cores, as the inventory states them.
 */
export function chooseNormalisation(
  signal: ScoredSignal,
  container: string,
  inventory: PodInventory | null,
  window: ArrayLike<number>,
): Normalisation {
  const spec = inventory?.containers.find((c) => c.name === container);
  const pick = (q: { memoryBytes?: number | undefined; cpuCores?: number | undefined } | undefined) =>
    signal === 'memory' ? q?.memoryBytes : q?.cpuCores;
  const limit = pick(spec?.limits);
  if (limit !== undefined && limit > 0) return { basis: 'limit', denominator: limit };
  const request = pick(spec?.requests);
  if (request !== undefined && request > 0) return { basis: 'request', denominator: request };
  let max = 0;
  for (let i = 0; i < window.length; i++) max = Math.max(max, Math.abs(window[i]!));
  return { basis: 'observed-max', denominator: max > 0 ? max * OBSERVED_MAX_HEADROOM : 1 };
}

/**
 * The share of its limit at which a resource runs out. Memory: the limit itself (OOM kill). CPU: the CFS quota
 * throttles a container before its average usage reaches the limit (usage sits on a plateau just under it,
 * 0.96..1.0 in the training data), so CPU counts as exhausted from the bottom of that plateau.
 */
export const EXHAUSTION_LEVEL: Readonly<Record<ScoredSignal, number>> = { memory: 1, cpu: 0.96 };

/**
 * Seconds until the forecast first reaches `level` (1.0 = the limit), interpolating linearly from the last
 * observed value through the forecast points; null if it stays below within the horizon.
 */
export function secondsToLimit(
  last: number,
  forecast: ArrayLike<number>,
  horizonsSeconds: readonly number[],
  level = 1,
): number | null {
  if (last >= level) return 0;
  let previousValue = last;
  let previousSeconds = 0;
  for (let h = 0; h < horizonsSeconds.length; h++) {
    const value = forecast[h]!;
    const seconds = horizonsSeconds[h]!;
    if (value >= level) {
      const fraction = (level - previousValue) / (value - previousValue);
      return previousSeconds + fraction * (seconds - previousSeconds);
    }
    previousValue = value;
    previousSeconds = seconds;
  }
  return null;
}

/**
 * Which of the window's excursions above its trend count as its peaks: a high quantile rather than the maximum,
 * so a recurring cycle (a GC sawtooth: several peaks per window) raises the envelope but a single spike does not.
 */
export const PEAK_QUANTILE = 0.9;
/**
 * Peaks are a sawtooth's only if the usage keeps falling back from them: a collection drops the usage from a
 * peak to a trough, twice the peak's height above the trend. A rise that bends upwards (a batch job filling
 * memory) also has excursions above its straight-line trend, but nothing falls back from them.
 */
export const MIN_COLLECTIONS = 2;

function collectionsIn(window: ArrayLike<number>, fall: number): number {
  let count = 0;
  for (let i = 1; i < window.length; i++) if (window[i - 1]! - window[i]! >= fall) count++;
  return count;
}

/**
 * Seconds until the window's peaks reach `level`; null if they stay below within the horizon. The forecaster
 * predicts a series' mean path, but under a fast GC sawtooth a container is OOM-killed at a peak while the mean
 * is still below the limit. The peaks' envelope is the forecast raised by how far the window's peaks
 * (`PEAK_QUANTILE`) sit above its straight-line trend, so a steady rise adds nothing, only excursions above it
 * do; it starts from the trend's end raised the same way. Null too when the window shows no recurring
 * collections (`MIN_COLLECTIONS`): then the mean forecast alone speaks.
 */
export function secondsToLimitAtPeaks(
  window: ArrayLike<number>,
  forecast: ArrayLike<number>,
  horizonsSeconds: readonly number[],
  level = 1,
): number | null {
  const n = window.length;
  const meanIndex = (n - 1) / 2;
  const { mean, slope } = linearTrend(window);
  // Inline arithmetic rather than a closure: this runs for every scored row, and the bundle keeps names, which
  // wraps every closure creation in a call.
  const lastTrend = mean + slope * (n - 1 - meanIndex);
  let highestResidual = 0;
  for (let i = 0; i < n; i++) {
    const residual = window[i]! - (mean + slope * (i - meanIndex));
    if (residual > highestResidual) highestResidual = residual;
  }
  // Exact shortcut for most windows (this runs for every scored row): the envelope never exceeds forecast + the
  // highest residual, so when even that stays below the level the answer is null and no quantile is needed.
  let highestForecast = Number.NEGATIVE_INFINITY;
  for (let h = 0; h < forecast.length; h++)
    if (forecast[h]! > highestForecast) highestForecast = forecast[h]!;
  if (
    window[n - 1]! < level &&
    lastTrend + highestResidual < level &&
    highestForecast + highestResidual < level
  ) {
    return null;
  }
  const residuals = new Float64Array(n);
  for (let i = 0; i < n; i++) residuals[i] = window[i]! - (mean + slope * (i - meanIndex));
  residuals.sort();
  const excess = Math.max(0, residuals[Math.min(n - 1, Math.floor(PEAK_QUANTILE * n))]!);
  if (collectionsIn(window, 2 * excess) < MIN_COLLECTIONS) return null;
  return secondsToLimit(
    Math.max(window[n - 1]!, lastTrend + excess),
    Array.from(forecast, (value) => value + excess),
    horizonsSeconds,
    level,
  );
}
