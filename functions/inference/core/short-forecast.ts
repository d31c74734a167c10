import { linearTrend } from './trend.js';

/**
 * The forecast of a young series, before the models' window fills (64 samples, 32 minutes at 30 s): a straight
 * line through its last `SHORT_FIT` samples (all of them while fewer), from `SHORT_MIN` samples on. Handed over to
 * the models at the first full window.
 *
 * Its uncertainty is honest about how little it has seen: per horizon h (in steps), the band's standard deviation
 * is the larger of the line's own, sqrt(s² (1 + 1/m) + (h · se)²) with s the residual spread of the fit, m its
 * samples and se the slope's standard error, and the models' residual spread at that horizon widened by
 * sqrt(window / n) for n samples seen (a line through ten samples is never surer than the models are on a full
 * window, and whether the series keeps its pace is a doubt no fit statistic measures). It widens with the horizon,
 * narrows as samples come in, and meets the models' band as the window fills.
 *
 * The line only becomes evidence (a forecast breach) when it is a claim worth paging on this early: the limit
 * within `SHORT_ALERT_SECONDS` (a pod's first minutes are a warm-up, and a warm-up's first slope points at the
 * limit more often than not), a slope of at least `SHORT_MIN_T` standard errors, and no deceleration (the slope of
 * the fit's later half at least `SHORT_KEEPS_PACE` of its earlier half's: a warm-up levels off, a leak does not).
 */
export const SHORT_MIN = 10;
export const SHORT_FIT = 24;
export const SHORT_ALERT_SECONDS = 600;
export const SHORT_MIN_T = 4;
export const SHORT_KEEPS_PACE = 0.6;

export interface ShortForecast {
  /** Normalised values at each horizon. */
  forecast: Float32Array;
  /** The band's standard deviation at each horizon. */
  spread: number[];
  /** Whether the line is evidence of a breach within SHORT_ALERT_SECONDS (given `level`), see above. */
  claims: boolean;
}

/**
 * `recent` holds the series' normalised values, oldest first, the row's value last (at least SHORT_MIN of them);
 * `horizons` are in steps; `floor` is the models' residual spread per horizon on a full `window`.
 */
export function shortForecast(
  recent: ArrayLike<number>,
  horizons: readonly number[],
  floor: readonly number[],
  window: number,
  stepSeconds: number,
  level: number,
): ShortForecast {
  const n = recent.length;
  const widen = Math.sqrt(Math.max(1, window / n));
  const m = Math.min(n, SHORT_FIT);
  const fit = Array.from({ length: m }, (_, i) => recent[n - m + i]!);
  const { mean, slope } = linearTrend(fit);
  const meanIndex = (m - 1) / 2;
  let residuals = 0;
  let spreadOfIndex = 0;
  for (let i = 0; i < m; i++) {
    residuals += (fit[i]! - mean - slope * (i - meanIndex)) ** 2;
    spreadOfIndex += (i - meanIndex) ** 2;
  }
  const s = Math.sqrt(residuals / Math.max(1, m - 2));
  const se = s / Math.sqrt(spreadOfIndex);
  const end = mean + slope * (m - 1 - meanIndex);
  const forecast = Float32Array.from(horizons, (h) => end + slope * h);
  const spread = horizons.map((h, k) =>
    Math.max((floor[k] ?? 0) * widen, Math.sqrt(s * s * (1 + 1 / m) + (h * se) ** 2)),
  );
  const half = m >> 1;
  const early = linearTrend(fit.slice(0, half)).slope;
  const late = linearTrend(fit.slice(half)).slope;
  const keepsPace = late >= SHORT_KEEPS_PACE * early;
  const stepsToLevel = slope > 0 ? (level - end) / slope : Number.POSITIVE_INFINITY;
  const claims = slope > SHORT_MIN_T * se && keepsPace && stepsToLevel * stepSeconds <= SHORT_ALERT_SECONDS;
  return { forecast, spread, claims };
}
