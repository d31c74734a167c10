import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { Registry } from 'prom-client';
import { pushMetrics } from '../metrics.js';

/** What a function builds once per container: its clients, its metrics registry, and a way to close them. */
export interface FunctionRuntime {
  registry: Registry;
  close(): Promise<void>;
}

export interface SqsFunctionOptions<R extends FunctionRuntime> {
  /** The function's name in logs and in the Pushgateway's job label. */
  name: string;
  logger: Logger;
  pushgatewayUrl: string | undefined;
  start(): Promise<R>;
  /** The pure part: which records must be retried. */
  handle(records: SQSRecord[], runtime: R, context: Context): Promise<{ failures: Map<string, unknown> }>;
}

/**
 * The Lambda adapter every SQS-triggered function shares. The runtime starts during Lambda's init phase (which
 * runs with a full vCPU); a failed start is logged and retried on the next invocation rather than kept. The
 * triggers use ReportBatchItemFailures: only the records `handle` lists are retried, and in time dead-lettered.
 * SIGTERM, which Lambda sends before it recycles an environment, closes the runtime's clients.
 */
export function sqsFunction<R extends FunctionRuntime>(options: SqsFunctionOptions<R>) {
  const { name, logger } = options;
  let runtime: Promise<R> | undefined;
  const start = () =>
    options.start().catch((error) => {
      runtime = undefined;
      throw error;
    });
  runtime = start();
  runtime.catch((error) => logger.error(`${name} runtime failed to start`, { error }));

  const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    runtime ??= start();
    const deps = await runtime;
    const { failures } = await options.handle(event.Records, deps, context);
    const response: SQSBatchResponse = {
      batchItemFailures: [...failures.keys()].map((itemIdentifier) => ({ itemIdentifier })),
    };
    await pushMetrics(deps.registry, options.pushgatewayUrl, name, logger);
    return response;
  };

  const shutdown = async (): Promise<void> => {
    const current = runtime;
    runtime = undefined;
    if (current) await (await current.catch(() => undefined))?.close();
  };
  process.once('SIGTERM', () => {
    void shutdown();
  });
  return { handler, shutdown };
}
