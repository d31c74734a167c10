import { z } from 'zod';
import { NormalisationBasis } from './anomaly.js';
import {
  ClusterId,
  ContainerName,
  NamespaceName,
  ObjectName,
  SchemaVersion,
  ScoredSignal,
  UnixSeconds,
} from './common.js';

/** The latest prediction for one scored series, as the cluster's Prometheus should see it. */
export const SeriesPrediction = z.object({
  namespace: NamespaceName,
  pod: ObjectName,
  container: ContainerName,
  signal: ScoredSignal,
  asOf: UnixSeconds,
  basis: NormalisationBasis,
  /** Usage over the basis (1.0 = the limit when the basis is `limit`) at `asOf`. */
  ratio: z.number(),
  /** The highest forecast ratio over the model's horizon: what an autoscaler should act on ahead of time. */
  predictedPeakRatio: z.number(),
  horizonSeconds: z.number().int().positive(),
  predictedSecondsToLimit: z.number().nonnegative().nullable(),
  anomalyScore: z.number().min(0).max(1),
  /**
   * How unusual the newest value is against the series' own history, 0–1; never opens an incident. Optional
   * because digests from inference functions older than it lack it.
   */
  surprise: z.number().min(0).max(1).optional(),
  incidentOpen: z.boolean(),
});
export type SeriesPrediction = z.infer<typeof SeriesPrediction>;

/**
 * Sent by the inference function after each invocation, for the in-cluster relay that exports
 * `kubepulse_predicted_memory_ratio` and friends. Ephemeral: a lost digest is replaced by the next one.
 */
export const PredictionDigest = z.object({
  schemaVersion: SchemaVersion,
  kind: z.literal('prediction-digest'),
  clusterId: ClusterId,
  digestId: z.string().min(1).max(128),
  modelVersion: z.string().min(1),
  predictions: z.array(SeriesPrediction).min(1).max(5000),
});
export type PredictionDigest = z.infer<typeof PredictionDigest>;
