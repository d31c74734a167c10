import type {
  Anomaly,
  EventAnomaly,
  FailureEvent,
  MetricName,
  PodInventory,
  ScoredSignal,
  SeriesPrediction,
  ShipperMessage,
  UsageAnomaly,
} from '../../shared/contracts/index.js';
import { SCHEMA_VERSION } from '../../shared/contracts/index.js';
import { ConcurrentUpdateError } from '../../shared/errors.js';
import { type IncidentTransition, observe } from './hysteresis.js';
import {
  chooseNormalisation,
  EXHAUSTION_LEVEL,
  type Normalisation,
  secondsToLimit,
  secondsToLimitAtPeaks,
} from './normalise.js';
import type { AnomalyPublisher, InferenceDeps, LoadResult, StateCommit, WindowScores } from './ports.js';
import {
  type EventRef,
  eventAnomalyIdOf,
  eventIncidentIdOf,
  eventRefOf,
  incidentIdOf,
  type PodRef,
  podRefOf,
  seriesKeyOf,
} from './series-keys.js';
import { decodeSeriesState, encodeSeriesState, type SeriesState } from './series-state.js';
import { observeSurprise, seedSurprise } from './surprise.js';
import { summariseWindow } from './window-summary.js';

export type { AnomalyPublisher, InferenceDeps };

export interface RowScore {
  seriesKey: string;
  at: number;
  /** P(anomalous) from the classifier. */
  probability: number;
  /** How unusual the value is against the series' own history (see surprise.ts), and that at onsets only. */
  surprise: number;
  surpriseOnset: number;
  /** Whether the row counted as anomalous (classifier or forecast breach), before hysteresis. */
  anomalous: boolean;
  secondsToLimit: number | null;
  /** Normalised forecast at each horizon. */
  forecast: number[];
}

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

const SCORED_METRICS: Partial<Record<MetricName, ScoredSignal>> = {
  memory_working_set_bytes: 'memory',
  cpu_usage_cores: 'cpu',
};

/** The 90% band around a forecast, from the forecaster's residual spread on held-out data. */
const BAND_Z = 1.645;

interface SeriesInput {
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
  samples: Map<number, number>;
  recordIds: Set<string>;
}

interface EventInput {
  clusterId: string;
  event: FailureEvent;
  ref: EventRef;
  recordId: string;
}

interface ScoredRow {
  series: SeriesInput;
  at: number;
  /** Normalised value at `at`. */
  last: number;
  /** The stored values the row's window ends in, at index `end`, and what they are divided by. */
  values: Float64Array;
  end: number;
  normalisation: Normalisation;
}

/**
 * The inference core: merge each record's samples into its series' window in Redis, score every new sample's
 * window with one batched call per model, run each series' incident hysteresis, and publish anomalies through an
 * outbox, so a failure at any step leaves the records to be retried without losing or duplicating an incident.
 */
export async function processShipperRecords(
  records: readonly ShipperRecord[],
  deps: InferenceDeps,
): Promise<BatchOutcome> {
  const { store, scorer, publisher, policy, logger } = deps;
  const metadata = scorer.metadata;
  const stats: BatchStats = {
    samplesIn: 0,
    duplicateSamples: 0,
    lateSamples: 0,
    windowsScored: 0,
    anomaliesPublished: 0,
    redisRoundTrips: 0,
  };
  const failures = new Map<string, Error>();
  const rowScores: RowScore[] = [];
  const predictions = new Map<string, SeriesPrediction[]>();
  const failAll = (error: Error) => {
    for (const record of records) failures.set(record.recordId, error);
    return { failures, stats, published: [], scores: rowScores, predictions };
  };

  const { series, events, inventoryWrites, podsToRead } = gather(records, stats);
  if (series.size === 0 && events.length === 0 && inventoryWrites.length === 0)
    return { failures, stats, published: [], scores: rowScores, predictions };

  let loaded: LoadResult;
  try {
    stats.redisRoundTrips++;
    loaded = await store.load({
      appends: [...series.values()].map((s) => ({
        seriesKey: s.seriesKey,
        samples: [...s.samples.entries()].sort((a, b) => a[0] - b[0]),
      })),
      inventoryWrites,
      inventoryReads: [...podsToRead],
      eventsToCheck: events.map((e) => e.ref),
    });
  } catch (error) {
    logger.error('loading windows from Redis failed; the batch will be retried', { error });
    return failAll(error as Error);
  }

  // One row per new sample that has a full window behind it, written straight into one packed buffer.
  const width = metadata.window;
  const rows: ScoredRow[] = [];
  const states = new Map<string, SeriesState>();
  for (const input of series.values()) {
    const stored = loaded.series.get(input.seriesKey)!;
    stats.duplicateSamples += input.samples.size - stored.added;
    if (!input.signal) continue;
    const state = decodeSeriesState(stored.state);
    states.set(input.seriesKey, state);
    for (const ts of input.samples.keys()) if (ts <= state.lastScoredAt) stats.lateSamples++;
    const { timestamps, values } = stored;
    const inventory = loaded.inventory.get(podRefOf(input.clusterId, input.namespace, input.pod)) ?? null;
    const normalisation = chooseNormalisation(input.signal, input.container, inventory, values);
    for (let i = width - 1; i < values.length; i++) {
      if (timestamps[i]! <= state.lastScoredAt) continue;
      const last = values[i]! / normalisation.denominator;
      rows.push({ series: input, at: timestamps[i]!, last, values, end: i, normalisation });
    }
  }

  let scores: WindowScores;
  const packed = new Float32Array(rows.length * width);
  try {
    for (let r = 0; r < rows.length; r++) {
      const { values, end, normalisation } = rows[r]!;
      const { denominator } = normalisation;
      const offset = r * width - (end - width + 1);
      for (let j = end - width + 1; j <= end; j++) packed[offset + j] = values[j]! / denominator;
    }
    scores = await scorer.score(packed, rows.length);
    stats.windowsScored = rows.length;
  } catch (error) {
    logger.error('scoring failed; the batch will be retried', { error });
    return failAll(error as Error);
  }

  // Hysteresis per series, in time order (rows were built in time order per series).
  const horizonsByStep = new Map<number, number[]>();
  const horizonsSecondsOf = (stepSeconds: number) => {
    let horizons = horizonsByStep.get(stepSeconds);
    if (!horizons) {
      horizons = metadata.horizons.map((h) => h * stepSeconds);
      horizonsByStep.set(stepSeconds, horizons);
    }
    return horizons;
  };
  const horizons = metadata.horizons.length;
  const incident = metadata.classifier.incident;
  const incidentPolicy = { ...policy, classifierOpenAfter: incident.openAfter };
  const newAnomalies = new Map<string, Anomaly[]>();
  const latest = new Map<string, SeriesPrediction>();
  const nextStates = new Map<string, SeriesState>();
  rows.forEach((row, i) => {
    const key = row.series.seriesKey;
    // One working copy per series, updated row by row, rather than a new state per row.
    let state = nextStates.get(key);
    if (!state) {
      state = { ...states.get(key)! };
      nextStates.set(key, state);
    }
    const { normalisation } = row;
    const forecast = scores.forecast.subarray(i * horizons, (i + 1) * horizons);
    const probability = scores.probability[i]!;
    const last = row.last;
    const horizonsSeconds = horizonsSecondsOf(row.series.stepSeconds);
    const exhaustionLevel = EXHAUSTION_LEVEL[row.series.signal!];
    // The container is killed when its usage first reaches the limit: at a sawtooth's peak if it has one.
    const toLimit =
      normalisation.basis === 'limit'
        ? earliest(
            secondsToLimit(last, forecast, horizonsSeconds, exhaustionLevel),
            secondsToLimitAtPeaks(
              packed.subarray(i * width, (i + 1) * width),
              forecast,
              horizonsSeconds,
              exhaustionLevel,
            ),
          )
        : null;
    const forecastBreach = toLimit !== null && toLimit <= policy.timeToLimitAlertSeconds;
    const classified = probability >= incident.threshold;
    // Surprise reads raw values: it is about the series' own behaviour, whatever its limit.
    const surprise = observeSurprise(
      state.surprise ?? seedSurprise(row.values.subarray(row.end - width + 1, row.end + 1)),
      row.values[row.end]!,
    );
    state.surprise = surprise.state;
    if (deps.collectScores) {
      rowScores.push({
        seriesKey: key,
        at: row.at,
        probability,
        surprise: surprise.reading.level,
        surpriseOnset: surprise.reading.onset,
        anomalous: forecastBreach || classified,
        secondsToLimit: toLimit,
        forecast: Array.from(forecast),
      });
    }
    const { state: incidentState, transition } = observe(
      state.incident,
      // Without a limit there is no way to tell an incident was a false alarm: such a series learns nothing.
      { forecastBreach, classified, level: normalisation.basis === 'limit' ? last : 1 },
      row.at,
      incidentPolicy,
      (openedAt) => incidentIdOf(key, openedAt),
    );
    state.lastScoredAt = row.at;
    state.incident = incidentState;
    // Rows are in time order per series: only a series' last row makes its prediction.
    if (row.series.signal && rows[i + 1]?.series !== row.series) {
      latest.set(key, {
        namespace: row.series.namespace,
        pod: row.series.pod,
        container: row.series.container,
        signal: row.series.signal,
        asOf: row.at,
        basis: normalisation.basis,
        ratio: round(last),
        predictedPeakRatio: round(Math.max(last, ...forecast)),
        horizonSeconds: horizonsSeconds.at(-1)!,
        predictedSecondsToLimit: toLimit,
        anomalyScore: probability,
        surprise: round(surprise.reading.level),
        incidentOpen: incidentState.phase === 'open',
      });
    }
    if (transition) {
      const inventory =
        loaded.inventory.get(podRefOf(row.series.clusterId, row.series.namespace, row.series.pod)) ?? null;
      const anomalies = messagesOf(transition).map((message) =>
        usageAnomaly({
          row,
          window: packed.subarray(i * width, (i + 1) * width),
          message,
          inventory,
          probability,
          threshold: incident.threshold,
          reasons: [
            ...(forecastBreach ? (['forecast-limit-breach'] as const) : []),
            ...(classified ? (['classifier'] as const) : []),
          ],
          forecast,
          residualStd: metadata.forecaster.residualStd,
          horizonsSeconds,
          toLimit,
          normalisation,
          stepSeconds: row.series.stepSeconds,
          modelVersion: metadata.modelVersion,
        }),
      );
      newAnomalies.set(key, [...(newAnomalies.get(key) ?? []), ...anomalies]);
    }
  });

  // Round trip 2: commit new states, with anything still to publish kept in the outbox.
  const commits: StateCommit[] = [];
  const toPublishBySeries = new Map<string, Anomaly[]>();
  for (const [key, state] of states) {
    const next = nextStates.get(key) ?? state;
    const outbox = [...state.outbox, ...(newAnomalies.get(key) ?? [])];
    if (next === state && outbox.length === 0) continue;
    if (outbox.length > 0) toPublishBySeries.set(key, outbox);
    commits.push({
      seriesKey: key,
      expectedVersion: state.version,
      fields: encodeSeriesState({ ...next, outbox }),
    });
  }
  let conflicts: Set<string>;
  try {
    stats.redisRoundTrips++;
    conflicts = await store.commit(commits);
  } catch (error) {
    logger.error('committing series state to Redis failed; the batch will be retried', { error });
    return failAll(error as Error);
  }
  for (const key of conflicts) {
    const conflict = new ConcurrentUpdateError(`series ${key} was updated concurrently`);
    for (const recordId of series.get(key)!.recordIds) failures.set(recordId, conflict);
    toPublishBySeries.delete(key);
    logger.warn('series state changed under us; its records will be retried', { seriesKey: key });
  }

  for (const [key, prediction] of latest) {
    if (conflicts.has(key)) continue;
    const clusterId = series.get(key)!.clusterId;
    const forCluster = predictions.get(clusterId);
    if (forCluster) forCluster.push(prediction);
    else predictions.set(clusterId, [prediction]);
  }

  const newEvents = events.filter((e) => !loaded.seenEvents.has(e.ref));
  const eventAnomalies = newEvents.map((e) =>
    eventAnomaly(e, loaded.inventory.get(podRefOf(e.clusterId, e.event.namespace, e.event.pod)) ?? null),
  );
  const toPublish = [...[...toPublishBySeries.values()].flat(), ...eventAnomalies];
  if (toPublish.length === 0) return { failures, stats, published: [], scores: rowScores, predictions };

  try {
    await publisher.publish(toPublish);
    stats.anomaliesPublished = toPublish.length;
  } catch (error) {
    // The outbox keeps them; retrying these records publishes them again with the same ids.
    logger.error('publishing anomalies failed; their records will be retried', {
      error,
      count: toPublish.length,
    });
    for (const key of toPublishBySeries.keys()) {
      for (const recordId of series.get(key)!.recordIds) failures.set(recordId, error as Error);
    }
    for (const e of newEvents) failures.set(e.recordId, error as Error);
    return { failures, stats, published: [], scores: rowScores, predictions };
  }

  // Round trip 3, only after a publish: empty the outboxes and remember the forwarded events.
  const clears: StateCommit[] = [...toPublishBySeries.keys()].map((key) => {
    const next = nextStates.get(key) ?? states.get(key)!;
    return {
      seriesKey: key,
      expectedVersion: states.get(key)!.version + 1,
      fields: encodeSeriesState({ ...next, outbox: [] }),
    };
  });
  try {
    stats.redisRoundTrips++;
    await store.commit(
      clears,
      newEvents.map((e) => e.ref),
    );
  } catch (error) {
    // Already published: a later invocation will publish the outbox again under the same ids, which
    // consumers deduplicate. Failing the records here would only cause the same repeat sooner.
    logger.warn('clearing the outbox failed after publishing; consumers may see a repeat with the same id', {
      error,
    });
  }
  return { failures, stats, published: toPublish, scores: rowScores, predictions };
}

function gather(records: readonly ShipperRecord[], stats: BatchStats) {
  const series = new Map<string, SeriesInput>();
  const events: EventInput[] = [];
  const inventoryWrites: Array<{ clusterId: string; pod: PodInventory }> = [];
  const podsToRead = new Set<PodRef>();
  for (const { recordId, message } of records) {
    switch (message.kind) {
      case 'sample-batch':
        for (const s of message.series) {
          const seriesKey = seriesKeyOf(message.clusterId, s.namespace, s.pod, s.container, s.metric);
          let input = series.get(seriesKey);
          if (!input) {
            input = {
              seriesKey,
              clusterId: message.clusterId,
              namespace: s.namespace,
              pod: s.pod,
              container: s.container,
              metric: s.metric,
              signal: SCORED_METRICS[s.metric],
              stepSeconds: message.stepSeconds,
              samples: new Map(),
              recordIds: new Set(),
            };
            series.set(seriesKey, input);
            // The series key holds the pod, so its pod needs adding once, not once per record.
            if (input.signal) podsToRead.add(podRefOf(message.clusterId, s.namespace, s.pod));
          }
          input.recordIds.add(recordId);
          for (const [ts, value] of s.samples) {
            stats.samplesIn++;
            if (!input.samples.has(ts)) input.samples.set(ts, value);
          }
        }
        break;
      case 'inventory-snapshot':
        for (const pod of message.pods) inventoryWrites.push({ clusterId: message.clusterId, pod });
        break;
      case 'failure-events':
        for (const event of message.events) {
          events.push({
            clusterId: message.clusterId,
            event,
            ref: eventRefOf(message.clusterId, event.eventId),
            recordId,
          });
          podsToRead.add(podRefOf(message.clusterId, event.namespace, event.pod));
        }
        break;
    }
  }
  return { series, events, inventoryWrites, podsToRead };
}

interface IncidentMessage {
  incidentId: string;
  status: UsageAnomaly['status'];
}

/** A superseded incident is announced as what it is for consumers: one incident resolved, another opened. */
function messagesOf(transition: IncidentTransition): IncidentMessage[] {
  if (transition.kind !== 'superseded')
    return [{ incidentId: transition.incidentId, status: transition.kind }];
  return [
    { incidentId: transition.resolvedIncidentId, status: 'resolved' },
    { incidentId: transition.incidentId, status: 'opened' },
  ];
}

const earliest = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.min(a, b));
const round = (value: number) => Math.round(value * 1e4) / 1e4;
const isoOf = (unixSeconds: number) => new Date(unixSeconds * 1000).toISOString();

function usageAnomaly(input: {
  row: ScoredRow;
  window: Float32Array;
  message: IncidentMessage;
  inventory: PodInventory | null;
  probability: number;
  threshold: number;
  reasons: UsageAnomaly['reasons'];
  forecast: Float32Array;
  residualStd: readonly number[];
  horizonsSeconds: number[];
  toLimit: number | null;
  normalisation: Normalisation;
  stepSeconds: number;
  modelVersion: string;
}): UsageAnomaly {
  const { row, message, inventory, forecast, residualStd } = input;
  const values = Array.from(forecast, round);
  return {
    schemaVersion: SCHEMA_VERSION,
    kind: 'anomaly',
    source: 'usage',
    clusterId: row.series.clusterId,
    anomalyId: `${message.incidentId}:${message.status}`,
    incidentId: message.incidentId,
    status: message.status,
    detectedAt: isoOf(row.at),
    target: {
      namespace: row.series.namespace,
      pod: row.series.pod,
      container: row.series.container,
      ...(inventory?.owner ? { owner: inventory.owner } : {}),
      ...(inventory?.node ? { node: inventory.node } : {}),
    },
    inventory,
    signal: row.series.signal!,
    metric: row.series.metric,
    reasons: input.reasons,
    score: round(input.probability),
    threshold: input.threshold,
    forecast: {
      horizonsSeconds: input.horizonsSeconds,
      values,
      lower: values.map((v, h) => round(v - BAND_Z * residualStd[h]!)),
      upper: values.map((v, h) => round(v + BAND_Z * residualStd[h]!)),
    },
    predictedSecondsToLimit: input.toLimit === null ? null : Math.round(input.toLimit),
    predictedLimitAt: input.toLimit === null ? null : isoOf(row.at + Math.round(input.toLimit)),
    asOf: row.at,
    normalisation: input.normalisation,
    window: summariseWindow(input.window, row.at, input.stepSeconds),
    modelVersion: input.modelVersion,
  };
}

function eventAnomaly({ clusterId, event }: EventInput, inventory: PodInventory | null): EventAnomaly {
  const owner = event.owner ?? inventory?.owner;
  const subject = owner ? `${owner.kind}/${owner.name}` : `Pod/${event.pod}`;
  const node = event.node ?? inventory?.node;
  return {
    schemaVersion: SCHEMA_VERSION,
    kind: 'anomaly',
    source: 'event',
    clusterId,
    anomalyId: eventAnomalyIdOf(clusterId, event.eventId),
    incidentId: eventIncidentIdOf(clusterId, event.namespace, subject, event.reason),
    status: 'opened',
    detectedAt: event.observedAt,
    target: {
      namespace: event.namespace,
      pod: event.pod,
      ...(event.container ? { container: event.container } : {}),
      ...(owner ? { owner } : {}),
      ...(node ? { node } : {}),
    },
    inventory,
    event,
  };
}
