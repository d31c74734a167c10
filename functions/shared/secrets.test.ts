import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type SecretsStandIn, startSecretsStandIn } from '../../local/standins/secrets/server.js';
import { ConfigError, DependencyUnavailableError } from './errors.js';
import {
  awsSecretStore,
  parseSecretRef,
  REDIS_URL_SETTING,
  resolveSecretEnv,
  SecretNotUsableError,
} from './secrets.js';

describe('parseSecretRef', () => {
  const cases: [string, ReturnType<typeof parseSecretRef> | RegExp][] = [
    [
      'arn:aws:secretsmanager:eu-west-1:111122223333:secret:kubepulse/plan-key-AbCdEf',
      {
        store: 'secretsmanager',
        id: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:kubepulse/plan-key-AbCdEf',
      },
    ],
    [
      'arn:aws:ssm:eu-west-1:111122223333:parameter/kubepulse/prod/gemini',
      { store: 'ssm', name: 'arn:aws:ssm:eu-west-1:111122223333:parameter/kubepulse/prod/gemini' },
    ],
    ['secretsmanager:kubepulse/plan-key', { store: 'secretsmanager', id: 'kubepulse/plan-key' }],
    ['ssm:/kubepulse/prod/gemini', { store: 'ssm', name: '/kubepulse/prod/gemini' }],
    // What a value looks like, put where a reference goes: refused, and the refusal says so.
    ['AIzaSyDUMMYDUMMYDUMMYDUMMYDUMMYDUMMY12', /neither an ARN/],
    ['plan-2026=MC4CAQAwBQYDK2VwBCIEI', /neither an ARN/],
    ['arn:aws:s3:::bucket/key', /not a secret or an SSM parameter/],
    ['arn:aws:lambda:us-east-1:111122223333:function:x', /not a secret or an SSM parameter/],
    ['ssm:', /neither an ARN/],
  ];
  for (const [input, expected] of cases) {
    it(input.slice(0, 50), () => {
      if (expected instanceof RegExp) {
        assert.throws(
          () => parseSecretRef(input),
          (error: unknown) => error instanceof ConfigError && expected.test(error.message),
        );
      } else {
        assert.deepEqual(parseSecretRef(input), expected);
      }
    });
  }
});

describe('resolveSecretEnv against the Secrets Manager / SSM stand-in (real SDK path)', () => {
  let store: SecretsStandIn;
  const saved: Record<string, string | undefined> = {};
  const endpointEnv = [
    'AWS_ENDPOINT_URL_SECRETS_MANAGER',
    'AWS_ENDPOINT_URL_SSM',
    'AWS_REGION',
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
    'AWS_MAX_ATTEMPTS',
  ];

  before(async () => {
    store = await startSecretsStandIn();
    for (const name of endpointEnv) saved[name] = process.env[name];
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_SECRETS_MANAGER: store.url,
      AWS_ENDPOINT_URL_SSM: store.url,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_MAX_ATTEMPTS: '1',
    });
  });
  after(async () => {
    for (const name of endpointEnv) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
    await store.close();
  });

  it('fills each secret from its store, by ARN or by name, and drops the reference', async () => {
    const keyArn = store.putSecret('kubepulse/plan-signing-key', 'plan-1=PRIVATE-KEY-MATERIAL');
    store.putParameter('/kubepulse/test/gemini', 'gemini-key-value');
    const paramArn = store.putParameter('/kubepulse/test/webhook', 'https://hooks.example/T000/B000/XXXX');
    const env = await resolveSecretEnv(
      {
        PLAN_SIGNING_KEY_SECRET: keyArn,
        GEMINI_API_KEY_SECRET: 'ssm:/kubepulse/test/gemini',
        SLACK_WEBHOOK_URL_SECRET: paramArn,
        REDIS_URL: 'redis://127.0.0.1:6379',
      },
      ['PLAN_SIGNING_KEY', 'GEMINI_API_KEY', 'SLACK_WEBHOOK_URL', 'PAGERDUTY_ROUTING_KEY'],
      awsSecretStore(),
    );
    assert.equal(env.PLAN_SIGNING_KEY, 'plan-1=PRIVATE-KEY-MATERIAL');
    // SecureString: the decrypted value, not the ciphertext GetParameter returns without WithDecryption.
    assert.equal(env.GEMINI_API_KEY, 'gemini-key-value');
    assert.equal(env.SLACK_WEBHOOK_URL, 'https://hooks.example/T000/B000/XXXX');
    assert.equal(env.PAGERDUTY_ROUTING_KEY, undefined);
    assert.equal(env.PLAN_SIGNING_KEY_SECRET, undefined);
    assert.equal(env.REDIS_URL, 'redis://127.0.0.1:6379');
    assert.equal(store.reads.get('kubepulse/plan-signing-key'), 1);
  });

  it('a missing secret is a set-up error naming the reference, not retried', async () => {
    await assert.rejects(
      resolveSecretEnv(
        { PLAN_SIGNING_KEY_SECRET: 'secretsmanager:kubepulse/nope' },
        ['PLAN_SIGNING_KEY'],
        awsSecretStore(),
      ),
      (error: unknown) =>
        error instanceof SecretNotUsableError &&
        !error.retryable &&
        /Secrets Manager kubepulse\/nope: ResourceNotFoundException/.test(error.message),
    );
  });

  it('an empty secret is refused', async () => {
    store.putSecret('kubepulse/empty', '   ');
    await assert.rejects(
      resolveSecretEnv(
        { WEBHOOK_SECRET_SECRET: 'secretsmanager:kubepulse/empty' },
        ['WEBHOOK_SECRET'],
        awsSecretStore(),
      ),
      (error: unknown) =>
        error instanceof SecretNotUsableError && /WEBHOOK_SECRET: .* is empty/.test(error.message),
    );
  });

  it('a store outage is retryable and the error carries no secret value', async () => {
    store.putSecret('kubepulse/outage', 'value-that-must-not-leak');
    store.throttleNext(1);
    await assert.rejects(
      resolveSecretEnv(
        { GEMINI_API_KEY_SECRET: 'secretsmanager:kubepulse/outage' },
        ['GEMINI_API_KEY'],
        awsSecretStore(),
      ),
      (error: unknown) =>
        error instanceof DependencyUnavailableError &&
        error.retryable &&
        /ThrottlingException/.test(error.message) &&
        !error.message.includes('value-that-must-not-leak'),
    );
  });
});

describe('resolveSecretEnv refuses secrets given the wrong way', () => {
  const never = {
    fetch: async () => assert.fail('nothing may be fetched when the configuration is refused'),
  };
  const cases: { name: string; env: Record<string, string>; reason: RegExp }[] = [
    {
      name: 'a plain value inside Lambda',
      env: { AWS_LAMBDA_FUNCTION_NAME: 'kubepulse-dev-planner', PLAN_SIGNING_KEY: 'plan-1=MC4CAQAw' },
      reason: /PLAN_SIGNING_KEY: a secret's value may not be an environment variable/,
    },
    {
      name: 'both the value and a reference',
      env: { GEMINI_API_KEY: 'x', GEMINI_API_KEY_SECRET: 'ssm:/k' },
      reason: /set GEMINI_API_KEY_SECRET .* or GEMINI_API_KEY, not both/,
    },
    {
      name: 'a value where the reference goes',
      env: { GEMINI_API_KEY_SECRET: 'AIzaSyDUMMYDUMMYDUMMY' },
      reason: /GEMINI_API_KEY_SECRET: .*neither an ARN/,
    },
  ];
  for (const { name, env, reason } of cases) {
    it(name, async () => {
      await assert.rejects(
        resolveSecretEnv(env, ['PLAN_SIGNING_KEY', 'GEMINI_API_KEY'], never),
        (error: unknown) => error instanceof ConfigError && reason.test(error.message),
      );
    });
  }

  it('outside Lambda (unit tests, the CLI) a plain value is kept as it is', async () => {
    const env = await resolveSecretEnv({ PLAN_SIGNING_KEY: 'plan-1=MC4CAQAw' }, ['PLAN_SIGNING_KEY'], never);
    assert.equal(env.PLAN_SIGNING_KEY, 'plan-1=MC4CAQAw');
  });
});

describe('values that are only sometimes secret', () => {
  const never = { fetch: async () => assert.fail('nothing to fetch') };
  const inLambda = { AWS_LAMBDA_FUNCTION_NAME: 'kubepulse-dev-inference' };

  it('a Redis URL without credentials stays a plain setting inside Lambda', async () => {
    const env = await resolveSecretEnv(
      { ...inLambda, REDIS_URL: 'rediss://cache.internal:6379' },
      [REDIS_URL_SETTING],
      never,
    );
    assert.equal(env.REDIS_URL, 'rediss://cache.internal:6379');
  });

  it('a Redis URL with a password in it is refused as a plain value inside Lambda', async () => {
    await assert.rejects(
      resolveSecretEnv(
        { ...inLambda, REDIS_URL: 'rediss://:hunter2hunter2@cache.internal:6379' },
        [REDIS_URL_SETTING],
        never,
      ),
      (error: unknown) =>
        error instanceof ConfigError &&
        /REDIS_URL: a secret's value/.test(error.message) &&
        !error.message.includes('hunter2'),
    );
  });
});
