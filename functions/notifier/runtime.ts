import { SQSClient } from '@aws-sdk/client-sqs';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import type { LoggerPort } from '../shared/logger.js';
import { createRegistry } from '../shared/metrics.js';
import { connectRedis, createRedis } from '../shared/redis.js';
import { attemptDelivery } from './adapters/http-attempt.js';
import { redisDeliveryLedger } from './adapters/redis-delivery-ledger.js';
import type { NotifierConfig } from './config.js';
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
  const redis = createRedis(config.redisUrl, config.redisCommandTimeoutMs, logger);
  await connectRedis(redis, logger);
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
      send: attemptDelivery,
    },
    async close() {
      redis.disconnect();
      if (!options.sqs) sqs.destroy();
    },
  };
}
