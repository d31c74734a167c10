/**
 * The least-squares line through a window against the sample index: its value at the window's middle (the mean)
 * and its slope per sample, so the trend at index `i` is `mean + slope * (i - (n - 1) / 2)`.
 */
export function linearTrend(window: ArrayLike<number>): { mean: number; slope: number } {
  const n = window.length;
  const meanIndex = (n - 1) / 2;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += window[i]!;
  mean /= n;
  let covariance = 0;
  let variance = 0;
  for (let i = 0; i < n; i++) {
    covariance += (i - meanIndex) * (window[i]! - mean);
    variance += (i - meanIndex) ** 2;
  }
  return { mean, slope: variance > 0 ? covariance / variance : 0 };
}
