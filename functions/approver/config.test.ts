import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateSigningKeyPair } from '../shared/signing.js';
import { readApproverConfig } from './config.js';

const pair = generateSigningKeyPair('k1');
const base = {
  REDIS_URL: 'redis://127.0.0.1:6379',
  CLUSTER_QUEUES: JSON.stringify({
    local: {
      remediationsQueueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/remediations-local.fifo',
    },
  }),
  ALERTS_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/alerts',
  PLAN_SIGNING_KEY: pair.signingKey,
};

describe('approver configuration', () => {
  it('trusts the seals of its own signing key, and Slack is off without a secret', () => {
    const config = readApproverConfig(base);
    assert.deepEqual([...config.sealKeys.keys()], ['k1']);
    assert.equal(config.slack.signingSecret, undefined);
    assert.equal(config.policy.dryRun, true, 'the default policy');
  });

  const refused: Array<[string, Record<string, string>, RegExp]> = [
    ['no signing key', { PLAN_SIGNING_KEY: '' }, /PLAN_SIGNING_KEY/],
    [
      'a public key where the signing key belongs',
      { PLAN_SIGNING_KEY: pair.publicKeyEntry },
      /PLAN_SIGNING_KEY/,
    ],
    ['a Slack secret without an allowlist', { SLACK_SIGNING_SECRET: 's'.repeat(32) }, /SLACK_APPROVER_IDS/],
    ['an allowlist of names, not Slack ids', { SLACK_APPROVER_IDS: 'alice,bob' }, /SLACK_APPROVER_IDS/],
    [
      'one key for two clusters',
      {
        CLUSTER_QUEUES: JSON.stringify({
          a: { remediationsQueueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/remediations-a.fifo' },
          b: { remediationsQueueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/remediations-b.fifo' },
        }),
      },
      /one key for 2 clusters/,
    ],
    ['an invalid policy', { REMEDIATION_POLICY: '{"maxActionsPerPlan": 99}' }, /REMEDIATION_POLICY/],
  ];
  for (const [name, overrides, message] of refused) {
    it(`refuses ${name}`, () => {
      assert.throws(() => readApproverConfig({ ...base, ...overrides }), message);
    });
  }
});
