import { resolve } from 'node:path';
import { clusterQueuesEnv, type SqsEmulator } from '../../standins/sqs/emulator.js';

/**
 * The environment the inference handler reads at start-up, pointed at local stand-ins: a Redis URL, the SQS
 * emulator (through AWS_ENDPOINT_URL_SQS, as the SDK reads it) and the committed models.
 */
export function localInferenceEnv(redisUrl: string, emulator: SqsEmulator): Record<string, string> {
  return {
    REDIS_URL: redisUrl,
    ANOMALIES_QUEUE_URL: emulator.queueUrls.anomalies!,
    CLUSTER_QUEUES: clusterQueuesEnv(emulator).inference,
    MODEL_DIR: resolve('models/dist'),
    AWS_ENDPOINT_URL_SQS: emulator.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    POWERTOOLS_LOG_LEVEL: 'ERROR',
  };
}
