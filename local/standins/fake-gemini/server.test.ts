import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, beforeEach, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { z } from 'zod';
import { buildContext, type ContextInput } from '../../../functions/planner/core/context.js';
import { incidentKeyOf } from '../../../functions/planner/core/correlate.js';
import { PLAN_RESPONSE_SCHEMA } from '../../../functions/planner/llm/response-schema.js';
import { type Anomaly, PlanProposal } from '../../../functions/shared/contracts/index.js';
import { createRedactor } from '../../../functions/shared/redaction/redact.js';
import { eventAnomaly, MIB, usageAnomaly } from '../../../test/support/planner-fixtures.js';
import { extractIncidentData, type IncidentData } from './incident-data.js';
import { type FakeGemini, startFakeGemini } from './server.js';

const KEY = 'fake-key';

/** Gemini's reply JSON, as far as these tests read it. */
interface ReplyJson {
  candidates?: Array<{ finishReason?: string; content: { role: string; parts: Array<{ text: string }> } }>;
  usageMetadata?: { promptTokenCount: number; candidatesTokenCount: number; totalTokenCount: number };
  error?: { code: number; message: string; status: string; details?: Array<Record<string, string>> };
}
const answerText = (json: ReplyJson) => json.candidates![0]!.content.parts[0]!.text;

/** The prompt the planner's own context builder makes for these anomalies. */
function promptFor(anomalies: Anomaly[], extra: Partial<ContextInput> = {}): string {
  const input = { key: incidentKeyOf(anomalies[0]!), anomalies, ...extra };
  const { context, prompt } = buildContext(input, createRedactor());
  // Compile-time: whatever the builder produces is what the fake reads.
  const readable: z.input<typeof IncidentData> = context;
  assert.ok(readable);
  return prompt;
}
const cpuAnomaly = () => usageAnomaly({ signal: 'cpu', metric: 'cpu_usage_cores' });

describe('fake Gemini', () => {
  let fake: FakeGemini;

  const generate = async (
    text: string,
    init: { key?: string | null; body?: unknown; model?: string } = {},
  ): Promise<{ status: number; json: ReplyJson }> => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (init.key !== null) headers['x-goog-api-key'] = init.key ?? KEY;
    const response = await fetch(
      `${fake.url}/v1beta/models/${init.model ?? 'gemini-2.0-flash'}:generateContent`,
      {
        method: 'POST',
        headers,
        body: JSON.stringify(
          init.body ?? {
            contents: [{ role: 'user', parts: [{ text }] }],
            generationConfig: { responseMimeType: 'application/json', responseSchema: PLAN_RESPONSE_SCHEMA },
          },
        ),
      },
    );
    return { status: response.status, json: (await response.json()) as ReplyJson };
  };
  const derive = async (anomalies: Anomaly[], extra: Partial<ContextInput> = {}) => {
    const { json } = await generate(promptFor(anomalies, extra));
    return PlanProposal.parse(JSON.parse(answerText(json)));
  };

  before(async () => {
    fake = await startFakeGemini({ apiKey: KEY });
  });
  after(() => fake.close());
  beforeEach(() => {
    fake.reset();
    fake.setDefault({ kind: 'derived' });
  });

  it('answers in Gemini’s response format with usage metadata, and records the request', async () => {
    const { status, json } = await generate('hello');

    assert.equal(status, 200);
    assert.equal(json.candidates![0]!.finishReason, 'STOP');
    assert.equal(json.candidates![0]!.content.role, 'model');
    const usage = json.usageMetadata!;
    assert.equal(usage.totalTokenCount, usage.promptTokenCount + usage.candidatesTokenCount);
    assert.deepEqual(
      fake.requests.map((request) => [request.model, request.promptText, request.served]),
      [['gemini-2.0-flash', 'hello', 'derived']],
    );
  });

  it('reads the data block of the context builder’s prompt', () => {
    const data = extractIncidentData(promptFor([usageAnomaly()]));
    assert.equal(data?.subject, 'Deployment/checkout');
    assert.equal(data?.problem, 'memory-exhaustion');
    assert.equal(extractIncidentData('no block here'), undefined);
  });

  it('raises a memory limit 1.5x and restarts, for a memory forecast or an OOM kill', async () => {
    for (const anomaly of [usageAnomaly(), eventAnomaly('OOMKilled')]) {
      const proposal = await derive([anomaly]);
      assert.equal(proposal.decision, 'act');
      assert.deepEqual(proposal.actions, [
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
    }
  });

  it('scales out by one for CPU saturation, and escalates when the replica count is unknown', async () => {
    const proposal = await derive([cpuAnomaly()], { replicas: 2 });
    assert.deepEqual(proposal.actions, [
      { action: 'scale', namespace: 'shop', kind: 'Deployment', name: 'checkout', replicas: 3 },
    ]);
    assert.equal((await derive([cpuAnomaly()])).decision, 'escalate');
  });

  it('escalates a crash loop, and anything without an incident-data block', async () => {
    assert.equal((await derive([eventAnomaly('CrashLoopBackOff')])).decision, 'escalate');
    const { json } = await generate('no context here');
    assert.equal(JSON.parse(answerText(json)).decision, 'escalate');
  });

  it('serves scripted replies in order, then the default', async () => {
    fake.script({ kind: 'text', text: 'not json' }, { kind: 'error', status: 503 });

    const first = await generate('a');
    const second = await generate('b');
    const third = await generate('c');

    assert.equal(answerText(first.json), 'not json');
    assert.deepEqual(second, {
      status: 503,
      json: {
        error: {
          code: 503,
          message: 'The model is overloaded. Please try again later.',
          status: 'UNAVAILABLE',
        },
      },
    });
    assert.equal(third.status, 200);
  });

  it('answers 429 with RESOURCE_EXHAUSTED and a RetryInfo delay', async () => {
    fake.script({ kind: 'error', status: 429, retryDelaySeconds: 7 });

    const { status, json } = await generate('a');

    assert.equal(status, 429);
    assert.equal(json.error!.status, 'RESOURCE_EXHAUSTED');
    assert.ok(
      json.error!.details!.some(
        (detail) =>
          detail['@type'] === 'type.googleapis.com/google.rpc.RetryInfo' && detail.retryDelay === '7s',
      ),
    );
  });

  it('refuses a missing or wrong API key as Gemini does, and never runs a scripted reply for it', async () => {
    fake.script({ kind: 'error', status: 500 });

    const missing = await generate('a', { key: null });
    const wrong = await generate('a', { key: 'other' });

    assert.equal(missing.status, 403);
    assert.equal(missing.json.error!.status, 'PERMISSION_DENIED');
    assert.equal(wrong.status, 400);
    assert.equal(wrong.json.error!.details![0]!.reason, 'API_KEY_INVALID');
    assert.equal((await generate('a')).status, 500);
  });

  it('refuses a response schema the real API cannot read', async () => {
    const { status, json } = await generate('a', {
      body: {
        contents: [{ role: 'user', parts: [{ text: 'a' }] }],
        generationConfig: {
          responseSchema: {
            type: 'object',
            properties: { a: { type: 'string' } },
            additionalProperties: false,
          },
        },
      },
    });

    assert.equal(status, 400);
    assert.match(json.error!.message, /Unknown name "additionalProperties"/);
  });

  it('runs standalone and prints its URL', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(new URL('./server.ts', import.meta.url)), '--port', '0'],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      const [chunk] = (await once(child.stdout, 'data')) as [Buffer];
      const url = /listening on (http:\/\/\S+)/.exec(chunk.toString())?.[1];
      assert.ok(url);
      const response = await fetch(`${url}/v1beta/models/m:generateContent`, {
        method: 'POST',
        headers: { 'x-goog-api-key': 'k' },
        body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'hi' }] }] }),
      });
      assert.equal(response.status, 200);
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  });
});
