import { SQSClient } from '@aws-sdk/client-sqs';
import { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import type { LoggerPort } from '../shared/logger.js';
import { createRegistry } from '../shared/metrics.js';
import type { PlannerConfig } from './config.js';
import { createRedactor } from './core/redact.js';
import { RedisPlannerState } from './core/redis-state.js';
import { createRecordValidator, type PlannerEventDeps } from './handle-planner-event.js';
import { createPlannerFromConfig } from './llm/from-config.js';
import { createLlmMetrics } from './llm/metrics.js';
import { createPlannerMetrics } from './metrics.js';

export interface PlannerRuntime extends PlannerEventDeps {
  redis: Redis;
  registry: Registry;
  close(): Promise<void>;
}

/** Everything an invocation needs, built once per container. */
export async function createPlannerRuntime(
  config: PlannerConfig,
  logger: LoggerPort,
  options: { sqs?: SQSClient } = {},
): Promise<PlannerRuntime> {
  const redis = new Redis(config.redisUrl, {
    lazyConnect: true,
    // Fail fast while Redis is away: the records go back to SQS rather than waiting in memory.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: config.redisCommandTimeoutMs,
    connectTimeout: config.redisCommandTimeoutMs,
    retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 2000),
  });
  redis.on('error', (error) => logger.warn('redis connection error', { error: error.message }));
  try {
    await redis.connect();
  } catch (error) {
    // Not fatal at start-up: each invocation retries its records until Redis is back, and ioredis reconnects.
    logger.warn('redis not reachable at start-up', { error: (error as Error).message });
  }
  const sqs = options.sqs ?? new SQSClient({});
  const registry = createRegistry('planner');
  const llm = createPlannerFromConfig(config.llm, { redis, metrics: createLlmMetrics(registry), logger });
  logger.info('planner runtime ready', {
    llm: config.llm.gemini ? config.llm.gemini.model : 'none (runbooks only)',
    signingKey: config.signing.signer.keyId,
    dryRun: config.policy.dryRun,
    enabledActions: config.policy.enabledActions,
  });
  return {
    redis,
    registry,
    sqs,
    queues: config.queues,
    logger,
    validator: createRecordValidator(logger),
    metrics: createPlannerMetrics(registry),
    core: {
      ...(llm ? { llm } : {}),
      state: new RedisPlannerState(redis),
      clock: () => new Date(),
      signer: config.signing.signer,
      policy: config.policy,
      redactor: createRedactor(config.redactPatterns),
      logger,
      settings: config.settings,
    },
    async close() {
      redis.disconnect();
      if (!options.sqs) sqs.destroy();
    },
  };
}
