/**
 * Classifier features of one window of limit-normalised usage (1.0 = at the pod's limit).
 *
 * Exact port of models/kubepulse_models/features.py (the definitions and their docs live there); the
 * feature order must equal `classifier.features` in models/dist/metadata.json, which features.test.ts
 * checks together with the Python values of every test vector. Change both files together.
 *
 * Hot path (~50k windows/s): no allocation per call. Two module-level scratch buffers are reused and only
 * grow when a longer window than ever before is seen. Not re-entrant across threads (each worker has its
 * own module instance, so that is fine).
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

  // whole-window statistics and the least-squares line
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

  // one-step differences: robust scale, largest jump, big drops
  let bigDrops = 0;
  for (let i = 0; i < m; i++) {
    const d = window[i + 1]! - window[i]!;
    diffs[i] = d;
    scratch[i] = d;
    if (d < -BIG_DROP) bigDrops++;
  }
  const dMed = median(scratch, m);
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
  const noise = MAD_TO_STD * median(scratch, m);

  // the last RECENT samples: line fit and spread
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

  // level of the last SHIFT_TAIL samples against the rest
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

  let o = offset;
  out[o++] = last;
  out[o++] = mean;
  out[o++] = std;
  out[o++] = lo;
  out[o++] = hi;
  out[o++] = slope * (n - 1);
  out[o++] = r2;
  out[o++] = residStd;
  out[o++] = (last - mean) / (std + SCALE_FLOOR);
  out[o++] = lastResid / (residStd + SCALE_FLOOR);
  out[o++] = noise;
  out[o++] = maxDev / (noise + SCALE_FLOOR);
  out[o++] = (diffs[m - 1]! - dMed) / (noise + SCALE_FLOOR);
  out[o++] = n - 2 - argMax;
  out[o++] = bigDrops;
  out[o++] = (rSxt / rStt) * (RECENT - 1);
  out[o++] = Math.sqrt(rSs / RECENT);
  out[o++] = (tSum / SHIFT_TAIL - hMean) / (Math.sqrt(hSs / h) + SCALE_FLOOR);
  out[o] = nearLimit / n;
}
