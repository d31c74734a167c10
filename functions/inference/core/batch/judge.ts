import type { Anomaly, PodInventory, SeriesPrediction } from '../../../shared/contracts/index.js';
import { type IncidentPolicy, type IncidentTransition, observe } from '../hysteresis.js';
import { type GuardReason, inLimitRaiseGrace, observeGuard } from '../limit-guard.js';
import { EXHAUSTION_LEVEL, secondsToLimit, secondsToLimitAtPeaks } from '../normalise.js';
import type { WindowScores } from '../ports.js';
import { incidentIdOf, type PodRef, podRefOf, unusualIncidentIdOf } from '../series-keys.js';
import type { SeriesState } from '../series-state.js';
import { SHORT_MIN, shortForecast } from '../short-forecast.js';
import { observeSurprise, seedSurprise } from '../surprise.js';
import { observeUnusual } from '../unusual/detector.js';
import { type EpisodeTransition, MIN_SAMPLES_TO_OPEN, observeEpisode } from '../unusual/episode.js';
import { initialUnusualSeriesState, type UnusualSeriesState } from '../unusual/state.js';
import type { Batch, ScoredRow } from './context.js';
import { messagesOf, predictionOf, usageAnomaly } from './messages.js';
import type { Rows } from './rows.js';

/** What judging the rows changed: each series' next state, the anomalies it raised, its newest prediction. */
export interface Judgement {
  nextStates: Map<string, SeriesState>;
  newAnomalies: Map<string, Anomaly[]>;
  latest: Map<string, SeriesPrediction>;
}

/** Everything judging one row reads, set up once per batch. */
interface Judging extends Judgement {
  batch: Batch;
  rows: readonly ScoredRow[];
  states: Map<string, SeriesState>;
  windows: Float32Array;
  scores: WindowScores;
  inventory: Map<PodRef, PodInventory | null>;
  width: number;
  horizons: number;
  incidentPolicy: IncidentPolicy;
  horizonsSecondsOf: (stepSeconds: number) => number[];
}

/** What the models say about one row, before the series' history weighs in. */
interface RowEvidence {
  forecast: Float32Array;
  probability: number;
  horizonsSeconds: number[];
  /** When the forecast reaches the limit, null if it does not within the horizon (or there is no limit). */
  toLimit: number | null;
  forecastBreach: boolean;
  classified: boolean;
  /** The forecast band's standard deviation per horizon: the models' residual spread, or the short line's. */
  spread: readonly number[];
}

/** The surprise of a row that has none (a short row: surprise starts with the first full window). */
const NO_SURPRISE = { level: 0, onset: 0 };

/** Hysteresis per series, in time order (rows were built in time order per series). */
export function judgeRows(
  batch: Batch,
  { rows, states, windows }: Rows,
  scores: WindowScores,
  inventory: Map<PodRef, PodInventory | null>,
): Judgement {
  const { metadata, deps } = batch;
  const horizonsByStep = new Map<number, number[]>();
  const judging: Judging = {
    batch,
    rows,
    states,
    windows,
    scores,
    inventory,
    width: metadata.window,
    horizons: metadata.horizons.length,
    incidentPolicy: { ...deps.policy, classifierOpenAfter: metadata.classifier.incident.openAfter },
    horizonsSecondsOf: (stepSeconds) => {
      let horizons = horizonsByStep.get(stepSeconds);
      if (!horizons) {
        horizons = metadata.horizons.map((h) => h * stepSeconds);
        horizonsByStep.set(stepSeconds, horizons);
      }
      return horizons;
    },
    nextStates: new Map(),
    newAnomalies: new Map(),
    latest: new Map(),
  };
  for (let i = 0; i < rows.length; i++) judgeRow(judging, i);
  const { nextStates, newAnomalies, latest } = judging;
  return { nextStates, newAnomalies, latest };
}

/** Where a row is judged: its evidence and surprise, then the series' incident hysteresis. */
function judgeRow(judging: Judging, i: number): void {
  const row = judging.rows[i]!;
  const key = row.series.seriesKey;
  // One working copy per series, updated row by row, rather than a new state per row.
  let state = judging.nextStates.get(key);
  if (!state) {
    const loaded = judging.states.get(key)!;
    // The guard is updated in place row by row: the working copy owns a copy of it.
    state = { ...loaded, guard: loaded.guard && structuredClone(loaded.guard) };
    judging.nextStates.set(key, state);
  }
  const evidence = evidenceOf(judging, row, i);
  const { forecastBreach } = evidence;
  // Surprise reads raw values: it is about the series' own behaviour, whatever its limit.
  const width = judging.width;
  let surpriseReading = NO_SURPRISE;
  if (!row.short) {
    const surprise = observeSurprise(
      state.surprise ?? seedSurprise(row.values.subarray(row.end - width + 1, row.end + 1)),
      row.values[row.end]!,
    );
    state.surprise = surprise.state;
    surpriseReading = surprise.reading;
  }
  const unusual = observeUnusualRow(state.unusual, row);
  state.unusual = unusual.state;
  // The limit guard needs a limit: without one there is no level to be near.
  let guard: GuardReason | null = null;
  if (row.normalisation.basis === 'limit') {
    const observed = observeGuard(
      state.guard,
      row.last,
      row.at,
      row.normalisation.denominator,
      EXHAUSTION_LEVEL[row.series.signal!],
      true,
    );
    state.guard = observed.state;
    guard = observed.reading.reason;
  }
  const classified = evidence.classified && !inLimitRaiseGrace(state.guard, row.at);
  const { state: incidentState, transition } = observe(
    state.incident,
    // Without a limit there is no way to tell an incident was a false alarm: such a series learns nothing.
    {
      forecastBreach,
      classified,
      guard: guard !== null,
      level: row.normalisation.basis === 'limit' ? row.last : 1,
    },
    row.at,
    judging.incidentPolicy,
    (openedAt) => incidentIdOf(key, openedAt),
  );
  state.lastScoredAt = row.at;
  state.incident = incidentState;
  if (judging.batch.deps.collectScores) {
    judging.batch.scores.push({
      seriesKey: key,
      at: row.at,
      probability: evidence.probability,
      surprise: surpriseReading.level,
      surpriseOnset: surpriseReading.onset,
      anomalous: forecastBreach || classified || guard !== null,
      forecastBreach,
      classified,
      guard,
      short: row.short,
      secondsToLimit: evidence.toLimit,
      forecast: Array.from(evidence.forecast),
      spread: [...evidence.spread],
      forecaster: row.short ? (row.end + 1 < SHORT_MIN ? 'none' : 'short') : 'models',
      scale: row.normalisation.denominator,
      opened: transition !== null && transition.kind !== 'resolved',
      unusual: unusual.score,
      unusualOpened: unusual.transition?.kind === 'opened',
    });
  }
  // Rows are in time order per series: only a series' last row makes its prediction.
  if (row.series.signal && judging.rows[i + 1]?.series !== row.series) {
    const incidentOpen = incidentState.phase === 'open';
    judging.latest.set(
      key,
      predictionOf({ ...evidence, row, surprise: surpriseReading.level, incidentOpen }),
    );
  }
  if (transition) raiseAnomalies(judging, row, i, evidence, guard, transition);
  if (unusual.transition) raiseUnusual(judging, row, i, evidence, unusual.transition, unusual.score);
}

/**
 * Unusual behaviour reads raw values, every row (young series included), against the range the sender told, if
 * any, else the range seen so far; its episodes are incidents of their own (unusual/episode.ts).
 */
function observeUnusualRow(
  stored: UnusualSeriesState | null,
  row: ScoredRow,
): { state: UnusualSeriesState; score: number; transition: EpisodeTransition | null } {
  const told = row.series.valueRange;
  const range = told && { low: told.min, high: told.max };
  const current = stored ?? initialUnusualSeriesState(range);
  let detector = current.detector;
  if (range && (!detector.told || detector.low !== range.low || detector.high !== range.high))
    detector = { ...detector, ...range, told: true };
  const observed = observeUnusual(detector, row.values, row.end);
  const key = row.series.seriesKey;
  const eligible = observed.state.seen >= MIN_SAMPLES_TO_OPEN;
  const episode = observeEpisode(current.episode, eligible ? observed.reading.score : 0, row.at, (openedAt) =>
    unusualIncidentIdOf(key, openedAt),
  );
  return {
    state: { detector: observed.state, episode: episode.state },
    score: observed.reading.score,
    transition: episode.transition,
  };
}

function evidenceOf(judging: Judging, row: ScoredRow, i: number): RowEvidence {
  if (row.short) return shortEvidenceOf(judging, row);
  const { width, horizons } = judging;
  const { normalisation } = row;
  const forecast = judging.scores.forecast.subarray(i * horizons, (i + 1) * horizons);
  const probability = judging.scores.probability[i]!;
  const last = row.last;
  const horizonsSeconds = judging.horizonsSecondsOf(row.series.stepSeconds);
  const exhaustionLevel = EXHAUSTION_LEVEL[row.series.signal!];
  // The container is killed when its usage first reaches the limit: at a sawtooth's peak if it has one.
  const toLimit =
    normalisation.basis === 'limit'
      ? earliest(
          secondsToLimit(last, forecast, horizonsSeconds, exhaustionLevel),
          secondsToLimitAtPeaks(
            judging.windows.subarray(i * width, (i + 1) * width),
            forecast,
            horizonsSeconds,
            exhaustionLevel,
          ),
        )
      : null;
  const forecastBreach = toLimit !== null && toLimit <= judging.batch.deps.policy.timeToLimitAlertSeconds;
  const classified = probability >= judging.batch.metadata.classifier.incident.threshold;
  const spread = judging.batch.metadata.forecaster.residualStd;
  return { forecast, probability, horizonsSeconds, toLimit, forecastBreach, classified, spread };
}

/**
 * A short row's evidence: the models saw a padded window, so their outputs say nothing and the classifier does not
 * speak. From SHORT_MIN samples on, a line through the recent samples forecasts, with its own wider band
 * (short-forecast.ts); before that the forecast holds the last value and only the limit guard speaks.
 */
function shortEvidenceOf(judging: Judging, row: ScoredRow): RowEvidence {
  const { metadata, deps } = judging.batch;
  const horizonsSeconds = judging.horizonsSecondsOf(row.series.stepSeconds);
  const residualStd = metadata.forecaster.residualStd;
  const none = {
    probability: 0,
    horizonsSeconds,
    toLimit: null,
    forecastBreach: false,
    classified: false,
    spread: residualStd,
  };
  if (row.end + 1 < SHORT_MIN)
    return { ...none, forecast: new Float32Array(judging.horizons).fill(row.last) };
  const { denominator, basis } = row.normalisation;
  const recent = Array.from(row.values.subarray(0, row.end + 1), (v) => v / denominator);
  const exhaustionLevel = EXHAUSTION_LEVEL[row.series.signal!];
  const line = shortForecast(
    recent,
    metadata.horizons,
    residualStd,
    metadata.window,
    row.series.stepSeconds,
    exhaustionLevel,
  );
  if (basis !== 'limit') return { ...none, forecast: line.forecast, spread: line.spread };
  const toLimit = secondsToLimit(row.last, line.forecast, horizonsSeconds, exhaustionLevel);
  const forecastBreach = line.claims && toLimit !== null && toLimit <= deps.policy.timeToLimitAlertSeconds;
  return { ...none, forecast: line.forecast, spread: line.spread, toLimit, forecastBreach };
}

/** The anomaly messages of an incident transition, kept per series for its outbox. */
function raiseAnomalies(
  judging: Judging,
  row: ScoredRow,
  i: number,
  evidence: RowEvidence,
  guard: GuardReason | null,
  transition: IncidentTransition,
): void {
  const { metadata } = judging.batch;
  const { width } = judging;
  const { forecastBreach, classified } = evidence;
  const key = row.series.seriesKey;
  const inventory =
    judging.inventory.get(podRefOf(row.series.clusterId, row.series.namespace, row.series.pod)) ?? null;
  const anomalies = messagesOf(transition).map((message) =>
    usageAnomaly({
      row,
      window: judging.windows.subarray(i * width, (i + 1) * width),
      message,
      inventory,
      probability: evidence.probability,
      threshold: metadata.classifier.incident.threshold,
      // The guard's evidence is a claim that the limit is at risk, as a forecast breach is: the wire contract
      // carries it as one (the row scores, `kubepulse score` and the bench keep the guard's own reason).
      reasons: [
        ...(forecastBreach || guard !== null ? (['forecast-limit-breach'] as const) : []),
        ...(classified ? (['classifier'] as const) : []),
      ],
      forecast: evidence.forecast,
      residualStd: evidence.spread,
      horizonsSeconds: evidence.horizonsSeconds,
      toLimit: evidence.toLimit,
      normalisation: row.normalisation,
      stepSeconds: row.series.stepSeconds,
      modelVersion: metadata.modelVersion,
    }),
  );
  judging.newAnomalies.set(key, [...(judging.newAnomalies.get(key) ?? []), ...anomalies]);
}

/** An unusual-behaviour episode's message: a usage anomaly of problem `unusual-behaviour`, no limit claimed. */
function raiseUnusual(
  judging: Judging,
  row: ScoredRow,
  i: number,
  evidence: RowEvidence,
  transition: EpisodeTransition,
  score: number,
): void {
  const { metadata } = judging.batch;
  const { width } = judging;
  const key = row.series.seriesKey;
  const inventory =
    judging.inventory.get(podRefOf(row.series.clusterId, row.series.namespace, row.series.pod)) ?? null;
  const anomaly = usageAnomaly({
    row,
    window: judging.windows.subarray(i * width, (i + 1) * width),
    message: { incidentId: transition.incidentId, status: transition.kind },
    inventory,
    probability: evidence.probability,
    threshold: metadata.classifier.incident.threshold,
    reasons: [],
    forecast: evidence.forecast,
    residualStd: evidence.spread,
    horizonsSeconds: evidence.horizonsSeconds,
    toLimit: null,
    normalisation: row.normalisation,
    stepSeconds: row.series.stepSeconds,
    modelVersion: metadata.modelVersion,
  });
  anomaly.problem = 'unusual-behaviour';
  anomaly.unusual = {
    severity: transition.severity,
    score: Math.round(Math.min(1, Math.max(0, score)) * 1e4) / 1e4,
  };
  judging.newAnomalies.set(key, [...(judging.newAnomalies.get(key) ?? []), anomaly]);
}

const earliest = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.min(a, b));
