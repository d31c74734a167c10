import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createLogger } from '../shared/logger.js';
import { pushMetrics } from '../shared/metrics.js';
import { readPlannerConfig } from './config.js';
import { handlePlannerEvent, llmDeadlineOf } from './handle-planner-event.js';
import { createPlannerRuntime, type PlannerRuntime } from './runtime.js';

// Read once per container: a bad policy, key or setting fails the cold start loudly.
const config = readPlannerConfig();
const logger = createLogger('kubepulse-planner', { stage: config.stage });
let runtime: Promise<PlannerRuntime> | undefined;
const startRuntime = () =>
  createPlannerRuntime(config, logger).catch((error) => {
    runtime = undefined;
    throw error;
  });
runtime = startRuntime();
runtime.catch((error) => logger.error('planner runtime failed to start', { error }));

// The triggers use ReportBatchItemFailures: only the listed records are retried (and, in time, dead-lettered).
export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  runtime ??= startRuntime();
  const deps = await runtime;
  const { failures } = await handlePlannerEvent(event.Records, deps, llmDeadlineOf(context));
  const response: SQSBatchResponse = {
    batchItemFailures: [...failures.keys()].map((itemIdentifier) => ({ itemIdentifier })),
  };
  await pushMetrics(deps.registry, config.pushgatewayUrl, 'kubepulse-planner', logger);
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
