import { Pushgateway, Registry } from 'prom-client';
import { describeError } from './errors.js';
import type { LoggerPort } from './logger.js';

/** One registry per function, every series labelled with the function's name. */
export function createRegistry(functionName: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ function: functionName });
  return registry;
}

/**
 * A Lambda function cannot be scraped, so when a Pushgateway is configured its metrics are pushed after each
 * invocation. Best effort: a metrics outage is logged and never fails the work itself.
 */
export async function pushMetrics(
  registry: Registry,
  pushgatewayUrl: string | undefined,
  jobName: string,
  logger: LoggerPort,
): Promise<void> {
  if (!pushgatewayUrl) return;
  try {
    await new Pushgateway(pushgatewayUrl, { timeout: 1000 }, registry).pushAdd({ jobName });
  } catch (error) {
    logger.warn('pushing metrics failed', { error: describeError(error) });
  }
}
