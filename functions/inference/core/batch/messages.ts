import type {
  EventAnomaly,
  PodInventory,
  SeriesPrediction,
  UsageAnomaly,
} from '../../../shared/contracts/index.js';
import { SCHEMA_VERSION } from '../../../shared/contracts/index.js';
import type { IncidentTransition } from '../hysteresis.js';
import type { Normalisation } from '../normalise.js';
import { eventAnomalyIdOf, eventIncidentIdOf } from '../series-keys.js';
import { summariseWindow } from '../window-summary.js';
import type { EventInput, ScoredRow } from './context.js';

/** What the batch announces: usage anomalies, event anomalies and each series' newest prediction. */

/** The 90% band around a forecast, from the forecaster's residual spread on held-out data. */
const BAND_Z = 1.645;

const round = (value: number) => Math.round(value * 1e4) / 1e4;
const isoOf = (unixSeconds: number) => new Date(unixSeconds * 1000).toISOString();

export interface IncidentMessage {
  incidentId: string;
  status: UsageAnomaly['status'];
}

/** A superseded incident is announced as what it is for consumers: one incident resolved, another opened. */
export function messagesOf(transition: IncidentTransition): IncidentMessage[] {
  if (transition.kind !== 'superseded')
    return [{ incidentId: transition.incidentId, status: transition.kind }];
  return [
    { incidentId: transition.resolvedIncidentId, status: 'resolved' },
    { incidentId: transition.incidentId, status: 'opened' },
  ];
}

export function predictionOf(input: {
  row: ScoredRow;
  forecast: Float32Array;
  horizonsSeconds: number[];
  toLimit: number | null;
  probability: number;
  surprise: number;
  incidentOpen: boolean;
}): SeriesPrediction {
  const { row, forecast, horizonsSeconds } = input;
  const { series, last } = row;
  return {
    namespace: series.namespace,
    pod: series.pod,
    container: series.container,
    signal: series.signal!,
    asOf: row.at,
    basis: row.normalisation.basis,
    ratio: round(last),
    predictedPeakRatio: round(Math.max(last, ...forecast)),
    horizonSeconds: horizonsSeconds.at(-1)!,
    predictedSecondsToLimit: input.toLimit,
    anomalyScore: input.probability,
    surprise: round(input.surprise),
    incidentOpen: input.incidentOpen,
  };
}

export function usageAnomaly(input: {
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

export function eventAnomaly({ clusterId, event }: EventInput, inventory: PodInventory | null): EventAnomaly {
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
