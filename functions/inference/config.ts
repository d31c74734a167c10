import { z } from 'zod';
import { clusterBySource, clusterQueuesSchema, sqsArn } from '../shared/clusters.js';
import { env, readConfig } from '../shared/config.js';
import { REDIS_URL_SETTING, resolveSecretEnv, type SecretStore } from '../shared/secrets.js';
import { DEFAULT_DETECTION_POLICY } from './core/defaults.js';

export const InferenceConfigSchema = z
  .object({
    REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL'),
    ANOMALIES_QUEUE_URL: env.url(),
    /**
     * Per cluster (JSON keyed by cluster id, generated from the cluster list): the ARN of its samples queue (a
     * record's cluster is the queue it came from), the DLQ where its records that can never be processed go at once
     * with their reason, and optionally its predictions queue for the in-cluster relay (kubepulse_predicted_*_ratio).
     */
    CLUSTER_QUEUES: clusterQueuesSchema({
      samplesQueueArn: sqsArn,
      samplesDlqUrl: z.url(),
      predictionsQueueUrl: z.url().optional(),
    }),
    MODEL_DIR: env.text('models/dist'),
    /** Directory with onnxruntime-web's .wasm/.mjs; defaults to the package's own dist folder. */
    ORT_WASM_DIR: z.string().min(1).optional(),
    WINDOW_TTL_SECONDS: env.integer(6 * 3600, 60),
    INVENTORY_TTL_SECONDS: env.integer(3600, 60),
    EVENT_DEDUP_TTL_SECONDS: env.integer(24 * 3600, 60),
    /** How many samples beyond one window Redis keeps per series, so a burst of samples can all be scored. */
    WINDOW_SLACK: env.integer(64, 0, 4096),
    /**
     * Consecutive samples whose forecast reaches the limit within TIME_TO_LIMIT_ALERT_SECONDS before an incident
     * opens. Classifier-only evidence follows the model's own calibration (metadata.json `classifier.incident`).
     */
    OPEN_AFTER_SAMPLES: env.integer(DEFAULT_DETECTION_POLICY.openAfter, 1, 100),
    CLOSE_AFTER_SAMPLES: env.integer(DEFAULT_DETECTION_POLICY.closeAfter, 1, 1000),
    TIME_TO_LIMIT_ALERT_SECONDS: env.integer(DEFAULT_DETECTION_POLICY.timeToLimitAlertSeconds, 0),
    REDIS_COMMAND_TIMEOUT_MS: env.integer(2000, 50),
    PUSHGATEWAY_URL: env.optionalUrl(),
    KUBEPULSE_STAGE: env.text('dev'),
  })
  .transform((raw, ctx) => ({
    redisUrl: raw.REDIS_URL,
    anomaliesQueueUrl: raw.ANOMALIES_QUEUE_URL,
    clusters: clustersOf(raw.CLUSTER_QUEUES, ctx),
    modelDir: raw.MODEL_DIR,
    ortWasmDir: raw.ORT_WASM_DIR,
    windowTtlSeconds: raw.WINDOW_TTL_SECONDS,
    inventoryTtlSeconds: raw.INVENTORY_TTL_SECONDS,
    eventDedupTtlSeconds: raw.EVENT_DEDUP_TTL_SECONDS,
    windowSlack: raw.WINDOW_SLACK,
    policy: {
      openAfter: raw.OPEN_AFTER_SAMPLES,
      closeAfter: raw.CLOSE_AFTER_SAMPLES,
      timeToLimitAlertSeconds: raw.TIME_TO_LIMIT_ALERT_SECONDS,
    },
    redisCommandTimeoutMs: raw.REDIS_COMMAND_TIMEOUT_MS,
    pushgatewayUrl: raw.PUSHGATEWAY_URL,
    stage: raw.KUBEPULSE_STAGE,
  }));

export type InferenceConfig = z.infer<typeof InferenceConfigSchema>;

export const readInferenceConfig = (source: Record<string, string | undefined> = process.env) =>
  readConfig(InferenceConfigSchema, source);

/** The cold start's reader: a Redis URL with a password comes from a store (REDIS_URL_SECRET). */
export const loadInferenceConfig = async (
  source: Record<string, string | undefined> = process.env,
  store?: SecretStore,
) => readInferenceConfig(await resolveSecretEnv(source, [REDIS_URL_SETTING], store));

type InferenceClusterQueues = Record<
  string,
  { samplesQueueArn: string; samplesDlqUrl: string; predictionsQueueUrl?: string | undefined }
>;

/** Each cluster's queues, and which cluster each samples queue belongs to. */
export interface InferenceClusters {
  byCluster: ReadonlyMap<string, InferenceClusterQueues[string]>;
  /** samples queue ARN -> cluster id */
  bySource: ReadonlyMap<string, string>;
}

function clustersOf(map: InferenceClusterQueues, ctx: z.RefinementCtx): InferenceClusters {
  try {
    return { byCluster: new Map(Object.entries(map)), bySource: clusterBySource(map, 'samplesQueueArn') };
  } catch (error) {
    ctx.addIssue({ code: 'custom', path: ['CLUSTER_QUEUES'], message: (error as Error).message });
    return z.NEVER;
  }
}
