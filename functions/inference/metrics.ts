import { Counter, Histogram, type Registry } from 'prom-client';
import type { BatchStats } from './core/process-batch.js';

export type InferenceMetrics = ReturnType<typeof createInferenceMetrics>;

export function createInferenceMetrics(registry: Registry) {
  const counter = (name: string, help: string, labelNames: string[] = []) =>
    new Counter({ name, help, labelNames, registers: [registry] });
  const metrics = {
    samples: counter('kubepulse_inference_samples_total', 'Samples received, by outcome', ['outcome']),
    windowsScored: counter('kubepulse_inference_windows_scored_total', 'Windows scored by the models'),
    anomalies: counter('kubepulse_inference_anomalies_published_total', 'Anomaly messages published'),
    records: counter('kubepulse_inference_records_total', 'SQS records handled, by outcome', ['outcome']),
    predictionDigests: counter(
      'kubepulse_inference_prediction_digests_total',
      'Prediction digests for the in-cluster relay, by outcome',
      ['outcome'],
    ),
    redisRoundTrips: counter('kubepulse_inference_redis_round_trips_total', 'Redis round trips'),
    batchSeconds: new Histogram({
      name: 'kubepulse_inference_batch_seconds',
      help: 'Time to handle one SQS batch',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
  };
  return {
    ...metrics,
    recordBatch(
      stats: BatchStats,
      records: { ok: number; retried: number; quarantined: number },
      seconds: number,
    ) {
      metrics.samples.inc({ outcome: 'received' }, stats.samplesIn);
      metrics.samples.inc({ outcome: 'duplicate' }, stats.duplicateSamples);
      metrics.samples.inc({ outcome: 'late' }, stats.lateSamples);
      metrics.windowsScored.inc(stats.windowsScored);
      metrics.anomalies.inc(stats.anomaliesPublished);
      metrics.redisRoundTrips.inc(stats.redisRoundTrips);
      metrics.records.inc({ outcome: 'ok' }, records.ok);
      metrics.records.inc({ outcome: 'retried' }, records.retried);
      metrics.records.inc({ outcome: 'quarantined' }, records.quarantined);
      metrics.batchSeconds.observe(seconds);
    },
  };
}
