import { z } from 'zod';
import { env, readConfig } from '../shared/config.js';
import { REDIS_URL_SETTING, resolveSecretEnv, type SecretStore } from '../shared/secrets.js';
import { PAGERDUTY_EVENTS_URL } from './core/pagerduty-event.js';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Unset or empty (a deploy parameter left blank) both mean "not configured". */
const blankAsUnset = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (value === '' ? undefined : value), schema);
const optional = <T extends z.ZodType>(schema: T) => blankAsUnset(schema.optional());

/** Destination URLs carry secrets (a Slack webhook URL is one): https only, plain http to this machine only. */
const secretUrl = z.url().refine((value) => {
  const url = new URL(value);
  return url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname));
}, 'must be https (plain http only to a loopback address)');

export const NotifierConfigSchema = z
  .object({
    REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL'),
    /** Where records that can never be delivered go at once, with their reason attached. */
    ALERTS_DLQ_URL: env.url(),
    SLACK_WEBHOOK_URL: optional(secretUrl),
    PAGERDUTY_ROUTING_KEY: optional(z.string().length(32, 'a PagerDuty integration key is 32 characters')),
    PAGERDUTY_EVENTS_URL: blankAsUnset(secretUrl.default(PAGERDUTY_EVENTS_URL)),
    WEBHOOK_URL: optional(secretUrl),
    /** Signs webhook bodies (HMAC-SHA256) when set. */
    WEBHOOK_SECRET: optional(z.string().min(16, 'use a webhook secret of at least 16 characters')),
    DELIVERY_MAX_ATTEMPTS: env.integer(4, 1, 10),
    DELIVERY_BASE_DELAY_MS: env.integer(250, 1, 60_000),
    DELIVERY_MAX_DELAY_MS: env.integer(8000, 1, 300_000),
    DELIVERY_REQUEST_TIMEOUT_MS: env.integer(5000, 100, 60_000),
    /** 14 days, the alerts DLQ's retention: a record redriven from the DLQ still skips what was delivered. */
    DELIVERED_TTL_SECONDS: env.integer(14 * 24 * 3600, 60),
    /** Longer than the function's timeout, shorter than the alerts queue's visibility timeout (180 s). */
    DELIVERY_CLAIM_TTL_SECONDS: env.integer(90, 1, 3600),
    REDIS_COMMAND_TIMEOUT_MS: env.integer(2000, 50),
    PUSHGATEWAY_URL: env.optionalUrl(),
    KUBEPULSE_STAGE: env.text('dev'),
  })
  .superRefine((raw, ctx) => {
    if (!raw.SLACK_WEBHOOK_URL && !raw.PAGERDUTY_ROUTING_KEY && !raw.WEBHOOK_URL) {
      ctx.addIssue({
        code: 'custom',
        message:
          'no destination configured: set SLACK_WEBHOOK_URL, PAGERDUTY_ROUTING_KEY and/or WEBHOOK_URL; alerts would go nowhere',
      });
    }
    if (raw.WEBHOOK_SECRET && !raw.WEBHOOK_URL) {
      ctx.addIssue({ code: 'custom', path: ['WEBHOOK_SECRET'], message: 'set without WEBHOOK_URL' });
    }
  })
  .transform((raw) => ({
    redisUrl: raw.REDIS_URL,
    alertsDlqUrl: raw.ALERTS_DLQ_URL,
    destinations: {
      ...(raw.SLACK_WEBHOOK_URL ? { slack: { webhookUrl: raw.SLACK_WEBHOOK_URL } } : {}),
      ...(raw.PAGERDUTY_ROUTING_KEY
        ? { pagerDuty: { routingKey: raw.PAGERDUTY_ROUTING_KEY, eventsUrl: raw.PAGERDUTY_EVENTS_URL } }
        : {}),
      ...(raw.WEBHOOK_URL ? { webhook: { url: raw.WEBHOOK_URL, secret: raw.WEBHOOK_SECRET } } : {}),
    },
    retry: {
      maxAttempts: raw.DELIVERY_MAX_ATTEMPTS,
      baseDelayMs: raw.DELIVERY_BASE_DELAY_MS,
      maxDelayMs: raw.DELIVERY_MAX_DELAY_MS,
      requestTimeoutMs: raw.DELIVERY_REQUEST_TIMEOUT_MS,
    },
    ledger: {
      deliveredTtlSeconds: raw.DELIVERED_TTL_SECONDS,
      claimTtlSeconds: raw.DELIVERY_CLAIM_TTL_SECONDS,
    },
    redisCommandTimeoutMs: raw.REDIS_COMMAND_TIMEOUT_MS,
    pushgatewayUrl: raw.PUSHGATEWAY_URL,
    stage: raw.KUBEPULSE_STAGE,
  }));

export type NotifierConfig = z.infer<typeof NotifierConfigSchema>;

export const readNotifierConfig = (source: Record<string, string | undefined> = process.env) =>
  readConfig(NotifierConfigSchema, source);

/** Every destination's address or key is a credential: each may come from a store (`<NAME>_SECRET`). */
export const NOTIFIER_SECRETS = [
  REDIS_URL_SETTING,
  'SLACK_WEBHOOK_URL',
  'PAGERDUTY_ROUTING_KEY',
  'WEBHOOK_URL',
  'WEBHOOK_SECRET',
] as const;

/** The cold start's reader: secrets fetched from their stores first, then everything checked at once. */
export const loadNotifierConfig = async (
  source: Record<string, string | undefined> = process.env,
  store?: SecretStore,
) => readNotifierConfig(await resolveSecretEnv(source, NOTIFIER_SECRETS, store));
