import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { ConfigError } from '../shared/errors.js';
import { generateSigningKeyPair } from '../shared/signing.js';
import { readExecutorConfig } from './config.js';

const require = createRequire(import.meta.url);
const { queues } = require('../../infra/queues.cjs') as {
  queues: Array<{ key: string; maxReceiveCount: number }>;
};

const pair = generateSigningKeyPair('k1');
const base = {
  CLUSTER_ID: 'dev',
  REMEDIATIONS_QUEUE_URL: 'http://127.0.0.1:9324/123456789012/kubepulse-local-remediations.fifo',
  REMEDIATIONS_DLQ_URL: 'http://127.0.0.1:9324/123456789012/kubepulse-local-remediations-dlq.fifo',
  RESULTS_QUEUE_URL: 'http://127.0.0.1:9324/123456789012/kubepulse-local-results',
  PLAN_PUBLIC_KEYS: pair.publicKeyEntry,
};

describe('executor configuration', () => {
  it('defaults to the safe side: dry runs only, default allowlist, a cooldown', () => {
    const config = readExecutorConfig(base);
    assert.equal(config.policy.dryRun, true);
    assert.ok(!config.policy.enabledActions.includes('uncordon'));
    assert.equal(config.settings.cooldownSeconds, 900);
    assert.equal(config.keyring.size, 1);
    assert.equal(config.settings.maxPlanLifetimeSeconds, 3600);
    // The queue's own maxReceiveCount: generous, so the doubling backoff covers hours of outage.
    assert.equal(config.polling.maxReceives, queues.find((q) => q.key === 'remediations')?.maxReceiveCount);
    assert.equal(config.polling.maxReceives, 50);
    assert.equal(config.polling.maxRetryDelaySeconds, 300);
    assert.deepEqual(config.limits, { maxWritesPerHour: 30, maxRollbacksPerHour: 3 });
    assert.deepEqual(config.sweep, { intervalSeconds: 300, idleSeconds: 900 });
  });

  it('refuses a sweeper that would take over plans whose owner is still within its lease', () => {
    assert.throws(
      () => readExecutorConfig({ ...base, LEASE_SECONDS: '600', SWEEP_AFTER_SECONDS: '300' }),
      (error: unknown) => error instanceof ConfigError && /SWEEP_AFTER_SECONDS/.test(error.message),
    );
  });

  it('reads its own policy from JSON', () => {
    const config = readExecutorConfig({
      ...base,
      EXECUTOR_POLICY: JSON.stringify({
        dryRun: false,
        enabledActions: ['scale'],
        namespaces: { allow: ['shop'] },
      }),
    });
    assert.equal(config.policy.dryRun, false);
    assert.deepEqual(config.policy.enabledActions, ['scale']);
    assert.deepEqual(config.policy.namespaces.allow, ['shop']);
  });

  it('reports every bad variable at once', () => {
    assert.throws(
      () =>
        readExecutorConfig({
          ...base,
          PLAN_PUBLIC_KEYS: 'k1=c2hvcnQ=',
          EXECUTOR_POLICY: '{"enabledActions":["reboot"]}',
          RESULTS_QUEUE_URL: 'not a url',
        }),
      (error: unknown) =>
        error instanceof ConfigError &&
        /PLAN_PUBLIC_KEYS/.test(error.message) &&
        /EXECUTOR_POLICY/.test(error.message) &&
        /RESULTS_QUEUE_URL/.test(error.message),
    );
  });
});
