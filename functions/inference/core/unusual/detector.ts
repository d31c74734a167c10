/**
 * Unusual behaviour: an online novelty detector per series, independent of limits. It learns which short shapes
 * the series makes (its level, its recent mean, its recent spread and its step) as a bounded set of categories,
 * hyperboxes in feature space in the manner of fuzzy adaptive resonance (Carpenter, Grossberg & Rosen 1991:
 * complement-coded boxes that grow to take in what they match, up to a size the vigilance allows, and a new
 * category for whatever no box can take in), and calls a sample unusual when its shape lies outside every box it
 * has learnt. How far outside, relative to the series' range, is the raw novelty.
 *
 * Raw novelty is then weighed against the series' own recent history of novelty, as HTM's anomaly likelihood
 * does (Ahmad et al. 2017): a series that is always a little novel (noisy) raises its own bar, so a score means
 * "unlike this series", not "noisy". The first PROBATION samples only learn.
 *
 * Features are kept in the series' own units, and distances are divided by the span of the range the detector
 * knows, so a range that widens as values are seen (streaming) or a range told up front (a limit, or NAB's
 * min/max) use the same boxes. Everything is deterministic and the state is a few kilobytes (see stateBytes).
 */

export interface UnusualParams {
  /** Samples behind a feature vector (the newest included). */
  span: number;
  /** The largest a box may grow along any feature, as a share of the range's span. */
  vigilance: number;
  /** The most categories a series keeps; the least recently matched is evicted first. */
  maxCategories: number;
  /** Samples that only learn, never score. */
  probation: number;
  /** Novelty (distance outside the nearest box, in spans) that scores 1 before weighing. */
  fullNovelty: number;
  /** Memory of the running mean and spread of novelty (about 1/weight samples). */
  historyWeight: number;
  /** How long a reported sample silences weaker ones (one report per episode). */
  hold: number;
  /** How novelty is weighed against its history (0: novelty × (1 − e^(−z/zScale)); tuning variants 1–3). */
  weighing: number;
  zScale: number;
}

export const DEFAULT_UNUSUAL_PARAMS: UnusualParams = {
  span: 4,
  vigilance: 0.2,
  maxCategories: 48,
  probation: 150,
  fullNovelty: 0.1,
  historyWeight: 0.01,
  hold: 40,
  weighing: 0,
  zScale: 3,
};

/** Features: the newest value, the mean of the newest quarter, the mean of the span, its spread, the last step. */
export const FEATURES = 5;

export interface UnusualState {
  /** Samples observed. */
  seen: number;
  /** The range distances are measured against; `told` when it was given rather than observed. */
  low: number;
  high: number;
  told: boolean;
  /** Per category, FEATURES lower then FEATURES upper box edges, in the series' units. */
  boxes: number[][];
  /** Per category, the sample count at which it last matched. */
  lastMatched: number[];
  /** Running mean and variance of novelty. */
  noveltyMean: number;
  noveltyVariance: number;
  /** The highest weighed novelty among recent samples, and how many samples ago it was seen. */
  peak: number;
  sincePeak: number;
}

export interface UnusualReading {
  /** How far outside everything learnt the newest shape is, in [0, 1]. */
  novelty: number;
  /** How unusual that is for this series, in [0, 1]; 0 while in probation or holding. */
  score: number;
}

export function initialUnusualState(range?: { low: number; high: number }): UnusualState {
  const told = range !== undefined && range.high > range.low;
  return {
    seen: 0,
    low: told ? range.low : Number.POSITIVE_INFINITY,
    high: told ? range.high : Number.NEGATIVE_INFINITY,
    told,
    boxes: [],
    lastMatched: [],
    noveltyMean: 0,
    noveltyVariance: 0,
    peak: 0,
    sincePeak: 0,
  };
}

/** The feature vector of the window ending at `end` (its first sample repeated when it is shorter than the span). */
export function featuresOf(values: ArrayLike<number>, end: number, span: number): number[] {
  const at = (k: number) => values[Math.max(0, end - k)]!;
  const quarter = Math.max(1, span >> 2);
  let recent = 0;
  for (let k = 0; k < quarter; k++) recent += at(k);
  let sum = 0;
  let low = Number.POSITIVE_INFINITY;
  let high = Number.NEGATIVE_INFINITY;
  for (let k = 0; k < span; k++) {
    const v = at(k);
    sum += v;
    low = Math.min(low, v);
    high = Math.max(high, v);
  }
  return [at(0), recent / quarter, sum / span, high - low, at(0) - at(1)];
}

/**
 * Reads the window ending at `values[end]` against `state` and returns the state that has learnt it. `state` is
 * not modified.
 */
export function observeUnusual(
  state: UnusualState,
  values: ArrayLike<number>,
  end: number,
  params: UnusualParams = DEFAULT_UNUSUAL_PARAMS,
): { state: UnusualState; reading: UnusualReading } {
  const value = values[end]!;
  const next: UnusualState = {
    ...state,
    seen: state.seen + 1,
    boxes: state.boxes.map((b) => b.slice()),
    lastMatched: state.lastMatched.slice(),
  };
  if (!state.told) {
    next.low = Math.min(state.low, value);
    next.high = Math.max(state.high, value);
  }
  const rangeSpan = next.high - next.low;
  const scale = rangeSpan > 0 ? rangeSpan : Math.max(1e-9, Math.abs(value));
  const x = featuresOf(values, end, params.span);

  let nearest = -1;
  let nearestDistance = Number.POSITIVE_INFINITY;
  for (let c = 0; c < next.boxes.length; c++) {
    const d = outside(next.boxes[c]!, x) / scale;
    if (d < nearestDistance) {
      nearestDistance = d;
      nearest = c;
    }
  }
  const novelty = nearest < 0 ? 1 : Math.min(1, nearestDistance / params.fullNovelty);

  // Learn: the nearest box takes the shape in if it stays within the vigilance, else a new category starts.
  if (nearest >= 0 && fitsAfterGrowing(next.boxes[nearest]!, x, params.vigilance * scale)) {
    grow(next.boxes[nearest]!, x);
    next.lastMatched[nearest] = next.seen;
  } else {
    if (next.boxes.length >= params.maxCategories) {
      let stalest = 0;
      for (let c = 1; c < next.lastMatched.length; c++)
        if (next.lastMatched[c]! < next.lastMatched[stalest]!) stalest = c;
      next.boxes.splice(stalest, 1);
      next.lastMatched.splice(stalest, 1);
    }
    next.boxes.push([...x, ...x]);
    next.lastMatched.push(next.seen);
  }

  // How unusual this novelty is against the series' own: a one-sided Gaussian tail on the running history.
  const spread = Math.sqrt(state.noveltyVariance);
  const z = (novelty - state.noveltyMean) / Math.max(spread, 0.01);
  let weighed = novelty <= state.noveltyMean ? 0 : novelty * (1 - Math.exp(-Math.max(0, z) / params.zScale));
  if (params.weighing === 1) weighed = novelty;
  if (params.weighing === 2)
    weighed = novelty <= state.noveltyMean ? 0 : novelty * Math.min(1, z / params.zScale);
  if (params.weighing === 3) weighed = novelty <= state.noveltyMean ? 0 : Math.min(1, z / params.zScale);
  const deviation = novelty - state.noveltyMean;
  const w = params.historyWeight;
  next.noveltyMean = state.noveltyMean + w * deviation;
  next.noveltyVariance = (1 - w) * (state.noveltyVariance + w * deviation * deviation);

  // An episode reports once, at its onset: a sample scores only if it beats every one of the last `hold`.
  next.sincePeak = state.sincePeak + 1;
  if (next.sincePeak > params.hold) next.peak = 0;
  let score = 0;
  if (weighed > next.peak) {
    if (next.seen > params.probation) score = weighed;
    next.peak = weighed;
    next.sincePeak = 0;
  }
  return { state: next, reading: { novelty, score } };
}

/** L∞ distance from `x` to the box (0 inside it). */
function outside(box: readonly number[], x: readonly number[]): number {
  let d = 0;
  for (let f = 0; f < FEATURES; f++) {
    const v = x[f]!;
    const lo = box[f]!;
    const hi = box[FEATURES + f]!;
    d = Math.max(d, lo - v, v - hi);
  }
  return d;
}

function fitsAfterGrowing(box: readonly number[], x: readonly number[], largest: number): boolean {
  for (let f = 0; f < FEATURES; f++) {
    const v = x[f]!;
    if (Math.max(box[FEATURES + f]!, v) - Math.min(box[f]!, v) > largest) return false;
  }
  return true;
}

function grow(box: number[], x: readonly number[]): void {
  for (let f = 0; f < FEATURES; f++) {
    box[f] = Math.min(box[f]!, x[f]!);
    box[FEATURES + f] = Math.max(box[FEATURES + f]!, x[f]!);
  }
}
