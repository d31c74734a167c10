import type { Anomaly, PodInventory } from '../../shared/contracts/index.js';
import type { LoggerPort } from '../../shared/logger.js';
import type { DetectionPolicy } from './defaults.js';
import type { ModelMetadata } from './model-metadata.js';
import type { EventRef, PodRef } from './series-keys.js';

/** What the inference core needs from the world; runtime.ts wires the adapters in. */
export interface InferenceDeps {
  store: SeriesStorePort;
  scorer: ScorerPort;
  publisher: AnomalyPublisher;
  policy: DetectionPolicy;
  logger: LoggerPort;
  /** Report every scored row in the outcome (the offline `kubepulse score` command needs them; Lambda does not). */
  collectScores?: boolean;
}

/** Each series' sliding window and state, and the pods' inventory, read and written in whole batches. */
export interface SeriesStorePort {
  /** Round trip 1: store inventory, merge every series' new samples, read windows, states and inventory. */
  load(request: LoadRequest): Promise<LoadResult>;
  /**
   * Round trip 2 (and 3, when something was published): compare-and-set each series' state and mark
   * forwarded events. Returns the series whose state another invocation changed first.
   */
  commit(commits: StateCommit[], eventsToMark?: EventRef[]): Promise<Set<string>>;
  /**
   * Only when a batch holds series seen for the first time whose pods have an owner: the lineage documents
   * (lineage.ts) stored under these keys, by key; a missing key is absent from the map.
   */
  loadLineages(keys: readonly string[]): Promise<Map<string, string>>;
}

export interface SeriesAppend {
  seriesKey: string;
  /** Sorted by time, unique timestamps. */
  samples: ReadonlyArray<readonly [number, number]>;
}

export interface StoredSeries {
  added: number;
  /** The unscored records and the window before them (not the whole stored window). */
  timestamps: Uint32Array;
  values: Float64Array;
  state: Record<string, string>;
}

export interface LoadRequest {
  appends: SeriesAppend[];
  inventoryWrites: Array<{ clusterId: string; pod: PodInventory }>;
  inventoryReads: PodRef[];
  eventsToCheck: EventRef[];
}

export interface LoadResult {
  series: Map<string, StoredSeries>;
  inventory: Map<PodRef, PodInventory | null>;
  seenEvents: Set<EventRef>;
}

export interface StateCommit {
  seriesKey: string;
  expectedVersion: number;
  fields: Record<string, string>;
  /** The series' lineage document, written beside its state (last writer wins: replicas of one owner share it). */
  lineage?: { key: string; document: string };
}

export interface ScorerPort {
  readonly metadata: ModelMetadata;
  score(windows: Float32Array, count: number): Promise<WindowScores>;
}

export interface WindowScores {
  /** Forecast in normalised units, `count * horizons.length`, row-major. */
  forecast: Float32Array;
  /** P(anomalous) per window. */
  probability: Float32Array;
}

/** The two models themselves, run once each over a whole batch of prepared inputs. */
export interface ModelRunnerPort {
  run(inputs: ModelInputs): Promise<ModelOutputs>;
}

export interface ModelInputs {
  count: number;
  relative: Float32Array;
  features: Float32Array;
}

export interface ModelOutputs {
  forecast: Float32Array;
  probabilities: Float32Array;
}

export interface AnomalyPublisher {
  /** Sends every anomaly or throws; a partial send must throw too (the caller retries all of them). */
  publish(anomalies: readonly Anomaly[]): Promise<void>;
}
