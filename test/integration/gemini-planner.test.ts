import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import {
  LlmBudgetExceededError,
  LlmCircuitOpenError,
  LlmGuardUnavailableError,
  LlmInvalidAnswerError,
  LlmRecentlyFailedError,
  LlmRequestRejectedError,
  LlmTimeoutError,
  LlmUnavailableError,
} from '../../functions/planner/llm/errors.js';
import { createPlannerFromEnv } from '../../functions/planner/llm/from-config.js';
import { createGeminiPlanner } from '../../functions/planner/llm/gemini.js';
import {
  createGuardedPlanner,
  type GuardedPlannerOptions,
} from '../../functions/planner/llm/guarded-planner.js';
import { createLlmMetrics } from '../../functions/planner/llm/metrics.js';
import { PrivateRedisServer } from '../../local/harness/support/redis-server.js';
import { INJECTION_VARIANTS } from '../../local/standins/fake-gemini/replies.js';
import { type FakeGemini, startFakeGemini } from '../../local/standins/fake-gemini/server.js';
import { leakPlanRequest, MIB } from '../support/planner-fixtures.js';

const API_KEY = 'test-gemini-key';

const requestFor = (incidentFingerprint: string) =>
  leakPlanRequest(incidentFingerprint, ['set-resources', 'rollout-restart', 'scale']);

describe('Gemini planner through the real client, a fake Gemini and a real Redis', () => {
  let redisServer: PrivateRedisServer;
  let redis: Redis;
  let fake: FakeGemini;
  let now: number;
  let registry: Registry;

  const makePlanner = (
    overrides: Partial<GuardedPlannerOptions> = {},
    gemini: { timeoutMs?: number; apiKey?: string } = {},
  ) => {
    registry = new Registry();
    const inner = createGeminiPlanner({
      apiKey: gemini.apiKey ?? API_KEY,
      model: 'gemini-2.0-flash',
      baseUrl: fake.url,
      timeoutMs: gemini.timeoutMs ?? 5000,
    });
    return createGuardedPlanner(inner, {
      redis,
      metrics: createLlmMetrics(registry),
      answerTtlSeconds: 600,
      failureTtlSeconds: 60,
      budget: { callsPerHour: 100, callsPerDay: 1000, tokensPerHour: 1_000_000, tokensPerDay: 10_000_000 },
      circuit: { failureThreshold: 3, coolDownMs: 30_000 },
      retry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 50, deadlineMs: 5000 },
      clock: () => now,
      random: () => 0.5,
      ...overrides,
    });
  };
  const metricValue = async (name: string, labels: Record<string, string>) => {
    const metric = await registry.getSingleMetric(name)?.get();
    const entry = metric?.values.find((value) =>
      Object.entries(labels).every(([key, expected]) => value.labels[key] === expected),
    );
    return entry?.value ?? 0;
  };

  before(async () => {
    redisServer = await PrivateRedisServer.start();
    redis = new Redis(redisServer.url, {
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      lazyConnect: true,
      retryStrategy: () => 100,
    });
    redis.on('error', () => {});
    await redis.connect();
    fake = await startFakeGemini({ apiKey: API_KEY });
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
    fake.setLatency(0);
    now = Date.parse('2026-11-21T10:00:00Z');
  });

  it('parses a valid plan, sends the schema and the key properly, and answers again from the cache', async () => {
    const planner = makePlanner();

    const answer = await planner.propose(requestFor('incident-1'));
    const again = await planner.propose(requestFor('incident-1'));

    assert.equal(answer.cached, false);
    assert.equal(answer.attempts, 1);
    assert.equal(answer.proposal.decision, 'act');
    assert.deepEqual(answer.proposal.actions, [
      {
        action: 'set-resources',
        namespace: 'shop',
        kind: 'Deployment',
        name: 'checkout',
        container: 'app',
        limits: { memoryBytes: 768 * MIB },
      },
      { action: 'rollout-restart', namespace: 'shop', kind: 'Deployment', name: 'checkout' },
    ]);
    assert.equal(again.cached, true);
    assert.deepEqual(again.proposal, answer.proposal);
    assert.deepEqual(again.usage, { promptTokens: 0, completionTokens: 0 });
    assert.equal(fake.requests.length, 1);
    const [request] = fake.requests;
    const body = request!.body as { generationConfig: { responseMimeType: string; responseSchema: unknown } };
    assert.equal(body.generationConfig.responseMimeType, 'application/json');
    assert.ok(body.generationConfig.responseSchema);
    assert.match(request!.promptText, /untrusted/);
    assert.ok(request!.promptText.includes(requestFor('incident-1').context));
    assert.equal(
      JSON.stringify(request!.body).includes(API_KEY),
      false,
      'the key travels only in the header',
    );
    assert.equal(await metricValue('kubepulse_planner_llm_calls_total', { outcome: 'ok' }), 1);
    assert.equal(await metricValue('kubepulse_planner_llm_calls_total', { outcome: 'cached' }), 1);
  });

  it('records token usage as Gemini reports it, summed over the repair round, in metrics and budget', async () => {
    const planner = makePlanner();
    fake.script({ kind: 'text', text: 'Sure! I would raise the memory limit.' });

    const answer = await planner.propose(requestFor('incident-1'));

    assert.equal(answer.attempts, 2);
    const served = fake.requests.map((request) => request.usage!);
    const prompt = served.reduce((sum, usage) => sum + usage.promptTokenCount, 0);
    const completion = served.reduce((sum, usage) => sum + usage.candidatesTokenCount, 0);
    assert.deepEqual(answer.usage, { promptTokens: prompt, completionTokens: completion });
    assert.equal(await metricValue('kubepulse_planner_llm_tokens_total', { kind: 'prompt' }), prompt);
    assert.equal(await metricValue('kubepulse_planner_llm_tokens_total', { kind: 'completion' }), completion);
    assert.equal(Number(await redis.get('kubepulse:llm:budget:tokens:2026-11-21T10')), prompt + completion);
    assert.equal(
      await metricValue('kubepulse_planner_llm_budget_remaining', { window: 'hour', kind: 'calls' }),
      99,
    );
  });

  it('repairs a non-JSON answer by sending back the problems, then succeeds', async () => {
    const planner = makePlanner();
    fake.script({ kind: 'text', text: 'Sure! I would raise the memory limit.' });

    const answer = await planner.propose(requestFor('incident-1'));

    assert.equal(answer.attempts, 2);
    assert.equal(answer.proposal.decision, 'act');
    assert.equal(fake.requests.length, 2);
    const repair = fake.requests[1]!.body as {
      contents: Array<{ role: string; parts: Array<{ text: string }> }>;
    };
    assert.deepEqual(
      repair.contents.map((content) => content.role),
      ['user', 'model', 'user'],
    );
    assert.match(repair.contents[2]!.parts[0]!.text, /not JSON/);
  });

  it('gives up with LlmInvalidAnswerError when the repaired answer still breaks the schema, and does not ask again', async () => {
    const planner = makePlanner();
    fake.setDefault({ kind: 'schema-violation' });

    const failure = await planner.propose(requestFor('incident-1')).catch((error: unknown) => error);
    const repeat = await planner.propose(requestFor('incident-1')).catch((error: unknown) => error);

    assert.ok(failure instanceof LlmInvalidAnswerError);
    assert.ok(failure.issues.some((issue) => issue.startsWith('confidence')));
    assert.ok(failure.usage.promptTokens > 0);
    assert.equal(fake.requests.length, 2);
    assert.ok(repeat instanceof LlmRecentlyFailedError);
    assert.equal(fake.requests.length, 2);
  });

  it('waits out a 429 as Gemini asks and then succeeds', async () => {
    const planner = makePlanner();
    fake.script({ kind: 'error', status: 429, retryDelaySeconds: 0.05 });

    const answer = await planner.propose(requestFor('incident-1'));

    assert.equal(answer.proposal.decision, 'act');
    assert.deepEqual(
      fake.requests.map((request) => request.served),
      ['error', 'derived'],
    );
  });

  it('gives up on a 429 whose retry delay does not fit the deadline, without waiting', async () => {
    const planner = makePlanner();
    fake.script({ kind: 'error', status: 429, retryDelaySeconds: 60 });

    const failure = await planner.propose(requestFor('incident-1')).catch((error: unknown) => error);

    assert.ok(failure instanceof LlmUnavailableError);
    assert.equal(failure.status, 429);
    assert.equal(failure.retryAfterMs, 60_000);
    assert.equal(fake.requests.length, 1);
  });

  it('turns a persistent 500 into LlmUnavailableError after the bounded retries', async () => {
    const planner = makePlanner();
    fake.setDefault({ kind: 'error', status: 500 });

    const failure = await planner.propose(requestFor('incident-1')).catch((error: unknown) => error);

    assert.ok(failure instanceof LlmUnavailableError);
    assert.equal(failure.status, 500);
    assert.equal(failure.retryable, true);
    assert.equal(fake.requests.length, 3);
  });

  it('turns a hang into LlmTimeoutError', async () => {
    const planner = makePlanner(
      { retry: { maxAttempts: 2, baseDelayMs: 10, maxDelayMs: 10, deadlineMs: 5000 } },
      {
        timeoutMs: 200,
      },
    );
    fake.setDefault({ kind: 'hang' });

    const failure = await planner.propose(requestFor('incident-1')).catch((error: unknown) => error);

    assert.ok(failure instanceof LlmTimeoutError);
    assert.equal(fake.requests.length, 2);
  });

  it('treats a reply that is not JSON at the HTTP level as the provider being unavailable', async () => {
    const planner = makePlanner({
      retry: { maxAttempts: 1, baseDelayMs: 10, maxDelayMs: 10, deadlineMs: 5000 },
    });
    fake.script({ kind: 'http-garbage' });

    const failure = await planner.propose(requestFor('incident-1')).catch((error: unknown) => error);

    assert.ok(failure instanceof LlmUnavailableError);
  });

  it('refuses a wrong API key as a rejected request, not an outage', async () => {
    const planner = makePlanner({}, { apiKey: 'wrong-key' });

    const failure = await planner.propose(requestFor('incident-1')).catch((error: unknown) => error);

    assert.ok(failure instanceof LlmRequestRejectedError);
    assert.equal(failure.status, 400);
    assert.equal(fake.requests.length, 1);
  });

  it('makes exactly one request for 1,000 concurrent proposals for the same incident', async () => {
    const planner = makePlanner();
    fake.setLatency(200);

    const answers = await Promise.all(
      Array.from({ length: 1000 }, () => planner.propose(requestFor('incident-1'))),
    );

    assert.equal(fake.requests.length, 1);
    assert.equal(answers.filter((answer) => !answer.cached).length, 1);
    for (const answer of answers) assert.deepEqual(answer.proposal, answers[0]!.proposal);
  });

  it('refuses without a request once the hourly call budget is spent', async () => {
    const planner = makePlanner({
      budget: { callsPerHour: 1, callsPerDay: 10, tokensPerHour: 1_000_000, tokensPerDay: 10_000_000 },
    });

    await planner.propose(requestFor('incident-1'));
    const failure = await planner.propose(requestFor('incident-2')).catch((error: unknown) => error);
    now += 3600_000;
    const nextHour = await planner.propose(requestFor('incident-3'));

    assert.ok(failure instanceof LlmBudgetExceededError);
    assert.equal(nextHour.cached, false);
    assert.equal(fake.requests.length, 2);
  });

  it('refuses without a request once the daily token budget is spent', async () => {
    const planner = makePlanner({
      budget: { callsPerHour: 100, callsPerDay: 1000, tokensPerHour: 1_000_000, tokensPerDay: 10 },
    });

    await planner.propose(requestFor('incident-1'));
    const failure = await planner.propose(requestFor('incident-2')).catch((error: unknown) => error);

    assert.ok(failure instanceof LlmBudgetExceededError);
    assert.equal(fake.requests.length, 1);
  });

  it('opens the circuit after N failed calls, sends nothing until the cool-down, then probes once', async () => {
    const planner = makePlanner({
      circuit: { failureThreshold: 2, coolDownMs: 30_000 },
      retry: { maxAttempts: 1, baseDelayMs: 10, maxDelayMs: 10, deadlineMs: 5000 },
    });
    fake.setDefault({ kind: 'error', status: 503 });

    for (const incident of ['incident-1', 'incident-2']) {
      await assert.rejects(planner.propose(requestFor(incident)), LlmUnavailableError);
    }
    await assert.rejects(planner.propose(requestFor('incident-3')), LlmCircuitOpenError);
    now += 29_000;
    await assert.rejects(planner.propose(requestFor('incident-4')), LlmCircuitOpenError);
    assert.equal(fake.requests.length, 2);

    now += 2000;
    fake.setDefault({ kind: 'derived' });
    const probe = await planner.propose(requestFor('incident-5'));
    const afterwards = await planner.propose(requestFor('incident-6'));

    assert.equal(probe.cached, false);
    assert.equal(afterwards.cached, false);
    assert.equal(fake.requests.length, 4);
  });

  it('re-opens the circuit for a full cool-down when the half-open probe fails', async () => {
    const planner = makePlanner({
      circuit: { failureThreshold: 1, coolDownMs: 30_000 },
      retry: { maxAttempts: 1, baseDelayMs: 10, maxDelayMs: 10, deadlineMs: 5000 },
    });
    fake.setDefault({ kind: 'error', status: 500 });

    await assert.rejects(planner.propose(requestFor('incident-1')), LlmUnavailableError);
    now += 31_000;
    await assert.rejects(planner.propose(requestFor('incident-2')), LlmUnavailableError);
    now += 29_000;
    await assert.rejects(planner.propose(requestFor('incident-3')), LlmCircuitOpenError);

    assert.equal(fake.requests.length, 2);
  });

  it('passes schema-valid answers that obeyed a prompt injection through unchanged, for policy to refuse', async () => {
    const planner = makePlanner();

    for (const variant of INJECTION_VARIANTS) {
      fake.script({ kind: 'injection', variant });
      const answer = await planner.propose(requestFor(`incident-${variant}`));
      assert.equal(answer.proposal.decision, 'act', variant);
      assert.equal(answer.proposal.actions.length, 1, variant);
    }
    assert.equal(fake.requests.length, INJECTION_VARIANTS.length);
  });

  it('makes no call while Redis, which holds the guards, is down', async () => {
    const planner = makePlanner();
    await redisServer.stop();
    try {
      await assert.rejects(planner.propose(requestFor('incident-1')), LlmGuardUnavailableError);
      assert.equal(fake.requests.length, 0);
    } finally {
      await redisServer.resume();
      await waitForReconnect(redis);
    }
  });

  it('builds the guarded planner from the environment, and none without GEMINI_API_KEY', async () => {
    const deps = { redis, metrics: createLlmMetrics(new Registry()) };
    assert.equal(createPlannerFromEnv(deps, {}), undefined);

    const planner = createPlannerFromEnv(deps, { GEMINI_API_KEY: API_KEY, GEMINI_BASE_URL: fake.url });
    const answer = await planner!.propose(requestFor('incident-1'));

    assert.equal(answer.proposal.decision, 'act');
    assert.equal(fake.requests[0]!.model, 'gemini-2.0-flash');
  });
});

async function waitForReconnect(redis: Redis): Promise<void> {
  const deadline = Date.now() + 5000;
  while (redis.status !== 'ready' && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
