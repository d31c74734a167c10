import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { evaluateAction, parsePolicy } from '../../functions/shared/actions/index.js';
import type { Anomaly } from '../../functions/shared/contracts/index.js';
import { verifyPlan } from '../../functions/shared/signing.js';
import { INJECTION_VARIANTS } from '../../local/standins/fake-gemini/replies.js';
import {
  FAKE_OPENAI_MODEL,
  type FakeOpenAi,
  startFakeOpenAi,
} from '../../local/standins/fake-openai/server.js';
import {
  defaultModelPath,
  defaultRuntimeDir,
  type LocalModelServer,
  startLocalModelServer,
} from '../../local/standins/llm/server.js';
import { eventAnomaly, MIB, podInventory, usageAnomaly } from '../support/planner-fixtures.js';
import {
  encodeAll,
  incidentFacts,
  OPEN_POLICY,
  type PlannerHarness,
  startPlannerHarness,
} from '../support/planner-harness.js';

/**
 * The planner with LLM_PROVIDER=openai-compatible against a real open-weights model (Gemma 3 270M, CPU, one
 * thread) served behind the OpenAI protocol by local/standins/llm/server.ts. A model this small answers badly,
 * which is the point: whatever it says must pass the schema and the policy, or end in the runbook.
 */
const SETUP = join(import.meta.dirname, '..', '..', 'local', 'standins', 'llm', 'setup.sh');

function installedOrWhyNot(): string | undefined {
  const installed = () =>
    existsSync(defaultModelPath()) && existsSync(join(defaultRuntimeDir(), 'node_modules', 'node-llama-cpp'));
  if (installed()) return undefined;
  // local/test.sh installs it first; a lone run of this file tries once, then says why not.
  const run = spawnSync('bash', [SETUP], { encoding: 'utf8', timeout: 600_000 });
  if (run.status === 0 && installed()) return undefined;
  return `the local model could not be installed (bash local/standins/llm/setup.sh: ${(run.stderr || run.error?.message || `exit ${run.status}`).trim().split('\n').at(-1)})`;
}

const checkout = { namespace: 'shop', kind: 'Deployment' as const, name: 'checkout' };
const inventory = podInventory('checkout-7d9f8b6c5-x2x4z', { ownerReplicas: { desired: 3, ready: 3 } });

/** A memory leak: working set heading for the 512 MiB limit, then an OOM kill. */
const memoryLeak = (): Anomaly[] => [
  usageAnomaly({ inventory }),
  eventAnomaly('OOMKilled', {}, { inventory }),
];

// Generous: one thread on shared cores. The answer's length is bounded by max tokens and the schema's bounds.
const SLOW_MODEL = {
  OPENAI_COMPATIBLE_TIMEOUT_MS: '120000',
  LLM_RETRY_ATTEMPTS: '1',
  LLM_RETRY_DEADLINE_MS: '250000',
  FUNCTION_TIMEOUT_SECONDS: '300',
  IN_FLIGHT_SECONDS: '300',
};
const INVOKE_TIMEOUT_MS = 300_000;

const skipReason = installedOrWhyNot();
if (skipReason) console.log(`# local model tests skipped: ${skipReason}`);

describe('planner with an OpenAI-compatible provider: a real small model served locally', {
  skip: skipReason,
}, () => {
  let h: PlannerHarness;
  let model: LocalModelServer;
  before(async () => {
    h = await startPlannerHarness();
    model = await startLocalModelServer({ maxTokensCeiling: 400 });
  });
  after(async () => {
    await h?.close();
    await model?.close();
  });
  beforeEach(async () => {
    await h.reset();
  });

  const providerEnv = (maxTokens: number) => ({
    REMEDIATION_POLICY: OPEN_POLICY,
    LLM_PROVIDER: 'openai-compatible',
    OPENAI_COMPATIBLE_BASE_URL: model.url,
    OPENAI_COMPATIBLE_MODEL: model.model,
    OPENAI_COMPATIBLE_MAX_TOKENS: String(maxTokens),
    ...SLOW_MODEL,
  });
  const llmCalls = async (container: Awaited<ReturnType<PlannerHarness['container']>>) => {
    const metric = await container.runtime.registry
      .getSingleMetric('kubepulse_planner_llm_calls_total')
      ?.get();
    return Object.fromEntries((metric?.values ?? []).map((value) => [value.labels.outcome, value.value]));
  };

  it('a memory leak: the answer passes the schema and the policy, or is refused and the runbook acts; one call', async (t) => {
    const container = await h.container(providerEnv(320));
    const before = model.completions;
    const anomalies = memoryLeak();
    await h.sendAnomalies(encodeAll(anomalies));
    const report = await h.invoke(container, 'anomalies', INVOKE_TIMEOUT_MS);
    assert.equal(report?.outcome, 'success');

    for (const answer of model.answers.slice(before)) {
      t.diagnostic(
        `model answered in ${answer.ms} ms (${answer.promptTokens} prompt, ${answer.completionTokens} answer tokens, ${answer.finishReason}): ${answer.text}`,
      );
    }
    const [incident, ...others] = container.outcomes.flatMap((outcome) => outcome.incidents);
    assert.equal(others.length, 0);
    t.diagnostic(`outcome: ${incident!.result} from ${incident!.source}; ${incident!.fallbackReason ?? ''}`);
    const completions = model.completions - before;
    assert.ok(completions >= 1 && completions <= 2, 'one call: an answer and at most one repair');
    assert.deepEqual(Object.values(await llmCalls(container)), [1], 'one provider call for the incident');

    const facts = await incidentFacts(anomalies);
    const policy = parsePolicy(JSON.parse(OPEN_POLICY));
    const sent = await h.plansSent();
    for (const { plan } of sent) {
      assert.equal(verifyPlan(plan, h.keyring, new Date()).ok, true);
      for (const action of plan.actions) {
        const verdict = evaluateAction(action, facts, policy);
        assert.equal(verdict.verdict, 'auto', verdict.reasons.join('; '));
      }
    }
    if (incident!.source === 'runbook') {
      assert.match(
        incident!.fallbackReason!,
        /policy refused the LLM's plan|llm-invalid-answer|confidence .* is below|does not address|only a human/,
      );
      assert.equal(sent.length, 1, 'the runbook acted');
      assert.equal(sent[0]!.plan.source, 'runbook');
    } else {
      assert.ok(
        ['planned', 'pending-approval', 'escalated', 'observed'].includes(incident!.result),
        incident!.result,
      );
      for (const { plan } of sent) assert.equal(plan.source, 'llm');
    }

    // The same incident again: answered from what was decided, not by asking the model again.
    const afterFirst = model.completions;
    await h.sendAnomalies(encodeAll(memoryLeak()));
    await h.invoke(container, 'anomalies', INVOKE_TIMEOUT_MS);
    assert.equal(model.completions, afterFirst);
  });

  it('garbage from the model (its answer cut off by the token limit) is refused and ends in the runbook', async () => {
    const container = await h.container(providerEnv(6));
    const before = model.completions;
    const anomalies = memoryLeak();
    await h.sendAnomalies(encodeAll(anomalies));
    await h.invoke(container, 'anomalies', INVOKE_TIMEOUT_MS);

    const [incident] = container.outcomes.flatMap((outcome) => outcome.incidents);
    assert.equal(incident!.source, 'runbook');
    assert.match(incident!.fallbackReason!, /llm-invalid-answer/);
    assert.equal(model.completions - before, 2, 'the answer and one repair, no more');
    assert.ok(model.answers.slice(before).every((answer) => answer.finishReason === 'length'));
    const sent = await h.plansSent();
    assert.deepEqual(
      sent.map(({ plan }) => plan.source),
      ['runbook'],
    );
    assert.deepEqual(await llmCalls(container), { 'llm-invalid-answer': 1 });
  });
});

describe('planner with an OpenAI-compatible provider: well-formed bad answers', () => {
  let h: PlannerHarness;
  let fake: FakeOpenAi;
  before(async () => {
    h = await startPlannerHarness();
    fake = await startFakeOpenAi();
  });
  after(async () => {
    await h.close();
    await fake.close();
  });
  beforeEach(async () => {
    await h.reset();
    fake.reset();
  });
  const openAiContainer = () =>
    h.container({
      REMEDIATION_POLICY: OPEN_POLICY,
      LLM_PROVIDER: 'openai-compatible',
      OPENAI_COMPATIBLE_BASE_URL: fake.url,
      OPENAI_COMPATIBLE_MODEL: FAKE_OPENAI_MODEL,
    });

  it('answers that obeyed an injected instruction never get a disallowed action to the executor', async () => {
    const container = await openAiContainer();
    const facts = await incidentFacts(memoryLeak());
    const policy = parsePolicy(JSON.parse(OPEN_POLICY));
    for (const variant of INJECTION_VARIANTS) {
      await h.reset();
      fake.script({ kind: 'injection', variant });
      await h.sendAnomalies(encodeAll(memoryLeak()));
      await h.invoke(container);
      for (const { plan } of await h.plansSent()) {
        for (const action of plan.actions) {
          const verdict = evaluateAction(action, facts, policy);
          assert.equal(verdict.verdict, 'auto', `${variant}: ${verdict.reasons.join('; ')}`);
        }
      }
    }
    assert.equal(fake.requests.length, INJECTION_VARIANTS.length);
  });

  it('a memory limit below current usage is refused by policy, and the runbook acts instead', async () => {
    fake.script({
      kind: 'proposal',
      proposal: {
        decision: 'act',
        diagnosis: 'checkout is leaking memory',
        rationale: 'lower the limit so it restarts sooner',
        confidence: 0.9,
        actions: [
          {
            action: 'set-resources',
            ...checkout,
            container: 'app',
            limits: { memoryBytes: 256 * MIB, cpuCores: null },
            requests: null,
            fromLimits: null,
            fromRequests: null,
          },
        ],
      },
    });
    const container = await openAiContainer();
    await h.sendAnomalies(encodeAll(memoryLeak()));
    await h.invoke(container);

    const [incident] = container.outcomes.flatMap((outcome) => outcome.incidents);
    assert.equal(incident!.source, 'runbook');
    assert.match(incident!.fallbackReason!, /policy refused the LLM's plan: .*below observed usage/);
    const sent = await h.plansSent();
    assert.equal(sent.length, 1);
    assert.equal(sent[0]!.plan.source, 'runbook');
    assert.ok(
      sent[0]!.plan.actions.some(
        (action) => action.action === 'set-resources' && (action.limits.memoryBytes ?? 0) > 512 * MIB,
      ),
    );
    assert.equal(fake.requests.length, 1);
    assert.equal(h.fake.requests.length, 0, 'Gemini was not asked');
  });
});
