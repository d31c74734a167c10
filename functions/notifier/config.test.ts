import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../shared/errors.js';
import { readNotifierConfig } from './config.js';
import { destinationsFrom } from './runtime.js';

const base = {
  REDIS_URL: 'redis://127.0.0.1:6379',
  ALERTS_DLQ_URL: 'http://127.0.0.1:9324/123456789012/kubepulse-local-alerts-dlq',
};
const ROUTING_KEY = '0123456789abcdef0123456789abcdef';

describe('notifier configuration', () => {
  it('refuses to start with no destination, saying which variables to set', () => {
    assert.throws(
      () => readNotifierConfig({ ...base, SLACK_WEBHOOK_URL: '' }),
      (error: Error) =>
        error instanceof ConfigError &&
        /no destination configured: set SLACK_WEBHOOK_URL/.test(error.message),
    );
  });

  it('configures any subset of destinations, PagerDuty at its public endpoint by default', () => {
    const config = readNotifierConfig({
      ...base,
      PAGERDUTY_ROUTING_KEY: ROUTING_KEY,
      PAGERDUTY_EVENTS_URL: '',
    });
    assert.deepEqual(
      destinationsFrom(config.destinations).map((d) => d.name),
      ['pagerduty'],
    );
    assert.equal(config.destinations.pagerDuty?.eventsUrl, 'https://events.pagerduty.com/v2/enqueue');
    const all = readNotifierConfig({
      ...base,
      SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T/B/x',
      PAGERDUTY_ROUTING_KEY: ROUTING_KEY,
      WEBHOOK_URL: 'https://hooks.example.com/kubepulse',
      WEBHOOK_SECRET: 'sixteen-chars-or-more',
    });
    assert.deepEqual(
      destinationsFrom(all.destinations).map((d) => d.name),
      ['slack', 'pagerduty', 'webhook'],
    );
  });

  it('refuses secrets sent in clear to another machine, a short routing key, and a secret without a URL', () => {
    const problems = (env: Record<string, string>) => {
      try {
        readNotifierConfig({ ...base, ...env });
        return '';
      } catch (error) {
        return (error as Error).message;
      }
    };
    assert.match(
      problems({ SLACK_WEBHOOK_URL: 'http://hooks.slack.com/services/T/B/x' }),
      /SLACK_WEBHOOK_URL: must be https/,
    );
    assert.equal(problems({ WEBHOOK_URL: 'http://127.0.0.1:8080/hook' }), '');
    assert.match(
      problems({ PAGERDUTY_ROUTING_KEY: 'short' }),
      /PAGERDUTY_ROUTING_KEY: a PagerDuty integration key/,
    );
    assert.match(
      problems({ PAGERDUTY_ROUTING_KEY: ROUTING_KEY, WEBHOOK_SECRET: 'sixteen-chars-or-more' }),
      /WEBHOOK_SECRET: set without WEBHOOK_URL/,
    );
  });
});
