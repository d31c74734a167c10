/**
 * Classifier features of one window of limit-normalised usage (1.0 = at the pod's limit).
 *
 * Exact port of models/kubepulse_models/features.py (the definitions and their docs live there); the
 * feature order must equal `classifier.features` in models/dist/metadata.json, which features.test.ts
 * checks together with the Python values of every test vector. Change both files together.
 *
 * Hot path (some 400k windows/s): no allocation per call. Module-level scratch buffers, and the previous window with
 * its sorted differences, are reused and only grow when a longer window than ever before is seen. Not re-entrant
 * across threads (each worker has its own module instance, so that is fine).
 */

export const FEATURE_NAMES: readonly string[] = Object.freeze([
  'last',
  'mean',
  'std',
  'min',
  'max',
  'slope_window',
  'r2',
  'resid_std',
  'z_last',
  'z_last_resid',
  'noise',
  'max_jump_z',
  'last_jump_z',
  'jump_age',
  'big_drop_count',
  'recent_slope',
  'recent_std',
  'recent_shift_z',
  'frac_near_limit',
]);

export const FEATURE_COUNT = FEATURE_NAMES.length;

const SCALE_FLOOR = 1e-3;
const R2_EPS = 1e-9;
const MAD_TO_STD = 1.4826;
const BIG_DROP = 0.1;
const RECENT = 16;
const SHIFT_TAIL = 8;
const NEAR_LIMIT = 0.95;
const MIN_WINDOW = Math.max(RECENT, SHIFT_TAIL + 2);

let diffs = new Float64Array(128);
let scratch = new Float64Array(128);

/**
 * The previous window and, when `sortedValid`, its one-step differences in ascending order. The scorer sees a
 * series' windows one step apart, one after another; such a window's differences are the previous ones less the
 * oldest plus the newest, so both medians come from a sorted array kept up to date in O(m) moves instead of two
 * selections with unpredictable branches (most of the cost of this function on real, noisy windows). Any window
 * is compared value by value with the previous one, so the result never depends on what the caller did between.
 */
let previous = new Float64Array(128);
let previousLength = 0;
let sorted = new Float64Array(0);
let sortedValid = false;

/** k-th smallest of a[0..m) (0-based), partially reordering a[0..m) in place (Hoare quickselect). */
function select(a: Float64Array, m: number, k: number): number {
  let lo = 0;
  let hi = m - 1;
  while (hi > lo) {
    const x = a[lo]!;
    const y = a[(lo + hi) >>> 1]!;
    const z = a[hi]!;
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k]!;
  }
  return a[k]!;
}

/** numpy.median of a[0..m): middle element, or the mean of the two middle elements for even m. */
function median(a: Float64Array, m: number): number {
  const k = m >>> 1;
  const upper = select(a, m, k);
  if (m & 1) return upper;
  let lower = a[0]!;
  for (let i = 1; i < k; i++) if (a[i]! > lower) lower = a[i]!;
  return (lower + upper) / 2;
}

/** Whether `window` is the previous window moved on by one sample. */
function followsPrevious(window: ArrayLike<number>, n: number): boolean {
  if (previousLength !== n) return false;
  for (let i = 0; i < n - 1; i++) if (window[i]! !== previous[i + 1]!) return false;
  return true;
}

/** Index of the first element of sorted[0..m) not below `value`. */
function lowerBound(value: number, m: number): number {
  let lo = 0;
  let hi = m;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Replaces one `leaving` in sorted[0..m) by `entering`, keeping it sorted; false if `leaving` is not there. */
function slideSorted(leaving: number, entering: number, m: number): boolean {
  if (Number.isNaN(entering)) return false;
  const out = lowerBound(leaving, m);
  if (out >= m || sorted[out] !== leaving) return false;
  sorted.copyWithin(out, out + 1, m);
  const at = lowerBound(entering, m - 1);
  sorted.copyWithin(at + 1, at, m - 1);
  sorted[at] = entering;
  return true;
}

/** numpy.median of sorted[0..m). */
function sortedMedian(m: number): number {
  const k = m >>> 1;
  return m & 1 ? sorted[k]! : (sorted[k - 1]! + sorted[k]!) / 2;
}

/**
 * numpy.median of |sorted[i] - centre| over [0..m), centre being the median of sorted[0..m). The deviations run in
 * ascending order from the middle downwards and from the middle upwards, so a merge of the two runs up to the
 * middle finds their median.
 */
function sortedMedianDeviation(m: number, centre: number): number {
  const k = m >>> 1;
  let below = k - 1;
  let above = k;
  let previousDeviation = 0;
  let deviation = 0;
  for (let taken = 0; taken <= k; taken++) {
    previousDeviation = deviation;
    const low = below >= 0 ? Math.abs(sorted[below]! - centre) : Number.POSITIVE_INFINITY;
    const high = above < m ? Math.abs(sorted[above]! - centre) : Number.POSITIVE_INFINITY;
    if (low <= high) {
      deviation = low;
      below--;
    } else {
      deviation = high;
      above++;
    }
  }
  return m & 1 ? deviation : (previousDeviation + deviation) / 2;
}

/**
 * Brings the sorted differences up to date for `window` when it follows the previous window, and remembers
 * `window` for the next call. True when sorted[0..m) then holds the differences of `window` in ascending order.
 */
function slideSortedDiffs(window: ArrayLike<number>, n: number, m: number): boolean {
  if (followsPrevious(window, n)) {
    if (!sortedValid) {
      if (sorted.length !== m) sorted = new Float64Array(m);
      for (let i = 0; i < m; i++) sorted[i] = previous[i + 1]! - previous[i]!;
      sorted.sort();
    }
    sortedValid = slideSorted(previous[1]! - previous[0]!, diffs[m - 1]!, m);
  } else {
    sortedValid = false;
  }
  if (previous.length < n) previous = new Float64Array(n);
  for (let i = 0; i < n; i++) previous[i] = window[i]!;
  previousLength = n;
  return sortedValid;
}

/** Where each group of features starts in FEATURE_NAMES; each group writes its features in that order. */
const LINE_AT = FEATURE_NAMES.indexOf('last');
const JUMPS_AT = FEATURE_NAMES.indexOf('noise');
const RECENT_AT = FEATURE_NAMES.indexOf('recent_slope');
const SHIFT_AT = FEATURE_NAMES.indexOf('recent_shift_z');
const NEAR_LIMIT_AT = FEATURE_NAMES.indexOf('frac_near_limit');

/**
 * Writes FEATURE_COUNT float32 features of `window` (oldest sample first, length >= 16) into
 * `out[offset .. offset + FEATURE_COUNT)`.
 */
export function extractFeatures(window: ArrayLike<number>, out: Float32Array, offset: number): void {
  const n = window.length;
  if (n < MIN_WINDOW) throw new RangeError(`window needs at least ${MIN_WINDOW} samples, got ${n}`);
  if (offset < 0 || offset + FEATURE_COUNT > out.length) {
    throw new RangeError(`out[${offset}..${offset + FEATURE_COUNT}) is outside an array of ${out.length}`);
  }
  const m = n - 1;
  if (diffs.length < m) {
    diffs = new Float64Array(m);
    scratch = new Float64Array(m);
  }
  writeLineFeatures(window, n, out, offset);
  writeJumpFeatures(window, n, m, out, offset);
  writeRecentFeatures(window, n, out, offset);
  writeShiftFeature(window, n, out, offset);
}

/** Whole-window statistics and the least-squares line: last … z_last_resid, and frac_near_limit. */
function writeLineFeatures(window: ArrayLike<number>, n: number, out: Float32Array, offset: number): void {
  const last = window[n - 1]!;
  let sum = 0;
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  let nearLimit = 0;
  for (let i = 0; i < n; i++) {
    const v = window[i]!;
    sum += v;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
    if (v >= NEAR_LIMIT) nearLimit++;
  }
  const mean = sum / n;
  const tm = (n - 1) / 2;
  let stt = 0;
  let sxt = 0;
  let ssTot = 0;
  for (let i = 0; i < n; i++) {
    const t = i - tm;
    const xc = window[i]! - mean;
    stt += t * t;
    sxt += t * xc;
    ssTot += xc * xc;
  }
  const slope = sxt / stt;
  let ssRes = 0;
  let lastResid = 0;
  for (let i = 0; i < n; i++) {
    const r = window[i]! - mean - slope * (i - tm);
    ssRes += r * r;
    lastResid = r;
  }
  const std = Math.sqrt(ssTot / n);
  const residStd = Math.sqrt(ssRes / n);
  const r2raw = (ssTot - ssRes) / (ssTot + R2_EPS);
  const r2 = r2raw < 0 ? 0 : r2raw > 1 ? 1 : r2raw;

  let o = offset + LINE_AT;
  out[o++] = last;
  out[o++] = mean;
  out[o++] = std;
  out[o++] = lo;
  out[o++] = hi;
  out[o++] = slope * (n - 1);
  out[o++] = r2;
  out[o++] = residStd;
  out[o++] = (last - mean) / (std + SCALE_FLOOR);
  out[o] = lastResid / (residStd + SCALE_FLOOR);
  out[offset + NEAR_LIMIT_AT] = nearLimit / n;
}

/** One-step differences, m = n - 1 of them: robust scale, largest jump, big drops (noise … big_drop_count). */
function writeJumpFeatures(
  window: ArrayLike<number>,
  n: number,
  m: number,
  out: Float32Array,
  offset: number,
): void {
  let bigDrops = 0;
  for (let i = 0; i < m; i++) {
    const d = window[i + 1]! - window[i]!;
    diffs[i] = d;
    scratch[i] = d;
    if (d < -BIG_DROP) bigDrops++;
  }
  const fromSorted = slideSortedDiffs(window, n, m);
  const dMed = fromSorted ? sortedMedian(m) : median(scratch, m);
  let maxDev = -1;
  let argMax = 0;
  for (let i = 0; i < m; i++) {
    const dev = Math.abs(diffs[i]! - dMed);
    scratch[i] = dev;
    if (dev > maxDev) {
      maxDev = dev;
      argMax = i;
    }
  }
  const noise = MAD_TO_STD * (fromSorted ? sortedMedianDeviation(m, dMed) : median(scratch, m));

  let o = offset + JUMPS_AT;
  out[o++] = noise;
  out[o++] = maxDev / (noise + SCALE_FLOOR);
  out[o++] = (diffs[m - 1]! - dMed) / (noise + SCALE_FLOOR);
  out[o++] = n - 2 - argMax;
  out[o] = bigDrops;
}

/** The last RECENT samples: line fit and spread (recent_slope, recent_std). */
function writeRecentFeatures(window: ArrayLike<number>, n: number, out: Float32Array, offset: number): void {
  const r0 = n - RECENT;
  let rSum = 0;
  for (let i = r0; i < n; i++) rSum += window[i]!;
  const rMean = rSum / RECENT;
  const rtm = (RECENT - 1) / 2;
  let rStt = 0;
  let rSxt = 0;
  let rSs = 0;
  for (let i = r0; i < n; i++) {
    const t = i - r0 - rtm;
    const xc = window[i]! - rMean;
    rStt += t * t;
    rSxt += t * xc;
    rSs += xc * xc;
  }
  out[offset + RECENT_AT] = (rSxt / rStt) * (RECENT - 1);
  out[offset + RECENT_AT + 1] = Math.sqrt(rSs / RECENT);
}

/** Level of the last SHIFT_TAIL samples against the rest (recent_shift_z). */
function writeShiftFeature(window: ArrayLike<number>, n: number, out: Float32Array, offset: number): void {
  const h = n - SHIFT_TAIL;
  let hSum = 0;
  for (let i = 0; i < h; i++) hSum += window[i]!;
  const hMean = hSum / h;
  let hSs = 0;
  for (let i = 0; i < h; i++) {
    const hc = window[i]! - hMean;
    hSs += hc * hc;
  }
  let tSum = 0;
  for (let i = h; i < n; i++) tSum += window[i]!;
  out[offset + SHIFT_AT] = (tSum / SHIFT_TAIL - hMean) / (Math.sqrt(hSs / h) + SCALE_FLOOR);
}
