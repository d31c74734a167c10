import type { Anomaly, PodInventory, SeriesPrediction } from '../../../shared/contracts/index.js';
import { type IncidentPolicy, type IncidentTransition, observe } from '../hysteresis.js';
import { EXHAUSTION_LEVEL, secondsToLimit, secondsToLimitAtPeaks } from '../normalise.js';
import type { WindowScores } from '../ports.js';
import { incidentIdOf, type PodRef, podRefOf } from '../series-keys.js';
import type { SeriesState } from '../series-state.js';
import { observeSurprise, seedSurprise } from '../surprise.js';
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
}

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
    state = { ...judging.states.get(key)! };
    judging.nextStates.set(key, state);
  }
  const evidence = evidenceOf(judging, row, i);
  const { forecastBreach, classified } = evidence;
  // Surprise reads raw values: it is about the series' own behaviour, whatever its limit.
  const width = judging.width;
  const surprise = observeSurprise(
    state.surprise ?? seedSurprise(row.values.subarray(row.end - width + 1, row.end + 1)),
    row.values[row.end]!,
  );
  state.surprise = surprise.state;
  if (judging.batch.deps.collectScores) {
    judging.batch.scores.push({
      seriesKey: key,
      at: row.at,
      probability: evidence.probability,
      surprise: surprise.reading.level,
      surpriseOnset: surprise.reading.onset,
      anomalous: forecastBreach || classified,
      secondsToLimit: evidence.toLimit,
      forecast: Array.from(evidence.forecast),
    });
  }
  const { state: incidentState, transition } = observe(
    state.incident,
    // Without a limit there is no way to tell an incident was a false alarm: such a series learns nothing.
    { forecastBreach, classified, level: row.normalisation.basis === 'limit' ? row.last : 1 },
    row.at,
    judging.incidentPolicy,
    (openedAt) => incidentIdOf(key, openedAt),
  );
  state.lastScoredAt = row.at;
  state.incident = incidentState;
  // Rows are in time order per series: only a series' last row makes its prediction.
  if (row.series.signal && judging.rows[i + 1]?.series !== row.series) {
    const incidentOpen = incidentState.phase === 'open';
    judging.latest.set(
      key,
      predictionOf({ ...evidence, row, surprise: surprise.reading.level, incidentOpen }),
    );
  }
  if (transition) raiseAnomalies(judging, row, i, evidence, transition);
}

function evidenceOf(judging: Judging, row: ScoredRow, i: number): RowEvidence {
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
  return { forecast, probability, horizonsSeconds, toLimit, forecastBreach, classified };
}

/** The anomaly messages of an incident transition, kept per series for its outbox. */
function raiseAnomalies(
  judging: Judging,
  row: ScoredRow,
  i: number,
  evidence: RowEvidence,
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
      reasons: [
        ...(forecastBreach ? (['forecast-limit-breach'] as const) : []),
        ...(classified ? (['classifier'] as const) : []),
      ],
      forecast: evidence.forecast,
      residualStd: metadata.forecaster.residualStd,
      horizonsSeconds: evidence.horizonsSeconds,
      toLimit: evidence.toLimit,
      normalisation: row.normalisation,
      stepSeconds: row.series.stepSeconds,
      modelVersion: metadata.modelVersion,
    }),
  );
  judging.newAnomalies.set(key, [...(judging.newAnomalies.get(key) ?? []), ...anomalies]);
}

const earliest = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.min(a, b));
