import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createLogger } from '../shared/logger.js';
import { pushMetrics } from '../shared/metrics.js';
import { readInferenceConfig } from './config.js';
import { handleSamplesEvent } from './handle-samples-event.js';
import { createInferenceRuntime, type InferenceRuntime } from './runtime.js';

// Read once per container: a bad configuration fails the cold start loudly instead of every record quietly.
const config = readInferenceConfig();
const logger = createLogger('kubepulse-inference', { stage: config.stage });
let runtime: Promise<InferenceRuntime> | undefined;
const startRuntime = () =>
  createInferenceRuntime(config, logger).catch((error) => {
    runtime = undefined;
    throw error;
  });
// Started during Lambda's init phase, which runs with a full vCPU; an init failure is retried on first use.
runtime = startRuntime();
runtime.catch((error) => logger.error('inference runtime failed to start', { error }));

// The trigger uses ReportBatchItemFailures: only the listed records are retried (and, in time, dead-lettered).
export const handler = async (event: SQSEvent, _context: Context): Promise<SQSBatchResponse> => {
  runtime ??= startRuntime();
  const deps = await runtime;
  const { failures } = await handleSamplesEvent(event.Records, deps);
  const response: SQSBatchResponse = {
    batchItemFailures: [...failures.keys()].map((itemIdentifier) => ({ itemIdentifier })),
  };
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
