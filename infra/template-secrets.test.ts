import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findTemplateSecrets } from './template-secrets.js';

const fn = (Variables: Record<string, unknown>) => ({
  Resources: {
    PlannerLambdaFunction: { Type: 'AWS::Lambda::Function', Properties: { Environment: { Variables } } },
  },
});

describe('template secrets check', () => {
  it('passes references, blanks and a Redis URL without credentials', () => {
    assert.deepEqual(
      findTemplateSecrets(
        fn({
          REDIS_URL: 'redis://cache.internal:6379',
          PLAN_SIGNING_KEY_SECRET: 'secretsmanager:kubepulse/prod/plan-signing-key',
          GEMINI_API_KEY_SECRET: 'arn:aws:ssm:eu-west-1:111122223333:parameter/kubepulse/gemini',
          SLACK_WEBHOOK_URL_SECRET: '',
        }),
      ),
      [],
    );
  });

  const cases: [string, Record<string, unknown>, RegExp][] = [
    [
      'the signing key as a value',
      { PLAN_SIGNING_KEY: 'plan-1=abc' },
      /PLAN_SIGNING_KEY: a secret as a value/,
    ],
    ['a Gemini key as a value', { GEMINI_API_KEY: 'k' }, /GEMINI_API_KEY: a secret as a value/],
    [
      'a Slack webhook as a value',
      { SLACK_WEBHOOK_URL: 'https://x' },
      /SLACK_WEBHOOK_URL: a secret as a value/,
    ],
    [
      'a Redis URL with a password',
      { REDIS_URL: 'rediss://:pw12345@cache:6379' },
      /REDIS_URL: a Redis URL with credentials/,
    ],
    [
      'a value where the reference goes',
      { WEBHOOK_SECRET_SECRET: 'hunter2hunter2hunter2' },
      /not a reference/,
    ],
    [
      'a PEM key anywhere',
      { NOTE: '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA\n-----END PRIVATE KEY-----' },
      /PEM private key/,
    ],
    ['an AWS access key id anywhere', { X: 'AKIAIOSFODNN7EXAMPLE' }, /AWS access key id/],
    [
      'a Slack webhook anywhere',
      { X: 'https://hooks.slack.com/services/T000/B000/XXXX' },
      /Slack webhook URL/,
    ],
    [
      'a Stripe key anywhere',
      { NOTE: 'sk_live_4eC39HqLyjWDarjtT1zdp7dc51LkD3qZ' },
      /redaction takes for a secret/,
    ],
    [
      'a password in a JSON blob',
      { POLICY: '{"user":"svc","password":"p4ss-w0rd-2026"}' },
      /redaction takes for a secret/,
    ],
  ];
  for (const [name, variables, reason] of cases) {
    it(`finds ${name}, without printing it`, () => {
      const findings = findTemplateSecrets(fn(variables));
      assert.ok(
        findings.some((f) => reason.test(`${f.where}: ${f.problem}`)),
        JSON.stringify(findings),
      );
      for (const value of Object.values(variables)) {
        assert.ok(!JSON.stringify(findings).includes(String(value)), 'a finding must not repeat the value');
      }
    });
  }
});
