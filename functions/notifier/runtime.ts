import { SQSClient } from '@aws-sdk/client-sqs';
import { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import type { LoggerPort } from '../shared/logger.js';
import { createRegistry } from '../shared/metrics.js';
import type { NotifierConfig } from './config.js';
import { redisDeliveryLedger } from './core/delivery-ledger.js';
import type { Destination } from './core/destination.js';
import { pagerDutyDestination } from './core/pagerduty-event.js';
import { slackDestination } from './core/slack-message.js';
import { webhookDestination } from './core/webhook-request.js';
import { type AlertsEventDeps, createRecordValidator } from './handle-alerts-event.js';
import { createNotifierMetrics } from './metrics.js';

export interface NotifierRuntime extends AlertsEventDeps {
  redis: Redis;
  registry: Registry;
  close(): Promise<void>;
}

/** The configured destinations, in a fixed order. */
export function destinationsFrom(config: NotifierConfig['destinations']): Destination[] {
  const { slack, pagerDuty, webhook } = config;
  return [
    ...(slack ? [slackDestination(slack.webhookUrl)] : []),
    ...(pagerDuty ? [pagerDutyDestination(pagerDuty.routingKey, pagerDuty.eventsUrl)] : []),
    ...(webhook ? [webhookDestination(webhook.url, webhook.secret)] : []),
  ];
}

/** Everything an invocation needs, built once per container. */
export async function createNotifierRuntime(
  config: NotifierConfig,
  logger: LoggerPort,
  options: { sqs?: SQSClient } = {},
): Promise<NotifierRuntime> {
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
  const destinations = destinationsFrom(config.destinations);
  const registry = createRegistry('notifier');
  logger.info('notifier runtime ready', { destinations: destinations.map((d) => d.name) });
  return {
    redis,
    registry,
    sqs,
    alertsDlqUrl: config.alertsDlqUrl,
    logger,
    validator: createRecordValidator(logger),
    metrics: createNotifierMetrics(registry),
    core: {
      destinations,
      ledger: redisDeliveryLedger(redis, config.ledger),
      retry: config.retry,
      logger,
    },
    async close() {
      redis.disconnect();
      if (!options.sqs) sqs.destroy();
    },
  };
}
