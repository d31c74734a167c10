/**
 * Surprise: how unusual a series' newest value is against the series' own long history, independent of limits.
 * The models answer "is this heading for exhaustion?"; surprise answers "is this unlike what this series
 * usually does?" (a level shift after a deploy, a spike, a stall), which is worth showing a human but not worth
 * remediating. It never opens an incident.
 *
 * The history is an exponentially weighted mean and variance with a memory of about 1/`MEMORY_WEIGHT` samples,
 * seeded from the first full window, so it needs no storage beyond four numbers per series. A value's surprise
 * is its two-sided Gaussian tail probability on a log scale: 0 for an ordinary value, 1 for one as unlikely as
 * 1e-12. An excursion reports its surprise once, at its onset (the value beats every surprise of the previous
 * `ONSET_HOLD` samples), so a shift that persists is reported at most once per `ONSET_HOLD` samples, while the
 * history adapts to it, rather than at every sample.
 *
 * The two constants were chosen among about twenty variants on the even-numbered files of the NAB corpus and
 * checked on the odd-numbered ones (models/README.md has both halves' scores).
 */
export const MEMORY_WEIGHT = 0.002;
export const ONSET_HOLD = 50;
/** -log10 of the tail probability that counts as surprise 1. */
const FULL_SURPRISE_DECADES = 12;

export interface SurpriseState {
  mean: number;
  variance: number;
  /** The highest surprise among recent values, and how many samples ago it was seen. */
  peak: number;
  sincePeak: number;
}

export interface SurpriseReading {
  /** How unusual the value is, in [0, 1]. */
  level: number;
  /** `level` if the value starts (or climbs within) an excursion, else 0. */
  onset: number;
}

/** Seeds the history from a full window, oldest first. */
export function seedSurprise(window: ArrayLike<number>): SurpriseState {
  let mean = 0;
  for (let i = 0; i < window.length; i++) mean += window[i]!;
  mean /= window.length;
  let variance = 0;
  for (let i = 0; i < window.length; i++) variance += (window[i]! - mean) ** 2;
  variance /= window.length;
  return { mean, variance, peak: 0, sincePeak: ONSET_HOLD + 1 };
}

/** Reads `value` against `state` and returns the state that includes it. `state` is not modified. */
export function observeSurprise(
  state: SurpriseState,
  value: number,
): { state: SurpriseState; reading: SurpriseReading } {
  // A flat history has no spread; a tiny floor keeps the first change finite (and very surprising).
  const spread = Math.max(Math.sqrt(state.variance), 1e-9 * Math.max(1, Math.abs(state.mean)));
  const level = surpriseOfZ((value - state.mean) / spread);

  let { peak, sincePeak } = state;
  sincePeak++;
  if (sincePeak > ONSET_HOLD) peak = 0;
  const onset = level > peak ? level : 0;
  if (level >= peak) {
    peak = level;
    sincePeak = 0;
  }

  const deviation = value - state.mean;
  const mean = state.mean + MEMORY_WEIGHT * deviation;
  const variance = (1 - MEMORY_WEIGHT) * (state.variance + MEMORY_WEIGHT * deviation * deviation);
  return { state: { mean, variance, peak, sincePeak }, reading: { level, onset } };
}

/** -log10 of the two-sided Gaussian tail of `z`, scaled so 1e-12 maps to 1 and clipped to [0, 1]. */
export function surpriseOfZ(z: number): number {
  const tail = twoSidedTail(Math.abs(z));
  if (tail <= 0) return 1;
  return Math.min(1, Math.max(0, -Math.log10(tail) / FULL_SURPRISE_DECADES));
}

/** P(|Z| ≥ z) for a standard normal Z, via erfc (Numerical Recipes' Chebyshev fit, relative error < 1.2e-7). */
function twoSidedTail(z: number): number {
  const x = z / Math.SQRT2;
  const t = 1 / (1 + 0.5 * x);
  const poly =
    -1.26551223 +
    t *
      (1.00002368 +
        t *
          (0.37409196 +
            t *
              (0.09678418 +
                t *
                  (-0.18628806 +
                    t *
                      (0.27886807 +
                        t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  return Math.min(1, t * Math.exp(-x * x + poly));
}
