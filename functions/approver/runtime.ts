import { SQSClient } from '@aws-sdk/client-sqs';
import type { Redis } from 'ioredis';
import { RedisPlannerState } from '../planner/adapters/redis-planner-state.js';
import type { LoggerPort } from '../shared/logger.js';
import { connectRedis, createRedis } from '../shared/redis.js';
import { RedisApprovalStore } from './adapters/redis-approvals.js';
import { sqsOutputs } from './adapters/sqs-outputs.js';
import type { ApproverConfig } from './config.js';
import type { ApproverEventDeps } from './handle-http-event.js';

export interface ApproverRuntime extends ApproverEventDeps {
  redis: Redis;
  close(): Promise<void>;
}

/** Everything a request needs, built once per container. */
export async function createApproverRuntime(
  config: ApproverConfig,
  logger: LoggerPort,
  options: { sqs?: SQSClient; clock?: () => Date } = {},
): Promise<ApproverRuntime> {
  const redis = createRedis(config.redisUrl, config.redisCommandTimeoutMs, logger);
  await connectRedis(redis, logger);
  const sqs = options.sqs ?? new SQSClient({});
  logger.info('approver runtime ready', {
    signingKeys: Object.fromEntries([...config.signers].map(([cluster, signer]) => [cluster, signer.keyId])),
    sealKeys: [...config.sealKeys.keys()],
    slack: config.slack.signingSecret ? `${config.slack.approvers.size} approvers` : 'off',
  });
  return {
    redis,
    slack: config.slack,
    core: {
      store: new RedisApprovalStore(new RedisPlannerState(redis)),
      outputs: sqsOutputs(sqs, config.queues),
      signers: config.signers,
      sealKeys: config.sealKeys,
      policy: config.policy,
      planTtlSeconds: config.planTtlSeconds,
      clock: options.clock ?? (() => new Date()),
      logger,
    },
    async close() {
      redis.disconnect();
      if (!options.sqs) sqs.destroy();
    },
  };
}
