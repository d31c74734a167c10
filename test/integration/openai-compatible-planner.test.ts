import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import {
  LlmCircuitOpenError,
  LlmInvalidAnswerError,
  LlmRecentlyFailedError,
  LlmRequestRejectedError,
  LlmTimeoutError,
  LlmUnavailableError,
} from '../../functions/planner/llm/errors.js';
import { createPlannerFromEnv, readLlmConfig } from '../../functions/planner/llm/from-config.js';
import {
  createGuardedPlanner,
  type GuardedPlannerOptions,
} from '../../functions/planner/llm/guarded-planner.js';
import { createLlmMetrics } from '../../functions/planner/llm/metrics.js';
import { createOpenAiCompatiblePlanner } from '../../functions/planner/llm/openai-compatible.js';
import { type PLAN_JSON_SCHEMA, unboundedFields } from '../../functions/planner/llm/openai-schema.js';
import { ConfigError } from '../../functions/shared/errors.js';
import { PrivateRedisServer } from '../../local/harness/support/redis-server.js';
import {
  FAKE_OPENAI_MODEL,
  type FakeOpenAi,
  startFakeOpenAi,
} from '../../local/standins/fake-openai/server.js';
import { LOG_TAIL_SECRET, leakPlanRequest, MIB } from '../support/planner-fixtures.js';

const API_KEY = 'test-openai-key';
const SECRET = LOG_TAIL_SECRET;

const requestFor = (incidentFingerprint: string) => leakPlanRequest(incidentFingerprint);

describe('OpenAI-compatible planner through fetch, a fake server speaking the protocol, and a real Redis', () => {
  let redisServer: PrivateRedisServer;
  let redis: Redis;
  let fake: FakeOpenAi;
  let now: number;

  const makePlanner = (
    overrides: Partial<GuardedPlannerOptions> = {},
    provider: { timeoutMs?: number; apiKey?: string; maxTokens?: number } = {},
  ) =>
    createGuardedPlanner(
      createOpenAiCompatiblePlanner({
        baseUrl: fake.url,
        model: FAKE_OPENAI_MODEL,
        apiKey: provider.apiKey ?? API_KEY,
        timeoutMs: provider.timeoutMs ?? 5000,
        maxTokens: provider.maxTokens ?? 512,
      }),
      {
        redis,
        metrics: createLlmMetrics(new Registry()),
        answerTtlSeconds: 600,
        failureTtlSeconds: 60,
        budget: { callsPerHour: 100, callsPerDay: 1000, tokensPerHour: 1_000_000, tokensPerDay: 10_000_000 },
        circuit: { failureThreshold: 3, coolDownMs: 30_000 },
        retry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 50, deadlineMs: 5000 },
        clock: () => now,
        random: () => 0.5,
        ...overrides,
      },
    );

  before(async () => {
    redisServer = await PrivateRedisServer.start();
    redis = new Redis(redisServer.url, {
      maxRetriesPerRequest: 0,
      lazyConnect: true,
      retryStrategy: () => 100,
    });
    redis.on('error', () => {});
    await redis.connect();
    fake = await startFakeOpenAi({ apiKey: API_KEY });
  });
  after(async () => {
    redis.disconnect();
    await redisServer.close();
    await fake.close();
  });
  beforeEach(async () => {
    await redis.flushall();
    fake.reset();
    fake.setDefault({ kind: 'derived' });
    now = Date.parse('2026-12-03T10:00:00Z');
  });

  it('sends a strict, fully bounded JSON schema with the key and token limit, parses the plan, and caches it', async () => {
    const planner = makePlanner({}, { maxTokens: 300 });

    const answer = await planner.propose(requestFor('incident-1'));
    const again = await planner.propose(requestFor('incident-1'));

    assert.equal(answer.attempts, 1);
    assert.deepEqual(answer.proposal.actions[0], {
      action: 'set-resources',
      namespace: 'shop',
      kind: 'Deployment',
      name: 'checkout',
      container: 'app',
      limits: { memoryBytes: 768 * MIB },
    });
    assert.equal(again.cached, true);
    assert.equal(fake.requests.length, 1);
    const [request] = fake.requests;
    assert.equal(request!.authorization, `Bearer ${API_KEY}`);
    assert.equal(request!.body.model, FAKE_OPENAI_MODEL);
    assert.equal(request!.body.max_tokens, 300);
    const format = request!.body.response_format as {
      type: string;
      json_schema: { strict: boolean; schema: typeof PLAN_JSON_SCHEMA };
    };
    assert.equal(format.type, 'json_schema');
    assert.equal(format.json_schema.strict, true);
    assert.deepEqual(unboundedFields(format.json_schema.schema), []);
    // The redactor ran before anything left: the secret in the log tail never reaches the endpoint.
    assert.ok(!request!.promptText.includes(SECRET));
  });

  it('takes null for an optional field as absent, as strict mode makes the model write it', async () => {
    fake.script({
      kind: 'proposal',
      proposal: {
        decision: 'act',
        diagnosis: 'checkout leaks memory',
        rationale: 'restart it',
        confidence: 0.8,
        actions: [
          {
            action: 'set-resources',
            namespace: 'shop',
            kind: 'Deployment',
            name: 'checkout',
            container: 'app',
            limits: { memoryBytes: 768 * MIB, cpuCores: null },
            requests: null,
            fromLimits: null,
            fromRequests: null,
          },
        ],
      },
    });

    const answer = await makePlanner().propose(requestFor('incident-1'));

    assert.deepEqual(answer.proposal.actions[0], {
      action: 'set-resources',
      namespace: 'shop',
      kind: 'Deployment',
      name: 'checkout',
      container: 'app',
      limits: { memoryBytes: 768 * MIB },
    });
  });

  it('repairs a non-JSON answer by sending the answer and its problems back, then succeeds', async () => {
    fake.script({ kind: 'text', text: 'Sure! Raise the memory limit.' }, { kind: 'derived' });

    const answer = await makePlanner().propose(requestFor('incident-1'));

    assert.equal(answer.attempts, 2);
    assert.equal(fake.requests.length, 2);
    const messages = fake.requests[1]!.body.messages as Array<{ role: string; content: string }>;
    assert.deepEqual(
      messages.map((message) => message.role),
      ['system', 'user', 'assistant', 'user'],
    );
    assert.equal(messages[2]!.content, 'Sure! Raise the memory limit.');
    assert.match(messages[3]!.content, /not JSON/);
  });

  it('gives up with LlmInvalidAnswerError on garbage twice, counts its tokens, and does not ask again', async () => {
    fake.script(
      { kind: 'schema-violation' },
      { kind: 'text', text: '{"decision":"act","diagn', finishReason: 'MAX_TOKENS' },
    );
    const planner = makePlanner();

    const failure = await planner.propose(requestFor('incident-1')).catch((error: unknown) => error);
    assert.ok(failure instanceof LlmInvalidAnswerError);
    assert.match(failure.issues.join('\n'), /cut off at the token limit/);
    assert.ok(failure.usage.promptTokens > 0 && failure.usage.completionTokens > 0);
    await assert.rejects(planner.propose(requestFor('incident-1')), LlmRecentlyFailedError);
    assert.equal(fake.requests.length, 2);
  });

  it("takes the model's refusal as an invalid answer, not as a plan", async () => {
    fake.script({ kind: 'blocked' }, { kind: 'blocked' });

    const failure = await makePlanner()
      .propose(requestFor('incident-1'))
      .catch((error: unknown) => error);

    assert.ok(failure instanceof LlmInvalidAnswerError);
    assert.match(failure.issues[0]!, /the model refused/);
  });

  it('waits out a 429 for its Retry-After and then succeeds', async () => {
    fake.script({ kind: 'error', status: 429, retryDelaySeconds: 0.2 });
    const started = Date.now();

    const answer = await makePlanner().propose(requestFor('incident-1'));

    assert.equal(answer.proposal.decision, 'act');
    assert.ok(Date.now() - started >= 190, 'waited as the server asked');
    assert.equal(fake.requests.length, 2);
  });

  it('turns a persistent 503 into a retryable LlmUnavailableError after the bounded retries', async () => {
    fake.setDefault({ kind: 'error', status: 503 });

    const failure = await makePlanner()
      .propose(requestFor('incident-1'))
      .catch((error: unknown) => error);

    assert.ok(failure instanceof LlmUnavailableError);
    assert.equal(failure.retryable, true);
    assert.equal(failure.status, 503);
    assert.equal(fake.requests.length, 3);
  });

  it('turns a hang into LlmTimeoutError', async () => {
    fake.setDefault({ kind: 'hang' });
    const planner = makePlanner(
      { retry: { maxAttempts: 1, baseDelayMs: 10, maxDelayMs: 10, deadlineMs: 5000 } },
      { timeoutMs: 300 },
    );

    await assert.rejects(planner.propose(requestFor('incident-1')), LlmTimeoutError);
  });

  it('treats a 200 whose body is not a chat completion as the provider being unavailable', async () => {
    fake.setDefault({ kind: 'http-garbage' });
    const planner = makePlanner({
      retry: { maxAttempts: 1, baseDelayMs: 10, maxDelayMs: 10, deadlineMs: 5000 },
    });

    await assert.rejects(planner.propose(requestFor('incident-1')), LlmUnavailableError);
  });

  it('refuses a wrong API key as a rejected request, not retried', async () => {
    const failure = await makePlanner({}, { apiKey: 'wrong' })
      .propose(requestFor('incident-1'))
      .catch((error: unknown) => error);

    assert.ok(failure instanceof LlmRequestRejectedError);
    assert.equal(failure.retryable, false);
    assert.equal(failure.status, 401);
    assert.match(failure.message, /Incorrect API key/);
    assert.equal(fake.requests.length, 1);
  });

  it('shares the guards: one request for 200 concurrent proposals, and the circuit opens after repeated failures', async () => {
    const planner = makePlanner({
      circuit: { failureThreshold: 2, coolDownMs: 30_000 },
      retry: { maxAttempts: 1, baseDelayMs: 10, maxDelayMs: 10, deadlineMs: 5000 },
    });
    const answers = await Promise.all(
      Array.from({ length: 200 }, () => planner.propose(requestFor('incident-1'))),
    );
    assert.equal(answers.filter((answer) => !answer.cached).length, 1);
    assert.equal(fake.requests.length, 1);

    fake.setDefault({ kind: 'error', status: 500 });
    await assert.rejects(planner.propose(requestFor('incident-2')), LlmUnavailableError);
    await assert.rejects(planner.propose(requestFor('incident-3')), LlmUnavailableError);
    await assert.rejects(planner.propose(requestFor('incident-4')), LlmCircuitOpenError);
    assert.equal(fake.requests.length, 3);
  });

  it('is chosen by LLM_PROVIDER, and a provider without what it needs is refused at start-up', async () => {
    const deps = { redis, metrics: createLlmMetrics(new Registry()) };
    const planner = createPlannerFromEnv(deps, {
      LLM_PROVIDER: 'openai-compatible',
      OPENAI_COMPATIBLE_BASE_URL: fake.url,
      OPENAI_COMPATIBLE_MODEL: FAKE_OPENAI_MODEL,
      OPENAI_COMPATIBLE_API_KEY: API_KEY,
      // Ignored: the provider is chosen explicitly.
      GEMINI_API_KEY: 'unused',
    });
    const answer = await planner!.propose(requestFor('incident-1'));
    assert.equal(answer.model, FAKE_OPENAI_MODEL);
    assert.equal(fake.requests.length, 1);

    assert.throws(
      () => readLlmConfig({ LLM_PROVIDER: 'openai-compatible', OPENAI_COMPATIBLE_MODEL: 'm' }),
      (error: unknown) => error instanceof ConfigError && /OPENAI_COMPATIBLE_BASE_URL/.test(error.message),
    );
    assert.throws(() => readLlmConfig({ LLM_PROVIDER: 'gemini' }), /GEMINI_API_KEY/);
    assert.equal(createPlannerFromEnv(deps, { LLM_PROVIDER: 'none', GEMINI_API_KEY: 'k' }), undefined);
  });
});
