import type { NormalisationBasis, PodInventory, ScoredSignal } from '../../shared/contracts/index.js';

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
