import { firingStarts } from './detectors/alert-rule.js';
import type { PodSeries } from './generator.js';
import { type DetectorFigures, judgeSeries, summarise } from './metrics.js';

/**
 * One threshold for a score-based detector over the whole suite, chosen on a separate calibration suite (another
 * seed): the threshold with the best recall whose false incidents on benign series stay within
 * `budgetPer100PodDays` (ties go to the higher threshold). No per-series tuning.
 */
export interface Calibration {
  threshold: number;
  figures: DetectorFigures;
}

/** Coarse over the bulk of the score range, fine near 1 where anomaly scores of online detectors crowd. */
export const CANDIDATE_THRESHOLDS = [
  ...Array.from({ length: 65 }, (_, k) => Number((0.3 + k * 0.01).toFixed(2))),
  ...Array.from({ length: 50 }, (_, k) => Number((0.95 + k * 0.001).toFixed(3))),
];

export function alertsAtThreshold(
  series: PodSeries,
  scores: ArrayLike<number>,
  threshold: number,
  forSeconds: number,
): number[] {
  const holds = Array.from(scores, (score) => score >= threshold);
  return firingStarts(holds, timesOf(series), forSeconds);
}

export function calibrateThreshold(
  suite: readonly PodSeries[],
  scores: ReadonlyMap<string, ArrayLike<number>>,
  budgetPer100PodDays: number,
  forSeconds: number,
): Calibration {
  let best: Calibration | null = null;
  for (const threshold of CANDIDATE_THRESHOLDS) {
    const figures = figuresAt(suite, scores, threshold, forSeconds);
    if (figures.false_incidents_per_100_pod_days > budgetPer100PodDays) continue;
    if (best === null || figures.recall >= best.figures.recall) best = { threshold, figures };
  }
  if (best === null) throw new Error(`no threshold keeps false incidents within ${budgetPer100PodDays}`);
  return best;
}

/**
 * The detector at the highest threshold whose recall reaches `targetRecall` on `suite`, or, if none does, at the
 * threshold of its best recall: "what does it cost this detector to find as much as the other one?". The
 * threshold is chosen on the suite it is reported on, which favours the detector.
 */
export function matchRecall(
  suite: readonly PodSeries[],
  scores: ReadonlyMap<string, ArrayLike<number>>,
  targetRecall: number,
  forSeconds: number,
): Calibration {
  let best: Calibration | null = null;
  for (const threshold of [...CANDIDATE_THRESHOLDS].reverse()) {
    const figures = figuresAt(suite, scores, threshold, forSeconds);
    if (figures.recall >= targetRecall) return { threshold, figures };
    if (best === null || figures.recall > best.figures.recall) best = { threshold, figures };
  }
  return best!;
}

function figuresAt(
  suite: readonly PodSeries[],
  scores: ReadonlyMap<string, ArrayLike<number>>,
  threshold: number,
  forSeconds: number,
): DetectorFigures {
  const verdicts = suite.map((s) =>
    judgeSeries(s, alertsAtThreshold(s, scores.get(s.id)!, threshold, forSeconds)),
  );
  return summarise(suite, verdicts);
}

export function timesOf(series: PodSeries): Float64Array {
  return Float64Array.from(series.values, (_, i) => series.startAt + i * series.stepSeconds);
}
