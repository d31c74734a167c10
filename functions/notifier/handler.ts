import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createLogger } from '../shared/logger.js';
import { pushMetrics } from '../shared/metrics.js';
import { readNotifierConfig } from './config.js';
import { handleAlertsEvent } from './handle-alerts-event.js';
import { createNotifierRuntime, type NotifierRuntime } from './runtime.js';

// Read once per container: no destination, or a bad one, fails the cold start loudly.
const config = readNotifierConfig();
const logger = createLogger('kubepulse-notifier', { stage: config.stage });
let runtime: Promise<NotifierRuntime> | undefined;
const startRuntime = () =>
  createNotifierRuntime(config, logger).catch((error) => {
    runtime = undefined;
    throw error;
  });
runtime = startRuntime();
runtime.catch((error) => logger.error('notifier runtime failed to start', { error }));

/** Time kept back from Lambda's deadline to quarantine, answer and push metrics after the last delivery. */
const FINISHING_MS = 3000;

// The trigger uses ReportBatchItemFailures: only the listed records are retried (and, in time, dead-lettered).
export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  runtime ??= startRuntime();
  const deps = await runtime;
  const deadline = Date.now() + context.getRemainingTimeInMillis() - FINISHING_MS;
  const { failures } = await handleAlertsEvent(event.Records, deps, deadline);
  const response: SQSBatchResponse = {
    batchItemFailures: [...failures.keys()].map((itemIdentifier) => ({ itemIdentifier })),
  };
  await pushMetrics(deps.registry, config.pushgatewayUrl, 'kubepulse-notifier', logger);
  return response;
};

/** Closes the Redis and SQS clients; Lambda sends SIGTERM before it recycles an environment. */
export async function shutdown(): Promise<void> {
  const current = runtime;
  runtime = undefined;
  if (current) await (await current.catch(() => undefined))?.close();
}
process.once('SIGTERM', () => {
  void shutdown();
});
