import type { WindowSummary } from '../../shared/contracts/index.js';
import { linearTrend } from './trend.js';

const round = (value: number) => Math.round(value * 1e4) / 1e4;

/** A few numbers a planner (or a person) can read instead of the raw window. */
export function summariseWindow(
  window: ArrayLike<number>,
  lastAt: number,
  stepSeconds: number,
): WindowSummary {
  const n = window.length;
  let sum = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    const v = window[i]!;
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const mean = sum / n;
  const slopePerStep = linearTrend(window).slope;
  return {
    samples: n,
    firstAt: lastAt - (n - 1) * stepSeconds,
    lastAt,
    last: round(window[n - 1]!),
    mean: round(mean),
    min: round(min),
    max: round(max),
    slopePerMinute: round((slopePerStep * 60) / stepSeconds),
  };
}
