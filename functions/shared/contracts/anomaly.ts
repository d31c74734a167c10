import { z } from 'zod';
import {
  ClusterId,
  IsoTimestamp,
  SchemaVersion,
  ScoredSignal,
  UnixSeconds,
  WorkloadTarget,
} from './common.js';
import { FailureEvent, MetricName, PodInventory } from './shipper.js';

/** What a usage series was divided by before scoring; `observed-max` means no limit or request was known. */
export const NormalisationBasis = z.enum(['limit', 'request', 'observed-max']);
export type NormalisationBasis = z.infer<typeof NormalisationBasis>;

export const Forecast = z.object({
  /** Seconds after `asOf` for each point. */
  horizonsSeconds: z.array(z.number().int().positive()).min(1),
  /** Predicted normalised usage (1.0 = the limit) at each horizon. */
  values: z.array(z.number()),
  lower: z.array(z.number()),
  upper: z.array(z.number()),
});
export type Forecast = z.infer<typeof Forecast>;

export const WindowSummary = z.object({
  samples: z.number().int().nonnegative(),
  firstAt: UnixSeconds,
  lastAt: UnixSeconds,
  last: z.number(),
  mean: z.number(),
  min: z.number(),
  max: z.number(),
  /** Normalised units per minute, from a least-squares line. */
  slopePerMinute: z.number(),
});
export type WindowSummary = z.infer<typeof WindowSummary>;

export const AnomalyStatus = z.enum(['opened', 'resolved']);
export type AnomalyStatus = z.infer<typeof AnomalyStatus>;

const AnomalyBase = z.object({
  schemaVersion: SchemaVersion,
  kind: z.literal('anomaly'),
  clusterId: ClusterId,
  /** Deterministic: a redelivered or retried transition carries the same id, so consumers can deduplicate. */
  anomalyId: z.string().min(1).max(128),
  incidentId: z.string().min(1).max(128),
  status: AnomalyStatus,
  detectedAt: IsoTimestamp,
  target: WorkloadTarget,
  inventory: PodInventory.nullable(),
});

/**
 * What a usage anomaly is about. Absent (every message before the unusual-behaviour detector) means exhaustion:
 * a limit at risk. `unusual-behaviour` is a series acting unlike itself with no limit at risk; its `reasons` are
 * empty, so a consumer that predates the field reads it as a usage anomaly without a breach, which goes to a
 * human.
 */
export const UsageProblem = z.enum(['exhaustion', 'unusual-behaviour']);
export type UsageProblem = z.infer<typeof UsageProblem>;

export const UnusualSeverity = z.enum(['info', 'warning']);
export type UnusualSeverity = z.infer<typeof UnusualSeverity>;

export const UsageAnomaly = AnomalyBase.extend({
  source: z.literal('usage'),
  signal: ScoredSignal,
  metric: MetricName,
  reasons: z.array(z.enum(['forecast-limit-breach', 'classifier'])),
  /** Classifier probability that the window is anomalous. */
  score: z.number().min(0).max(1),
  threshold: z.number().min(0).max(1),
  forecast: Forecast,
  /** Seconds from `asOf` until the forecast crosses the limit; null when it does not within the horizon. */
  predictedSecondsToLimit: z.number().nonnegative().nullable(),
  predictedLimitAt: IsoTimestamp.nullable(),
  asOf: UnixSeconds,
  normalisation: z.object({ basis: NormalisationBasis, denominator: z.number().positive() }),
  window: WindowSummary,
  modelVersion: z.string().min(1),
  problem: UsageProblem.optional(),
  /** Set when `problem` is `unusual-behaviour`: how unusual the episode's first sample was. */
  unusual: z
    .object({
      severity: UnusualSeverity,
      /** The detector's score at the episode's onset, in [0, 1]. */
      score: z.number().min(0).max(1),
    })
    .optional(),
});
export type UsageAnomaly = z.infer<typeof UsageAnomaly>;

/** A failure the cluster itself reported (OOMKilled, CrashLoopBackOff, …), forwarded as an incident signal. */
export const EventAnomaly = AnomalyBase.extend({
  source: z.literal('event'),
  event: FailureEvent,
});
export type EventAnomaly = z.infer<typeof EventAnomaly>;

export const Anomaly = z.discriminatedUnion('source', [UsageAnomaly, EventAnomaly]);
export type Anomaly = z.infer<typeof Anomaly>;
