/**
 * Unusual behaviour: an online novelty detector per series, independent of limits. It learns which short shapes
 * the series makes (its newest value and the means of its newest 2, 4, … 32 samples: a Haar pyramid of the recent
 * window) as a bounded set of categories,
 * hyperboxes in feature space in the manner of fuzzy adaptive resonance (Carpenter, Grossberg & Rosen 1991:
 * complement-coded boxes that grow to take in what they match, up to a size the vigilance allows, and a new
 * category for whatever no box can take in), and calls a sample unusual when its shape lies outside every box it
 * has learnt. How far outside, relative to the series' range, is the raw novelty.
 *
 * A coarse layer does the same over block means (16 samples a block, 16 blocks: the series' shape over hours to
 * a day), and a sample's novelty is the higher of the two layers' once the coarse one has history.
 *
 * Raw novelty is then weighed against the series' own recent history of novelty, as HTM's anomaly likelihood
 * does (Ahmad et al. 2017): a series that is always a little novel (noisy) raises its own bar, so a score means
 * "unlike this series", not "noisy". The first `probation` samples only learn, and an episode reports once, at
 * its onset.
 *
 * Features are kept in the series' own units, and distances are divided by the span of the range the detector
 * knows, so a range that widens as values are seen (streaming) or a range told up front (NAB's min/max) use the
 * same boxes. Everything is deterministic and the state is bounded (unusual.test.ts holds it under 16 KB).
 */

export interface UnusualParams {
  /** Samples behind a feature vector (the newest included): a power of two. */
  span: number;
  /** The largest a box may grow along any feature, as a share of the range's span (the vigilance). */
  vigilance: number;
  /** The most categories a series keeps; the least recently matched is evicted first. */
  maxCategories: number;
  /** Samples that only learn, never score. */
  probation: number;
  /** Novelty (distance outside the nearest box, in spans) that counts as full novelty before weighing. */
  fullNovelty: number;
  /** Memory of the running mean and spread of novelty (about 1/weight samples). */
  historyWeight: number;
  /** How long a reported sample silences weaker ones (one report per episode). */
  hold: number;
  /** The coarse layer: samples per block, blocks behind its features, and its most categories. */
  block: number;
  coarseSpan: number;
  coarseMaxCategories: number;
}

/**
 * Chosen among about eighty variants on the even-numbered files of the NAB corpus (test/bench/nab/tune.ts) and
 * checked on the odd-numbered ones; models/README.md has both halves' scores.
 */
export const DEFAULT_UNUSUAL_PARAMS: UnusualParams = {
  span: 32,
  vigilance: 0.3,
  maxCategories: 32,
  probation: 100,
  fullNovelty: 0.05,
  historyWeight: 0.001,
  hold: 120,
  block: 16,
  coarseSpan: 16,
  coarseMaxCategories: 16,
};

/** How strongly novelty above the series' usual novelty counts: 1 − e^(−z / Z_SCALE). */
const Z_SCALE = 3;

export interface UnusualState {
  /** Samples observed. */
  seen: number;
  /** The range distances are measured against; `told` when it was given rather than observed. */
  low: number;
  high: number;
  told: boolean;
  /** Per category, the lower then the upper box edge of every feature, in the series' units. */
  boxes: number[][];
  /** Per category, the sample count at which it last matched. */
  lastMatched: number[];
  /** The coarse layer: the current block's sum and count, the newest block means, and their categories. */
  blockSum: number;
  blockCount: number;
  blocks: number[];
  coarseBoxes: number[][];
  coarseLastMatched: number[];
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
    blockSum: 0,
    blockCount: 0,
    blocks: [],
    coarseBoxes: [],
    coarseLastMatched: [],
    noveltyMean: 0,
    noveltyVariance: 0,
    peak: 0,
    sincePeak: 0,
  };
}

/**
 * The feature vector of the window ending at `end`: the means of its newest 1, 2, 4, … `span` samples (Haar
 * approximation coefficients at every scale, newest first), so a box says "this level, reached this way". A window
 * shorter than the span repeats its first sample.
 */
export function featuresOf(values: ArrayLike<number>, end: number, span: number): number[] {
  const out: number[] = [];
  let sum = 0;
  let k = 0;
  for (let width = 1; width <= span; width *= 2) {
    for (; k < width; k++) sum += values[Math.max(0, end - k)]!;
    out.push(sum / width);
  }
  return out;
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
  // The coarse layer's arrays are copied only when a block completes.
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

  let novelty = matchAndLearn(
    next.boxes,
    next.lastMatched,
    x,
    scale,
    params.maxCategories,
    next.seen,
    params,
  );

  // The coarse layer sees the same series in blocks of `block` samples, so its features span `block × coarseSpan`
  // samples (most of a day at NAB's 5-minute step): a familiar short shape at an unfamiliar place in a longer one.
  next.blockSum = state.blockSum + value;
  next.blockCount = state.blockCount + 1;
  if (next.blockCount >= params.block) {
    next.blocks = [...state.blocks, next.blockSum / next.blockCount].slice(-params.coarseSpan);
    next.blockSum = 0;
    next.blockCount = 0;
    const blocks = next.blocks;
    const coarse = featuresOf(blocks, blocks.length - 1, params.coarseSpan);
    next.coarseBoxes = state.coarseBoxes.map((b) => b.slice());
    next.coarseLastMatched = state.coarseLastMatched.slice();
    const coarseNovelty = matchAndLearn(
      next.coarseBoxes,
      next.coarseLastMatched,
      coarse,
      scale,
      params.coarseMaxCategories,
      next.seen,
      params,
    );
    // It speaks once its blocks reach back a quarter of its span past probation.
    if (next.seen > params.probation + (params.block * params.coarseSpan) / 4)
      novelty = Math.max(novelty, coarseNovelty);
  }

  // How unusual this novelty is against the series' own: a one-sided Gaussian tail on the running history.
  const spread = Math.sqrt(state.noveltyVariance);
  const z = (novelty - state.noveltyMean) / Math.max(spread, 0.01);
  const weighed = novelty <= state.noveltyMean ? 0 : novelty * (1 - Math.exp(-Math.max(0, z) / Z_SCALE));
  const deviation = novelty - state.noveltyMean;
  // During probation the first categories form and everything is novel: that says nothing about how novel the
  // series usually is, so the history starts after it.
  const w = next.seen > params.probation ? params.historyWeight : 0;
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

/**
 * How far `x` lies outside the nearest of `boxes` (as a share of `scale`, full at `fullNovelty`), then learning
 * it: the nearest box grows to take it in if it stays within the vigilance, else a new category starts, evicting
 * the least recently matched at `maxCategories`. `boxes` and `lastMatched` are updated in place.
 */
function matchAndLearn(
  boxes: number[][],
  lastMatched: number[],
  x: number[],
  scale: number,
  maxCategories: number,
  seen: number,
  params: UnusualParams,
): number {
  let nearest = -1;
  let nearestDistance = Number.POSITIVE_INFINITY;
  for (let c = 0; c < boxes.length; c++) {
    const d = outside(boxes[c]!, x) / scale;
    if (d < nearestDistance) {
      nearestDistance = d;
      nearest = c;
    }
  }
  const novelty = nearest < 0 ? 1 : Math.min(1, nearestDistance / params.fullNovelty);
  if (nearest >= 0 && fitsAfterGrowing(boxes[nearest]!, x, params.vigilance * scale)) {
    grow(boxes[nearest]!, x);
    lastMatched[nearest] = seen;
  } else {
    if (boxes.length >= maxCategories) {
      let stalest = 0;
      for (let c = 1; c < lastMatched.length; c++) if (lastMatched[c]! < lastMatched[stalest]!) stalest = c;
      boxes.splice(stalest, 1);
      lastMatched.splice(stalest, 1);
    }
    boxes.push([...x, ...x]);
    lastMatched.push(seen);
  }
  return novelty;
}

/** L∞ distance from `x` to the box (0 inside it). */
function outside(box: readonly number[], x: readonly number[]): number {
  let d = 0;
  const n = x.length;
  for (let f = 0; f < n; f++) {
    const v = x[f]!;
    const lo = box[f]!;
    const hi = box[n + f]!;
    d = Math.max(d, lo - v, v - hi);
  }
  return d;
}

function fitsAfterGrowing(box: readonly number[], x: readonly number[], largest: number): boolean {
  const n = x.length;
  for (let f = 0; f < n; f++) {
    const v = x[f]!;
    if (Math.max(box[n + f]!, v) - Math.min(box[f]!, v) > largest) return false;
  }
  return true;
}

function grow(box: number[], x: readonly number[]): void {
  const n = x.length;
  for (let f = 0; f < n; f++) {
    box[f] = Math.min(box[f]!, x[f]!);
    box[n + f] = Math.max(box[n + f]!, x[f]!);
  }
}
