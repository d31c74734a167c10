import { SQSClient } from '@aws-sdk/client-sqs';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import type { Anomaly } from '../shared/contracts/index.js';
import type { LoggerPort } from '../shared/logger.js';
import { createRegistry } from '../shared/metrics.js';
import { connectRedis, createRedis } from '../shared/redis.js';
import { sendAll } from '../shared/sqs-publisher.js';
import { loadModelBundle } from './adapters/model-bundle.js';
import { createOrtWindowScorer, loadOrtWeb, type OrtModule } from './adapters/ort-window-scorer.js';
import { SeriesStore } from './adapters/redis-series-store.js';
import type { InferenceConfig } from './config.js';
import type { DetectionPolicy } from './core/defaults.js';
import type { AnomalyPublisher, InferenceDeps } from './core/ports.js';
import {
  createRecordValidator,
  type PredictionRelay,
  type SamplesEventDeps,
} from './handle-samples-event.js';
import { createInferenceMetrics } from './metrics.js';

export interface InferenceRuntime extends SamplesEventDeps {
  redis: Redis;
  registry: Registry;
  close(): Promise<void>;
}

/** What the inference core needs besides Redis and a publisher; the Lambda reads it from its config. */
export interface CoreSettings {
  modelDir: string;
  ortWasmDir?: string | undefined;
  /** Samples kept beyond one window, so a burst can all be scored. */
  windowSlack: number;
  windowTtlSeconds: number;
  inventoryTtlSeconds: number;
  eventDedupTtlSeconds: number;
  policy: DetectionPolicy;
}

/**
 * The inference core's dependencies: models loaded and checked, onnxruntime-web set up for them, and a series
 * store sized from the model's window. The Lambda runtime, `kubepulse score` and the tests all build it here.
 */
export async function createInferenceCore(
  redis: Redis,
  publisher: AnomalyPublisher,
  settings: CoreSettings,
  logger: LoggerPort,
  options: { ort?: OrtModule; collectScores?: boolean } = {},
): Promise<InferenceDeps> {
  const [ort, bundle] = await Promise.all([
    options.ort ? Promise.resolve(options.ort) : loadOrtWeb(settings.ortWasmDir),
    loadModelBundle(settings.modelDir),
  ]);
  return {
    store: new SeriesStore(redis, {
      scoringWindow: bundle.metadata.window,
      windowCapacity: bundle.metadata.window + settings.windowSlack,
      windowTtlSeconds: settings.windowTtlSeconds,
      inventoryTtlSeconds: settings.inventoryTtlSeconds,
      eventDedupTtlSeconds: settings.eventDedupTtlSeconds,
    }),
    scorer: await createOrtWindowScorer(ort, bundle),
    publisher,
    policy: settings.policy,
    logger,
    ...(options.collectScores ? { collectScores: true } : {}),
  };
}

/** Everything an invocation needs, built once per container. */
export async function createInferenceRuntime(
  config: InferenceConfig,
  logger: LoggerPort,
  options: { ort?: OrtModule; sqs?: SQSClient } = {},
): Promise<InferenceRuntime> {
  const redis = createRedis(config.redisUrl, config.redisCommandTimeoutMs, logger);
  const sqs = options.sqs ?? new SQSClient({});
  const publisher: AnomalyPublisher = {
    publish: (anomalies: readonly Anomaly[]) =>
      sendAll(
        sqs,
        config.anomaliesQueueUrl,
        anomalies.map((a) => ({
          id: a.anomalyId,
          body: a,
          attributes: { 'kubepulse-kind': 'anomaly', 'kubepulse-cluster': a.clusterId },
        })),
      ),
  };
  // Connect while the models load: both are start-up waits, and onnxruntime's is the long one.
  const connected = connectRedis(redis, logger);
  const core = await createInferenceCore(redis, publisher, config, logger, { ort: options.ort });
  // Each digest goes to its own cluster's predictions queue, which only that cluster's relay can read: a relay
  // never sees (or deletes) another cluster's digests. A cluster without a predictions queue gets none.
  const predictionsUrlOf = (clusterId: string) =>
    config.clusters.byCluster.get(clusterId)?.predictionsQueueUrl;
  const predictionRelay: PredictionRelay | undefined = [...config.clusters.byCluster.values()].some(
    (c) => c.predictionsQueueUrl,
  )
    ? {
        send: async (digests) => {
          const byQueue = new Map<string, typeof digests>();
          for (const digest of digests) {
            const url = predictionsUrlOf(digest.clusterId);
            if (url) byQueue.set(url, [...(byQueue.get(url) ?? []), digest]);
          }
          for (const [url, list] of byQueue) {
            await sendAll(
              sqs,
              url,
              list.map((d) => ({ id: d.digestId, body: d, attributes: { 'kubepulse-kind': d.kind } })),
            );
          }
        },
      }
    : undefined;
  await connected;
  const registry = createRegistry('inference');
  const { modelVersion, window, stepSeconds } = core.scorer.metadata;
  logger.info('inference runtime ready', { modelVersion, window, stepSeconds });
  return {
    redis,
    registry,
    sqs,
    clusters: config.clusters,
    logger,
    validator: createRecordValidator(logger),
    ...(predictionRelay ? { predictionRelay } : {}),
    metrics: createInferenceMetrics(registry),
    core,
    async close() {
      redis.disconnect();
      if (!options.sqs) sqs.destroy();
    },
  };
}
