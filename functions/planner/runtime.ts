import { SQSClient } from '@aws-sdk/client-sqs';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import type { LoggerPort } from '../shared/logger.js';
import { createRegistry } from '../shared/metrics.js';
import { createRedactor } from '../shared/redaction/redact.js';
import { connectRedis, createRedis } from '../shared/redis.js';
import { RedisPlannerState } from './adapters/redis-planner-state.js';
import type { PlannerConfig } from './config.js';
import { createRecordValidator, type PlannerEventDeps } from './handle-planner-event.js';
import { createPlannerFromConfig, describeLlm } from './llm/from-config.js';
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
  const redis = createRedis(config.redisUrl, config.redisCommandTimeoutMs, logger);
  await connectRedis(redis, logger);
  const sqs = options.sqs ?? new SQSClient({});
  const registry = createRegistry('planner');
  const llm = createPlannerFromConfig(config.llm, { redis, metrics: createLlmMetrics(registry), logger });
  logger.info('planner runtime ready', {
    llm: describeLlm(config.llm),
    signingKeys: Object.fromEntries([...config.signing.signers].map(([c, k]) => [c, k.keyId])),
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
      signers: config.signing.signers,
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
