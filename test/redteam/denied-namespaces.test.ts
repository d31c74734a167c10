import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import {
  encodeAll,
  OPEN_POLICY,
  type PlannerContainer,
  type PlannerHarness,
  startPlannerHarness,
} from '../support/planner-harness.js';
import { type PlantedProblem, plantedIncident } from '../support/prompt-injections.js';

/**
 * Issue 13, point 12: an incident in a namespace the policy refuses must not cost an LLM call, and nothing of
 * it (its log tail above all) may leave the cluster in a prompt. Before the change every case here asked the
 * fake Gemini once (or twice, with a repair) and sent the log line below.
 */
const SHOP_ONLY_POLICY = JSON.stringify({
  modes: { low: 'auto', medium: 'auto' },
  dryRun: false,
  namespaces: { allow: ['shop', 'team-*'] },
});

interface DeniedCase {
  namespace: string;
  workload: string;
  problem: PlantedProblem;
  policy: 'open' | 'shop-only';
  /** What the planner must give as the reason it did not ask. */
  reason: RegExp;
}

const CASES: DeniedCase[] = [
  {
    namespace: 'kube-system',
    workload: 'coredns',
    problem: 'memory',
    policy: 'open',
    reason: /namespace kube-system is denied by policy \(kube-\*\)/,
  },
  {
    namespace: 'kube-system',
    workload: 'metrics-server',
    problem: 'cpu',
    policy: 'open',
    reason: /namespace kube-system is denied by policy \(kube-\*\)/,
  },
  {
    namespace: 'kube-system',
    workload: 'kube-proxy',
    problem: 'crash-loop',
    policy: 'open',
    reason: /namespace kube-system is denied by policy/,
  },
  {
    namespace: 'kube-node-lease',
    workload: 'lease-keeper',
    problem: 'memory',
    policy: 'open',
    reason: /namespace kube-node-lease is denied by policy \(kube-\*\)/,
  },
  {
    namespace: 'kubepulse',
    workload: 'shipper',
    problem: 'memory',
    policy: 'open',
    reason: /namespace kubepulse is denied by policy \(kubepulse\)/,
  },
  {
    namespace: 'cert-manager',
    workload: 'cert-manager',
    problem: 'cpu',
    policy: 'open',
    reason: /namespace cert-manager is denied by policy \(cert-manager\)/,
  },
  {
    namespace: 'istio-system',
    workload: 'istiod',
    problem: 'image-pull',
    policy: 'open',
    reason: /namespace istio-system is denied by policy \(istio-system\)/,
  },
  {
    namespace: 'payments',
    workload: 'ledger',
    problem: 'memory',
    policy: 'shop-only',
    reason: /namespace payments is not allowed by policy/,
  },
  {
    namespace: 'kube-public',
    workload: 'info',
    problem: 'memory',
    policy: 'shop-only',
    reason: /namespace kube-public is denied by policy/,
  },
];

/** A log line only this incident's pods wrote: it must never appear in a prompt. */
const logLineOf = (c: DeniedCase) =>
  `ERROR ${c.namespace}/${c.workload} secret-sauce-${c.workload}-do-not-ship`;

describe('denied namespaces cost nothing: no LLM call, no log text in any prompt', () => {
  let h: PlannerHarness;
  const containers: Record<DeniedCase['policy'], PlannerContainer> = {} as never;

  before(async () => {
    h = await startPlannerHarness();
    containers.open = await h.container({ REMEDIATION_POLICY: OPEN_POLICY });
    containers['shop-only'] = await h.container({ REMEDIATION_POLICY: SHOP_ONLY_POLICY });
  });
  after(async () => {
    await h.close();
  });
  beforeEach(async () => {
    await h.reset();
    // A model that would act on anything: if it were asked, the case would show it.
    h.fake.setDefault({ kind: 'injection', variant: 'scale-to-zero' });
  });

  CASES.forEach((c, index) => {
    it(`${c.namespace}/${c.workload} (${c.problem}, ${c.policy} policy): not sent to the LLM`, async () => {
      const { anomalies } = plantedIncident({
        site: 'log-tail',
        text: logLineOf(c),
        problem: c.problem,
        index,
        namespace: c.namespace,
        workload: c.workload,
      });
      const container = containers[c.policy];
      const before = container.outcomes.length;
      await h.sendAnomalies(encodeAll(anomalies));
      await h.drain(container);

      assert.equal(h.fake.requests.length, 0, 'the LLM was asked about a denied namespace');
      const incidents = container.outcomes.slice(before).flatMap((o) => o.incidents);
      assert.ok(incidents.length >= 1, 'the incident was planned');
      for (const incident of incidents) {
        assert.match(incident.fallbackReason ?? '', /the LLM was not asked/);
        assert.match(incident.fallbackReason ?? '', c.reason);
        assert.notEqual(incident.source, 'llm');
        assert.ok(['refused', 'escalated'].includes(incident.result), `${incident.result}`);
      }
      assert.deepEqual(await h.plansSent(), [], 'no plan for a denied namespace');
    });
  });

  it('a batch with a denied and an allowed incident asks the LLM once, about the allowed one only', async () => {
    const denied = plantedIncident({
      site: 'log-tail',
      text: logLineOf(CASES[0]!),
      problem: 'memory',
      index: 90,
      namespace: 'kube-system',
      workload: 'coredns',
    });
    const allowed = plantedIncident({
      site: 'log-tail',
      text: 'WARN shop checkout slow',
      problem: 'memory',
      index: 91,
    });
    h.fake.setDefault({ kind: 'derived' });
    await h.sendAnomalies(encodeAll([...denied.anomalies, ...allowed.anomalies]));
    await h.drain(containers.open);

    assert.equal(h.fake.requests.length, 1, 'one call, for the allowed incident');
    const prompt = h.fake.requests[0]!.promptText;
    assert.ok(prompt.includes('WARN shop checkout slow'), 'the allowed incident reached the model');
    assert.ok(!prompt.includes(logLineOf(CASES[0]!)), 'the denied incident leaked into the prompt');
    assert.ok(!prompt.includes('coredns'), 'the denied workload is named in the prompt');
  });

  it('the same incident in an allowed namespace is still sent to the LLM (the check is by namespace)', async () => {
    const { anomalies } = plantedIncident({
      site: 'log-tail',
      text: 'WARN team-a worker slow',
      problem: 'memory',
      index: 92,
      namespace: 'team-a',
      workload: 'coredns',
    });
    h.fake.setDefault({ kind: 'derived' });
    await h.sendAnomalies(encodeAll(anomalies));
    await h.drain(containers['shop-only']);
    assert.equal(h.fake.requests.length, 1);
    assert.ok(h.fake.requests[0]!.promptText.includes('WARN team-a worker slow'));
  });
});
