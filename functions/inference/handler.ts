import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { createLogger } from '../shared/logger.js';
import { pushMetrics } from '../shared/metrics.js';
import { readInferenceConfig } from './config.js';
import { handleSamplesEvent } from './handle-samples-event.js';
import { createInferenceRuntime, type InferenceRuntime } from './runtime.js';

// Read once per container: a bad configuration fails the cold start loudly instead of every record quietly.
const config = readInferenceConfig();
const logger = createLogger('kubepulse-inference', { stage: config.stage });
const processor = new BatchProcessor(EventType.SQS);
let runtime: Promise<InferenceRuntime> | undefined;
const startRuntime = () =>
  createInferenceRuntime(config, logger).catch((error) => {
    runtime = undefined;
    throw error;
  });
// Started during Lambda's init phase, which runs with a full vCPU; an init failure is retried on first use.
runtime = startRuntime();
runtime.catch((error) => logger.error('inference runtime failed to start', { error }));

export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  runtime ??= startRuntime();
  const deps = await runtime;
  const { failures } = await handleSamplesEvent(event.Records, deps);
  const response = await processPartialResponse(
    event,
    async (record: SQSRecord) => {
      const failure = failures.get(record.messageId);
      if (failure) throw failure;
    },
    processor,
    { context, throwOnFullBatchFailure: false },
  );
  await pushMetrics(deps.registry, config.pushgatewayUrl, 'kubepulse-inference', logger);
  return response;
};

/** Closes Redis and SQS clients; Lambda sends SIGTERM before it recycles an environment. */
export async function shutdown(): Promise<void> {
  const current = runtime;
  runtime = undefined;
  if (current) await (await current.catch(() => undefined))?.close();
}
process.once('SIGTERM', () => {
  void shutdown();
});
