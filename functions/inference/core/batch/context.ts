import type {
  Anomaly,
  FailureEvent,
  MetricName,
  ScoredSignal,
  SeriesPrediction,
  ShipperMessage,
} from '../../../shared/contracts/index.js';
import type { GuardReason } from '../limit-guard.js';
import type { ModelMetadata } from '../model-metadata.js';
import type { Normalisation } from '../normalise.js';
import type { InferenceDeps } from '../ports.js';
import type { EventRef } from '../series-keys.js';

export interface ShipperRecord {
  recordId: string;
  message: ShipperMessage;
}

export interface BatchStats {
  samplesIn: number;
  duplicateSamples: number;
  lateSamples: number;
  windowsScored: number;
  anomaliesPublished: number;
  redisRoundTrips: number;
}

export interface RowScore {
  seriesKey: string;
  at: number;
  /** P(anomalous) from the classifier. */
  probability: number;
  /** How unusual the value is against the series' own history (see surprise.ts), and that at onsets only. */
  surprise: number;
  surpriseOnset: number;
  /** Whether the row counted as anomalous (classifier, forecast breach or the limit guard), before hysteresis. */
  anomalous: boolean;
  /** Which evidence the row had, before hysteresis. */
  forecastBreach: boolean;
  classified: boolean;
  /** The limit guard's reason, if it raised evidence (limit-guard.ts). */
  guard: GuardReason | null;
  /** The window was shorter than the models' (a young series): no classifier, a short-window forecast. */
  short: boolean;
  secondsToLimit: number | null;
  /** Normalised forecast at each horizon, and what normalised values are multiplied by to get the series' units. */
  forecast: number[];
  /** The forecast band's standard deviation per horizon (normalised), and who forecast: nobody yet (the value is
   * held), the short-window line, or the models. */
  spread: number[];
  forecaster: 'none' | 'short' | 'models';
  scale: number;
  /** Whether an incident opened at this row (a superseding one included). */
  opened: boolean;
  /** How unusual the row is for its series (unusual/detector.ts), and whether an unusual-behaviour episode opened. */
  unusual: number;
  unusualOpened: boolean;
}

export interface BatchOutcome {
  /** Records that must be retried, with why; every other record was fully processed. */
  failures: Map<string, Error>;
  stats: BatchStats;
  published: Anomaly[];
  /** The newest prediction of every series whose state was committed, grouped by cluster, for the relay. */
  predictions: Map<string, SeriesPrediction[]>;
  /** Every scored row, when `collectScores` is set. */
  scores: RowScore[];
}

/** One invocation's context: what every phase reads (records, ports) and what they add to the outcome. */
export interface Batch {
  readonly records: readonly ShipperRecord[];
  readonly deps: InferenceDeps;
  readonly metadata: ModelMetadata;
  readonly stats: BatchStats;
  readonly failures: Map<string, Error>;
  readonly scores: RowScore[];
  readonly predictions: Map<string, SeriesPrediction[]>;
}

export function startBatch(records: readonly ShipperRecord[], deps: InferenceDeps): Batch {
  return {
    records,
    deps,
    metadata: deps.scorer.metadata,
    stats: {
      samplesIn: 0,
      duplicateSamples: 0,
      lateSamples: 0,
      windowsScored: 0,
      anomaliesPublished: 0,
      redisRoundTrips: 0,
    },
    failures: new Map(),
    scores: [],
    predictions: new Map(),
  };
}

export function outcomeOf(batch: Batch, published: Anomaly[] = []): BatchOutcome {
  const { failures, stats, scores, predictions } = batch;
  return { failures, stats, published, scores, predictions };
}

/**
 * Runs a step the whole batch depends on (a Redis round trip, the models). If it throws, every record is
 * failed with its error, to be retried, and the result is undefined: the batch stops there.
 */
export async function orFailBatch<T>(
  batch: Batch,
  message: string,
  step: () => Promise<T>,
): Promise<T | undefined> {
  try {
    return await step();
  } catch (error) {
    batch.deps.logger.error(message, { error });
    for (const record of batch.records) batch.failures.set(record.recordId, error as Error);
    return undefined;
  }
}

/** Every sample of one series in this batch, whichever records they came in. */
export interface SeriesInput {
  seriesKey: string;
  clusterId: string;
  namespace: string;
  pod: string;
  container: string;
  metric: MetricName;
  signal: ScoredSignal | undefined;
  /**
   * The series' sampling step as the shipper declared it. The models forecast a number of steps ahead; their
   * horizons become seconds through the series' own step, so a series sampled at another step than the training
   * data is still labelled in its own time.
   */
  stepSeconds: number;
  /** The range the sender says the series stays in, if it said one (see SeriesSamples.valueRange). */
  valueRange?: { min: number; max: number };
  samples: Map<number, number>;
  recordIds: Set<string>;
}

export interface EventInput {
  clusterId: string;
  event: FailureEvent;
  ref: EventRef;
  recordId: string;
}

/** One new sample with a full window behind it: what the models score and the hysteresis judges. */
export interface ScoredRow {
  series: SeriesInput;
  at: number;
  /** Normalised value at `at`. */
  last: number;
  /** The stored values the row's window ends in, at index `end`, and what they are divided by. */
  values: Float64Array;
  end: number;
  /**
   * Fewer than a window of samples behind it (a young series): its window is padded with its first value for the
   * models, whose outputs are then not used (see judge.ts).
   */
  short: boolean;
  normalisation: Normalisation;
}
