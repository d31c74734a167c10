// NAB v1.1 scoring, as pure functions over row indices (no I/O; see corpus.ts for loading).
//
// Where NAB's README leaves room, this follows NAB's own code (numenta/NAB, read not copied):
// - nab/sweeper.py `calcSweepScore`: each row's weight depends only on row indices. A window covers rows
//   L..R (found by timestamp, first match); inside it `ss(-(R - i + 1) / W) * A_TP / maxTP`; outside and
//   before any window has ended, exactly -1 * A_FP (not ss(3)); after a window, `ss(|R' - i| / (W' - 1))`
//   with R', W' those of the most recently ended window, whether or not that window was in probation.
// - sweeper.py `scaledSigmoid`: -1 only when the position is strictly greater than 3.
// - sweeper.py `_getProbationaryLength`: `min(floor(0.15 * N), 0.15 * 5000)`; rows with index below it are
//   dropped before scoring, so a window counts (as a detection or as -A_FN) only through its scored rows.
// - sweeper.py `calcScoreByThreshold`: rows sorted by score, descending; a total is recorded each time the
//   score changes, so the total at threshold θ covers exactly the rows with score >= θ, and 1.1 (nothing
//   detected) is the first candidate. A window keeps the max weight among its detected rows.
// - nab/optimizer.py `optimizeThreshold` (v1.1): all files' rows go into one sweep and the best total wins;
//   its sort by total is stable, so among equal totals the highest threshold is kept.
// - sweeper.py `scoreDataSet` + nab/scorer.py `scoreCorpus`: the reported score is the sum, over files, of
//   each file scored at that one threshold; `scoreFile` is that per-file score.
// - nab/runner.py `normalize`: perfect = A_TP * (number of labelled windows); the baseline is the null
//   detector's total, which is -A_FN * (number of windows) whenever every window has a scored row.

/** One profile's weights (NAB's `CostMatrix`; `tnWeight` is never used by the scorer). */
export interface CostMatrix {
  readonly tpWeight: number;
  readonly fpWeight: number;
  readonly fnWeight: number;
}

/** An anomaly window as inclusive row indices into its file. */
export interface RowWindow {
  readonly first: number;
  readonly last: number;
}

/** One file's detector output together with its labelled windows (sorted, disjoint). */
export interface ScoredSeries {
  readonly name: string;
  readonly scores: ArrayLike<number>;
  readonly windows: readonly RowWindow[];
}

/** The profile-independent part of each row's weight, computed once per file. */
export interface RowLayout {
  /** Rows with index below this are not scored. */
  readonly probation: number;
  /** Index into the file's windows, or -1 for a row outside every window. */
  readonly windowOf: Int32Array;
  /** Inside a window: ss(position) / maxTP, to be scaled by A_TP. Outside: ss(distance), scaled by A_FP. */
  readonly unitWeight: Float64Array;
  /** Per window: does it have at least one scored row? Only those count as a detection or a miss. */
  readonly windowScored: readonly boolean[];
}

export interface FileScore {
  readonly score: number;
  readonly detectedWindows: number;
  readonly missedWindows: number;
  readonly falsePositives: number;
}

export interface SweepResult {
  /** Detections are scored rows with score >= threshold; 1.1 means nothing is detected. */
  readonly threshold: number;
  /** The best corpus total (NAB's raw score S). */
  readonly score: number;
  /** How many thresholds were compared: 1.1 plus every distinct score among scored rows. */
  readonly candidates: number;
}

/** Rows of every file, sorted once so that any number of profiles can be swept without re-sorting. */
export interface SweepTable {
  readonly scores: Float64Array;
  readonly unitWeight: Float64Array;
  /** Corpus-wide window id, or -1 outside windows. */
  readonly window: Int32Array;
  /** Corpus-wide window ids that have scored rows; the others never contribute. */
  readonly scoredWindows: readonly number[];
  readonly windowCount: number;
}

/** The threshold that detects nothing; scores are in [0, 1], so every row falls below it. */
export const NO_DETECTION_THRESHOLD = 1.1;

/** NAB's scaled sigmoid: +0.98661 at the left edge of a window (-1), 0 at its right edge, -1 far after. */
export function scaledSigmoid(y: number): number {
  return y > 3 ? -1 : 2 / (1 + Math.exp(5 * y)) - 1;
}

/** Normalises in-window weights so that the earliest possible detection is worth exactly A_TP. */
export const MAX_TP = scaledSigmoid(-1);

/**
 * The first rows of a file let a detector learn, so they are not scored. The 0.15 * N product is the same
 * IEEE double as Python's, so the floor agrees with NAB's for every N; 0.15 * 5000 is exactly 750.
 */
export function probationLength(rowCount: number): number {
  return Math.min(Math.floor(0.15 * rowCount), 750);
}

export function rowLayout(rowCount: number, windows: readonly RowWindow[]): RowLayout {
  let prevEnd = -1;
  for (const w of windows) {
    if (!Number.isInteger(w.first) || !Number.isInteger(w.last) || w.first > w.last) {
      throw new Error(`window [${w.first}, ${w.last}] is not a row range`);
    }
    if (w.first <= prevEnd || w.last >= rowCount) {
      throw new Error(`windows must be sorted, disjoint and inside the file's ${rowCount} rows`);
    }
    prevEnd = w.last;
  }

  const probation = probationLength(rowCount);
  const windowOf = new Int32Array(rowCount).fill(-1);
  const unitWeight = new Float64Array(rowCount);
  let next = 0;
  let current = -1;
  let lastEnded = -1;
  for (let i = 0; i < rowCount; i++) {
    if (current < 0 && next < windows.length && windows[next]!.first === i) current = next++;
    if (current >= 0) {
      const w = windows[current]!;
      windowOf[i] = current;
      unitWeight[i] = scaledSigmoid(-(w.last - i + 1) / (w.last - w.first + 1)) / MAX_TP;
      if (i === w.last) {
        lastEnded = current;
        current = -1;
      }
    } else if (lastEnded < 0) {
      unitWeight[i] = -1;
    } else {
      const w = windows[lastEnded]!;
      // NAB divides by W' - 1 and raises ZeroDivisionError here; refuse rather than invent a weight.
      if (w.first === w.last) throw new Error(`a one-row window at row ${w.first} has rows after it`);
      unitWeight[i] = scaledSigmoid(Math.abs(w.last - i) / (w.last - w.first));
    }
  }
  return { probation, windowOf, unitWeight, windowScored: windows.map((w) => w.last >= probation) };
}

/**
 * Scores one file at one threshold, directly from the rules: each window is worth its earliest detection
 * (the weight falls through the window, so earliest is also NAB's max) or -A_FN; each detection outside a
 * window adds its own (negative) weight.
 */
export function scoreFile(series: ScoredSeries, cost: CostMatrix, threshold: number): FileScore {
  const n = series.scores.length;
  const layout = rowLayout(n, series.windows);
  const earliest: (number | undefined)[] = series.windows.map(() => undefined);
  let fpTotal = 0;
  let falsePositives = 0;
  for (let i = layout.probation; i < n; i++) {
    if (!(series.scores[i]! >= threshold)) continue;
    const w = layout.windowOf[i]!;
    if (w < 0) {
      fpTotal += layout.unitWeight[i]! * cost.fpWeight;
      falsePositives++;
    } else if (earliest[w] === undefined) {
      earliest[w] = layout.unitWeight[i]! * cost.tpWeight;
    }
  }
  let windowTotal = 0;
  let detectedWindows = 0;
  let missedWindows = 0;
  earliest.forEach((weight, w) => {
    if (!layout.windowScored[w]) return;
    if (weight === undefined) {
      windowTotal -= cost.fnWeight;
      missedWindows++;
    } else {
      windowTotal += weight;
      detectedWindows++;
    }
  });
  return { score: windowTotal + fpTotal, detectedWindows, missedWindows, falsePositives };
}

/** The corpus total at one threshold: what NAB reports for a detector and profile once θ is chosen. */
export function scoreCorpus(series: readonly ScoredSeries[], cost: CostMatrix, threshold: number): number {
  let total = 0;
  for (const s of series) total += scoreFile(s, cost, threshold).score;
  return total;
}

/** Gathers every scored row of the corpus and sorts them by score, descending, once. */
export function prepareSweep(series: readonly ScoredSeries[]): SweepTable {
  const rowScores: number[] = [];
  const rowUnit: number[] = [];
  const rowWindow: number[] = [];
  const scoredWindows: number[] = [];
  let windowBase = 0;
  for (const s of series) {
    const n = s.scores.length;
    const layout = rowLayout(n, s.windows);
    for (let i = layout.probation; i < n; i++) {
      const score = s.scores[i]!;
      if (!(score >= 0 && score <= 1))
        throw new Error(`${s.name}: row ${i} has score ${score}, not in [0, 1]`);
      const w = layout.windowOf[i]!;
      rowScores.push(score);
      rowUnit.push(layout.unitWeight[i]!);
      rowWindow.push(w < 0 ? -1 : windowBase + w);
    }
    layout.windowScored.forEach((scored, w) => {
      if (scored) scoredWindows.push(windowBase + w);
    });
    windowBase += s.windows.length;
  }

  const order = new Uint32Array(rowScores.length);
  for (let k = 0; k < order.length; k++) order[k] = k;
  order.sort((a, b) => rowScores[b]! - rowScores[a]!);
  const scores = new Float64Array(order.length);
  const unitWeight = new Float64Array(order.length);
  const window = new Int32Array(order.length);
  order.forEach((row, k) => {
    scores[k] = rowScores[row]!;
    unitWeight[k] = rowUnit[row]!;
    window[k] = rowWindow[row]!;
  });
  return { scores, unitWeight, window, scoredWindows, windowCount: windowBase };
}

/**
 * Finds the corpus-wide threshold with the best total in one pass over the sorted rows. Lowering the
 * threshold to the next distinct score only adds detections, so the total changes by exactly what those
 * rows add: an FP's weight, or for a window the gain over its current best (its earliest detection so far).
 */
export function optimiseThreshold(table: SweepTable, cost: CostMatrix): SweepResult {
  const best = new Float64Array(table.windowCount);
  const detected = new Uint8Array(table.windowCount);
  let windowTotal = -cost.fnWeight * table.scoredWindows.length;
  let fpTotal = 0;
  let bestScore = windowTotal;
  let bestThreshold = NO_DETECTION_THRESHOLD;
  let candidates = 1;
  const n = table.scores.length;
  let k = 0;
  while (k < n) {
    const threshold = table.scores[k]!;
    for (; k < n && table.scores[k] === threshold; k++) {
      const w = table.window[k]!;
      if (w < 0) {
        fpTotal += table.unitWeight[k]! * cost.fpWeight;
        continue;
      }
      const weight = table.unitWeight[k]! * cost.tpWeight;
      if (!detected[w]) {
        windowTotal += weight + cost.fnWeight;
        best[w] = weight;
        detected[w] = 1;
      } else if (weight > best[w]!) {
        windowTotal += weight - best[w]!;
        best[w] = weight;
      }
    }
    candidates++;
    // Strictly greater: among equal totals NAB keeps the first, i.e. the highest threshold.
    if (windowTotal + fpTotal > bestScore) {
      bestScore = windowTotal + fpTotal;
      bestThreshold = threshold;
    }
  }
  return { threshold: bestThreshold, score: bestScore, candidates };
}

/** 100 for a perfect detector (every window at its left edge, no FPs), 0 for one that never fires. */
export function normalisedScore(raw: number, cost: CostMatrix, windowCount: number): number {
  const perfect = cost.tpWeight * windowCount;
  const nullScore = -cost.fnWeight * windowCount;
  return (100 * (raw - nullScore)) / (perfect - nullScore);
}
