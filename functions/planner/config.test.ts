import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { DEFAULT_POLICY } from '../shared/actions/index.js';
import { ConfigError } from '../shared/errors.js';
import { readPlannerConfig } from './config.js';

const KEY = randomBytes(32).toString('base64');
const base = {
  REDIS_URL: 'redis://127.0.0.1:6379',
  ALERTS_QUEUE_URL: 'http://127.0.0.1:9324/123456789012/kubepulse-local-alerts',
  ANOMALIES_DLQ_URL: 'http://127.0.0.1:9324/123456789012/kubepulse-local-anomalies-dlq',
  CLUSTER_QUEUES: JSON.stringify({
    local: {
      remediationsQueueUrl: 'http://127.0.0.1:9324/123456789012/kubepulse-local-remediations-local.fifo',
      resultsQueueArn: 'arn:aws:sqs:us-east-1:123456789012:kubepulse-local-results-local',
      resultsDlqUrl: 'http://127.0.0.1:9324/123456789012/kubepulse-local-results-local-dlq',
    },
  }),
  PLAN_SIGNING_KEY: `k2=${KEY}`,
};
const problems = (env: Record<string, string>) => {
  try {
    readPlannerConfig({ ...base, ...env });
    return '';
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.message;
  }
};

describe('planner configuration', () => {
  it('runs on runbooks alone under the default policy when nothing optional is set', () => {
    const config = readPlannerConfig({ ...base, GEMINI_API_KEY: '', REMEDIATION_POLICY: '' });
    assert.equal(config.llm.gemini, undefined);
    assert.equal(config.policy, DEFAULT_POLICY);
    assert.equal(config.signing.signers.get('local')?.keyId, 'k2');
    assert.ok(config.settings.inFlightSeconds >= 30);
  });

  it('reads a policy, extra redaction patterns and the LLM settings', () => {
    const config = readPlannerConfig({
      ...base,
      REMEDIATION_POLICY: JSON.stringify({ modes: { medium: 'auto' }, dryRun: false }),
      REDACT_EXTRA_PATTERNS: JSON.stringify(['cust-[0-9]{6}']),
      GEMINI_API_KEY: 'key',
      GEMINI_BASE_URL: 'http://127.0.0.1:8089',
      AUTO_PLANS_MAX: '3',
    });
    assert.equal(config.policy.modes.medium, 'auto');
    assert.equal(config.policy.dryRun, false);
    assert.deepEqual(config.redactPatterns, ['cust-[0-9]{6}']);
    assert.equal(config.llm.gemini?.baseUrl, 'http://127.0.0.1:8089');
    assert.equal(config.settings.autoPlans.max, 3);
  });

  it('chooses the LLM by LLM_PROVIDER, as deployed with blank params, and says what a chosen one lacks', () => {
    const deployedBlank = {
      LLM_PROVIDER: '',
      OPENAI_COMPATIBLE_BASE_URL: '',
      OPENAI_COMPATIBLE_MODEL: '',
      OPENAI_COMPATIBLE_API_KEY: '',
    };
    const gemini = readPlannerConfig({ ...base, ...deployedBlank, GEMINI_API_KEY: 'key' });
    assert.equal(gemini.llm.provider, 'gemini');
    assert.equal(gemini.llm.openAiCompatible, undefined);

    const open = readPlannerConfig({
      ...base,
      ...deployedBlank,
      LLM_PROVIDER: 'openai-compatible',
      OPENAI_COMPATIBLE_BASE_URL: 'http://vllm.ai.svc:8000/v1',
      OPENAI_COMPATIBLE_MODEL: 'qwen2.5-7b-instruct',
      GEMINI_API_KEY: 'key',
    });
    assert.equal(open.llm.gemini, undefined);
    assert.deepEqual(open.llm.openAiCompatible, {
      baseUrl: 'http://vllm.ai.svc:8000/v1',
      model: 'qwen2.5-7b-instruct',
      timeoutMs: 15_000,
      maxTokens: 1024,
    });

    const message = problems({ LLM_PROVIDER: 'openai-compatible', OPENAI_COMPATIBLE_BASE_URL: 'not a url' });
    assert.match(message, /OPENAI_COMPATIBLE_BASE_URL/);
    assert.match(message, /OPENAI_COMPATIBLE_MODEL: LLM_PROVIDER=openai-compatible needs it/);
    assert.match(problems({ LLM_PROVIDER: 'claude' }), /LLM_PROVIDER/);
  });

  it('refuses bad keys, policies and patterns, and a claim shorter than an invocation, without echoing secrets', () => {
    const shortKey = randomBytes(8).toString('base64');
    const message = problems({ PLAN_SIGNING_KEY: `k1=${shortKey}` });
    assert.match(message, /PLAN_SIGNING_KEY: key k1 is 8 bytes/);
    assert.ok(!message.includes(shortKey));
    assert.match(problems({ PLAN_SIGNING_KEY: '' }), /PLAN_SIGNING_KEY: no signing key/);
    const publicPem = generateKeyPairSync('ed25519').publicKey.export({ format: 'pem', type: 'spki' });
    assert.match(
      problems({ PLAN_SIGNING_KEY: `k1=${publicPem}` }),
      /PLAN_SIGNING_KEY: key k1 is a PUBLIC KEY/,
    );
    assert.match(
      problems({ REMEDIATION_POLICY: '{"modes":{"low":"always"}}' }),
      /REMEDIATION_POLICY: invalid remediation policy:\s+modes\.low: /,
    );
    assert.match(problems({ REMEDIATION_POLICY: '{not json' }), /REMEDIATION_POLICY: /);
    assert.match(problems({ REDACT_EXTRA_PATTERNS: '["a*"]' }), /REDACT_EXTRA_PATTERNS: .*empty string/);
    assert.match(
      problems({ IN_FLIGHT_SECONDS: '20', FUNCTION_TIMEOUT_SECONDS: '30' }),
      /IN_FLIGHT_SECONDS: must be at least FUNCTION_TIMEOUT_SECONDS \(30\)/,
    );
    assert.match(
      problems({
        CLUSTER_QUEUES: JSON.stringify({
          local: {
            remediationsQueueUrl: 'http://x/q',
            resultsQueueArn: 'kubepulse-results',
            resultsDlqUrl: 'http://x/d',
          },
        }),
      }),
      /CLUSTER_QUEUES\.local\.resultsQueueArn: must be an SQS queue ARN/,
    );
  });
});
