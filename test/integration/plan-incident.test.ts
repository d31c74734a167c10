import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { RedisPlannerState } from '../../functions/planner/adapters/redis-planner-state.js';
import {
  type PlannerDeps,
  type PlannerSettings,
  planIncidents,
} from '../../functions/planner/core/plan-incident.js';
import type { PlannerOutput } from '../../functions/planner/core/ports.js';
import { LlmUnavailableError } from '../../functions/planner/llm/errors.js';
import type { LlmPlanner, PlanAnswer, PlanRequest } from '../../functions/planner/llm/provider.js';
import { parsePolicy, type RemediationPolicyDocument } from '../../functions/shared/actions/index.js';
import type {
  PlanProposal,
  RemediationAction,
  RemediationPlan,
} from '../../functions/shared/contracts/index.js';
import { DependencyUnavailableError } from '../../functions/shared/errors.js';
import { createRedactor } from '../../functions/shared/redaction/redact.js';
import { keyringOf, verifyPlan } from '../../functions/shared/signing.js';
import { PrivateRedisServer } from '../../local/harness/support/redis-server.js';
import { eventAnomaly, MIB, podInventory, usageAnomaly } from '../support/planner-fixtures.js';

/** The port boundary: answers with what the test scripted, or fails the way a provider does, and records requests. */
class ScriptedLlm implements LlmPlanner {
  readonly requests: PlanRequest[] = [];
  constructor(private readonly reply: PlanProposal | Error | unknown) {}
  async propose(request: PlanRequest): Promise<PlanAnswer> {
    this.requests.push(request);
    if (this.reply instanceof Error) throw this.reply;
    return {
      proposal: this.reply as PlanProposal,
      model: 'scripted',
      usage: { promptTokens: 1, completionTokens: 1 },
      attempts: 1,
      cached: false,
    };
  }
}

const signer = { keyId: 'k1', key: randomBytes(32) };
const keyring = keyringOf(signer);
const now = new Date('2026-11-21T10:01:00Z');
const settings: PlannerSettings = {
  planTtlSeconds: 900,
  approvalTtlSeconds: 3600,
  incidentTtlSeconds: 3600,
  observeSeconds: 1800,
  inFlightSeconds: 120,
  cooldownSeconds: 900,
  autoPlans: { max: 10, windowSeconds: 600 },
};
const openPolicy: RemediationPolicyDocument = { modes: { low: 'auto', medium: 'auto' }, dryRun: false };
const silent = { debug() {}, info() {}, warn() {}, error() {} };

const checkout = { namespace: 'shop', kind: 'Deployment' as const, name: 'checkout' };
const raiseTo = (memoryBytes: number): RemediationAction => ({
  action: 'set-resources',
  ...checkout,
  container: 'app',
  limits: { memoryBytes },
});
/** The same as signed: with the limit it replaces, written in by the planner from its facts. */
const signedRaise = (memoryBytes: number): RemediationAction => ({
  action: 'set-resources',
  ...checkout,
  container: 'app',
  limits: { memoryBytes },
  fromLimits: { memoryBytes: 512 * MIB },
});
const acting = (actions: RemediationAction[], confidence = 0.9): PlanProposal => ({
  decision: 'act',
  diagnosis: 'checkout runs out of memory',
  rationale: 'more headroom',
  confidence,
  actions,
});

const kinds = (outputs: PlannerOutput[]) => outputs.map((o) => o.kind);
const planOf = (outputs: PlannerOutput[]): RemediationPlan => {
  const output = outputs.find((o) => o.kind === 'plan');
  assert.ok(output?.kind === 'plan', `no plan in ${kinds(outputs).join(', ')}`);
  return output.plan;
};
const alertOf = (outputs: PlannerOutput[]) => {
  const output = outputs.find((o) => o.kind === 'alert');
  assert.ok(output?.kind === 'alert', `no alert in ${kinds(outputs).join(', ')}`);
  return output.alert;
};

describe('planning incidents against a real Redis', () => {
  let server: PrivateRedisServer;
  let redis: Redis;
  let state: RedisPlannerState;

  const deps = (
    overrides: Partial<PlannerDeps> & { policyDocument?: RemediationPolicyDocument } = {},
  ): PlannerDeps => {
    const { policyDocument, ...rest } = overrides;
    return {
      state,
      clock: () => now,
      // the fixtures' one cluster
      signers: new Map([['prod-eu-1', signer]]),
      policy: parsePolicy(policyDocument ?? openPolicy),
      redactor: createRedactor(),
      logger: silent,
      settings,
      ...rest,
    };
  };

  before(async () => {
    server = await PrivateRedisServer.start();
    redis = new Redis(server.url, { maxRetriesPerRequest: 0, lazyConnect: true });
    redis.on('error', () => {});
    await redis.connect();
    state = new RedisPlannerState(redis);
  });
  after(async () => {
    redis.disconnect();
    await server.close();
  });
  beforeEach(async () => {
    await redis.flushall();
  });

  it('signs the LLM plan when policy allows it, and starts the cooldown', async () => {
    const llm = new ScriptedLlm(acting([raiseTo(768 * MIB)]));
    const { incidents, outputs } = await planIncidents([eventAnomaly('OOMKilled')], deps({ llm }));
    assert.equal(incidents[0]!.result, 'planned');
    assert.equal(incidents[0]!.source, 'llm');
    const plan = planOf(outputs);
    assert.deepEqual(plan.actions, [signedRaise(768 * MIB)]);
    assert.equal(plan.dryRun, false);
    assert.equal(plan.incidentId, incidents[0]!.fingerprint);
    assert.equal(verifyPlan(plan, keyring, now).ok, true);
    assert.deepEqual(
      llm.requests[0]!.allowedActions.map((a) => a.name),
      ['scale', 'rollout-restart', 'set-resources', 'delete-pod', 'cordon'],
    );
    assert.match(llm.requests[0]!.context, /<incident-data>/);
  });

  it('plans an incident once: a redelivery re-sends the same messages, new evidence sends nothing', async () => {
    const llm = new ScriptedLlm(acting([raiseTo(768 * MIB)]));
    const anomaly = eventAnomaly('OOMKilled');
    const first = await planIncidents([anomaly], deps({ llm }));
    const redelivered = await planIncidents([anomaly], deps({ llm }));
    assert.equal(redelivered.incidents[0]!.result, 'resent');
    assert.deepEqual(redelivered.outputs, first.outputs);
    const otherReplica = eventAnomaly(
      'OOMKilled',
      {},
      { inventory: podInventory('checkout-7d9f8b6c5-other') },
    );
    const later = await planIncidents([otherReplica, usageAnomaly()], deps({ llm }));
    assert.deepEqual(
      later.incidents.map((i) => i.result),
      ['duplicate'],
    );
    assert.deepEqual(later.outputs, []);
    assert.equal(llm.requests.length, 1);
  });

  it('asks again when a request for approval expired unanswered and the incident came back, not when it was approved', async () => {
    const llm = new ScriptedLlm(acting([raiseTo(768 * MIB)]));
    const askHuman = { llm, policyDocument: {} };
    const first = await planIncidents([eventAnomaly('OOMKilled')], deps(askHuman));
    assert.equal(first.incidents[0]!.result, 'pending-approval');
    const expired = new Date(now.getTime() + settings.approvalTtlSeconds * 1000 + 60_000);
    const replica = (pod: string, detectedAt: Date) =>
      eventAnomaly('OOMKilled', {}, { inventory: podInventory(pod), detectedAt: detectedAt.toISOString() });

    // Detected while the request could still be answered: part of the breach already waiting for a human.
    const late = await planIncidents(
      [replica('checkout-7d9f8b6c5-late1', new Date(now.getTime() + 60_000))],
      deps({ ...askHuman, clock: () => expired }),
    );
    assert.deepEqual(
      late.incidents.map((i) => i.result),
      ['duplicate'],
    );
    const cameBack = await planIncidents(
      [replica('checkout-7d9f8b6c5-back1', expired)],
      deps({ ...askHuman, clock: () => expired }),
    );
    assert.deepEqual(kinds(cameBack.outputs), ['approval-request', 'alert']);
    assert.equal(llm.requests.length, 2, 'the new episode is not answered from the cached one');
    assert.notEqual(llm.requests[1]!.incidentFingerprint, llm.requests[0]!.incidentFingerprint);
    assert.equal((await state.listApprovals()).length, 2);

    // Approved in time: the plan is on its way, and only its result ends the episode.
    const pending = (await state.listApprovals()).find(
      (a) => a.status === 'pending' && a.createdAt === expired.toISOString(),
    );
    assert.ok(pending);
    assert.equal((await state.decideApproval(pending.approvalId, 'approved', 'alice', expired)).ok, true);
    const muchLater = new Date(expired.getTime() + settings.approvalTtlSeconds * 1000 + 60_000);
    const afterApproval = await planIncidents(
      [replica('checkout-7d9f8b6c5-back2', muchLater)],
      deps({ ...askHuman, clock: () => muchLater }),
    );
    assert.deepEqual(
      afterApproval.incidents.map((i) => i.result),
      ['duplicate'],
    );
  });

  it('falls back to the runbook when the LLM fails, and asks a human under the default policy', async () => {
    const llm = new ScriptedLlm(new LlmUnavailableError('503 from provider', { status: 503 }));
    const { incidents, outputs } = await planIncidents(
      [eventAnomaly('OOMKilled')],
      deps({ llm, policyDocument: {} }),
    );
    assert.equal(incidents[0]!.result, 'pending-approval');
    assert.equal(incidents[0]!.source, 'runbook');
    assert.match(incidents[0]!.fallbackReason!, /llm-unavailable/);
    assert.deepEqual(kinds(outputs), ['approval-request', 'alert']);
    const [stored] = await state.listApprovals();
    assert.equal(stored!.status, 'pending');
    assert.deepEqual(stored!.proposal.actions, [signedRaise(768 * MIB)]);
    assert.match(alertOf(outputs).summary, new RegExp(stored!.approvalId));
  });

  it('uses the runbook when the LLM is unsure or its answer is invalid', async () => {
    for (const reply of [
      acting([raiseTo(700 * MIB)], 0.3),
      {
        decision: 'act',
        diagnosis: 'x',
        rationale: 'y',
        confidence: 0.99,
        actions: [{ action: 'exec', cmd: 'sh' }],
      },
    ]) {
      await redis.flushall();
      const { incidents, outputs } = await planIncidents(
        [eventAnomaly('OOMKilled')],
        deps({ llm: new ScriptedLlm(reply) }),
      );
      assert.equal(incidents[0]!.source, 'runbook');
      assert.deepEqual(planOf(outputs).actions, [signedRaise(768 * MIB)]);
      assert.equal(planOf(outputs).source, 'runbook');
    }
  });

  it('replaces an LLM plan that policy refuses with the runbook’s, saying why', async () => {
    const hostile = acting([
      { action: 'scale', namespace: 'kube-system', kind: 'Deployment', name: 'coredns', replicas: 0 },
    ]);
    const { incidents, outputs } = await planIncidents(
      [eventAnomaly('OOMKilled')],
      deps({ llm: new ScriptedLlm(hostile) }),
    );
    assert.equal(incidents[0]!.source, 'runbook');
    assert.match(incidents[0]!.fallbackReason!, /policy refused/);
    assert.deepEqual(planOf(outputs).actions, [signedRaise(768 * MIB)]);
  });

  it('replaces an LLM plan whose actions do not address the problem, even one policy allows', async () => {
    const deletePod = { action: 'delete-pod' as const, namespace: 'shop', pod: 'checkout-7d9f8b6c5-x1' };
    const llm = new ScriptedLlm(acting([deletePod]));
    const { incidents, outputs } = await planIncidents([eventAnomaly('OOMKilled')], deps({ llm }));
    assert.equal(incidents[0]!.source, 'runbook');
    assert.match(incidents[0]!.fallbackReason ?? '', /delete-pod, which does not address memory-exhaustion/);
    for (const output of outputs) {
      if (output.kind === 'plan') assert.ok(output.plan.actions.every((a) => a.action !== 'delete-pod'));
    }
  });

  it('replaces an LLM plan that scales in the leaking workload with the runbook’s, saying why', async () => {
    const lookup = async () => ({ facts: { replicas: 4 } });
    const halve = {
      action: 'scale' as const,
      namespace: 'shop',
      kind: 'Deployment' as const,
      name: 'checkout',
      replicas: 2,
    };
    const { incidents, outputs } = await planIncidents(
      [eventAnomaly('OOMKilled')],
      deps({ llm: new ScriptedLlm(acting([halve])), lookup }),
    );
    assert.equal(incidents[0]!.source, 'runbook');
    assert.match(
      incidents[0]!.fallbackReason ?? '',
      /scaling in \(4 → 2\), which relieves no memory-exhaustion/,
    );
    assert.ok(
      outputs.every((o) => o.kind !== 'approval-request'),
      'a scale-in is refused, not put to a human',
    );
    assert.deepEqual(planOf(outputs).actions, [signedRaise(768 * MIB)]);
  });

  it('reconsiders an incident it only watched once the watch is over and the incident breaches again', async () => {
    const llm = new ScriptedLlm({
      decision: 'observe',
      diagnosis: 'a brief spike during a deploy',
      rationale: 'usage is already falling',
      confidence: 0.9,
      actions: [],
    });
    const first = await planIncidents([usageAnomaly()], deps({ llm }));
    assert.equal(first.incidents[0]!.result, 'observed');
    const watchEnds = now.getTime() + settings.observeSeconds * 1000;
    const breach = (id: string, at: number) =>
      usageAnomaly({ anomalyId: `${id}:opened`, incidentId: id, detectedAt: new Date(at).toISOString() });
    const later = new Date(watchEnds + 120_000);

    const during = await planIncidents(
      [breach('inc-b', watchEnds - 60_000)],
      deps({ llm, clock: () => later }),
    );
    assert.deepEqual(
      during.incidents.map((i) => i.result),
      ['duplicate'],
    );
    const afterWatch = await planIncidents(
      [breach('inc-c', watchEnds + 60_000)],
      deps({ llm, clock: () => later }),
    );
    assert.deepEqual(
      afterWatch.incidents.map((i) => i.result),
      ['observed'],
    );
    assert.equal(llm.requests.length, 2, 'asked again, not answered from the first watch');
    assert.equal(first.incidents[0]!.returning, undefined);
    assert.equal(afterWatch.incidents[0]!.returning, true, 'counted as an incident that came back');
  });

  it('alerts instead of acting when nothing acceptable is proposed', async () => {
    const tooBig = acting([raiseTo(4096 * MIB)]);
    const noLimit = podInventory();
    noLimit.containers[0]!.limits = {};
    const anomaly = eventAnomaly('OOMKilled', {}, { inventory: noLimit });
    const { incidents, outputs } = await planIncidents([anomaly], deps({ llm: new ScriptedLlm(tooBig) }));
    assert.equal(incidents[0]!.result, 'refused');
    assert.deepEqual(kinds(outputs), ['alert']);
    assert.match(alertOf(outputs).summary, /Refused by policy/);
  });

  it('escalates a crash loop with its diagnosis, even when the LLM wants to act', async () => {
    const inventory = podInventory();
    inventory.containers[0]!.state = {
      state: 'waiting',
      reason: 'CrashLoopBackOff',
      exitCode: 1,
      lastTerminationReason: 'Error',
    };
    const anomaly = eventAnomaly(
      'CrashLoopBackOff',
      { logTail: 'ERROR cannot reach postgres://app:hunter2@db:5432/orders: connection refused' },
      { inventory },
    );
    const llm = new ScriptedLlm(acting([{ action: 'rollout-restart', ...checkout }]));
    const { incidents, outputs } = await planIncidents([anomaly], deps({ llm }));
    assert.equal(incidents[0]!.result, 'escalated');
    const alert = alertOf(outputs);
    assert.match(alert.summary, /exit code 1/);
    assert.match(alert.summary, /connection refused/);
    assert.equal(alert.summary.includes('hunter2'), false);
    assert.equal(llm.requests[0]!.context.includes('hunter2'), false);
  });

  it('sends unusual behaviour to a human without an LLM: a warning escalates, information is watched', async () => {
    const unusual = (severity: 'info' | 'warning', clusterId = 'prod-eu-1') =>
      usageAnomaly({
        clusterId,
        reasons: [],
        problem: 'unusual-behaviour',
        unusual: { severity, score: 0.98 },
      });
    const warning = await planIncidents([unusual('warning')], deps());
    assert.equal(warning.incidents[0]!.result, 'escalated');
    assert.equal(alertOf(warning.outputs).severity, 'warning');
    assert.match(alertOf(warning.outputs).summary, /unlike its own history/);
    assert.equal(kinds(warning.outputs).includes('plan'), false);
    await redis.flushall();
    const info = await planIncidents([unusual('info')], deps());
    assert.equal(info.incidents[0]!.result, 'observed');
    assert.equal(alertOf(info.outputs).severity, 'info');
  });

  it('lets policy judge a remedy a model proposes for unusual behaviour, and refuses one off its class', async () => {
    const anomaly = usageAnomaly({
      reasons: [],
      problem: 'unusual-behaviour',
      unusual: { severity: 'warning', score: 0.98 },
    });
    const restart = new ScriptedLlm(acting([{ action: 'rollout-restart', ...checkout }]));
    const allowed = await planIncidents([anomaly], deps({ llm: restart }));
    assert.equal(planOf(allowed.outputs).actions[0]!.action, 'rollout-restart');
    await redis.flushall();
    const resize = new ScriptedLlm(acting([raiseTo(768 * MIB)]));
    const refused = await planIncidents([anomaly], deps({ llm: resize }));
    assert.equal(refused.incidents[0]!.result, 'escalated');
    assert.equal(kinds(refused.outputs).includes('plan'), false);
  });

  it('passes an LLM escalation on to humans', async () => {
    const llm = new ScriptedLlm({
      decision: 'escalate',
      diagnosis: 'bad deploy',
      rationale: '',
      confidence: 0.9,
      actions: [],
    });
    const { incidents, outputs } = await planIncidents([eventAnomaly('OOMKilled')], deps({ llm }));
    assert.equal(incidents[0]!.result, 'escalated');
    // Issue 14: what policy decided leads, the model's words follow, labelled as the model's.
    assert.equal(
      alertOf(outputs).summary,
      'No automatic action: a human should decide.\nModel-written diagnosis (unverified; links and mentions disabled): bad deploy',
    );
  });

  it('asks a human while the target cools down, and once automatic plans are spent', async () => {
    const llm = new ScriptedLlm(acting([raiseTo(768 * MIB)]));
    await planIncidents([eventAnomaly('OOMKilled')], deps({ llm }));
    const cpu = usageAnomaly({
      signal: 'cpu',
      metric: 'cpu_usage_cores',
      normalisation: { basis: 'limit', denominator: 1 },
    });
    const lookup = async () => ({ facts: { replicas: 4 } });
    const cooled = await planIncidents([cpu], deps({ lookup }));
    assert.equal(cooled.incidents[0]!.result, 'pending-approval');
    const approval = cooled.outputs.find((o) => o.kind === 'approval-request');
    assert.ok(approval?.kind === 'approval-request');
    assert.match(approval.approval.reasons.join(), /cooldown/);

    await redis.flushall();
    const limited = { ...settings, autoPlans: { max: 1, windowSeconds: 600 } };
    const first = await planIncidents([eventAnomaly('OOMKilled')], deps({ settings: limited }));
    assert.equal(first.incidents[0]!.result, 'planned');
    const payments = podInventory('payments-6b7c8d9f0-zzzzz', {
      owner: { kind: 'ReplicaSet', name: 'payments-6b7c8d9f0' },
    });
    const otherCpu = usageAnomaly({
      ...cpu,
      inventory: payments,
      target: { ...cpu.target, pod: payments.pod, owner: payments.owner! },
    });
    const second = await planIncidents([otherCpu], deps({ settings: limited, lookup }));
    assert.equal(second.incidents[0]!.result, 'pending-approval');
    const limitedApproval = second.outputs.find((o) => o.kind === 'approval-request');
    assert.ok(limitedApproval?.kind === 'approval-request');
    assert.match(limitedApproval.approval.reasons.join(), /more than 1 automatic plans/);
  });

  it('fails only the anomalies of an incident that cannot be planned, and releases its claim for the retry', async () => {
    const failing = async (key: { problem: string }) => {
      if (key.problem === 'memory-exhaustion')
        throw new DependencyUnavailableError('redis', 'inventory read failed');
      return {};
    };
    const oom = eventAnomaly('OOMKilled');
    const pull = eventAnomaly('ImagePullBackOff');
    const first = await planIncidents([oom, pull], deps({ lookup: failing }));
    assert.deepEqual([...first.failures.keys()], [oom.anomalyId]);
    assert.ok(first.failures.get(oom.anomalyId) instanceof DependencyUnavailableError);
    assert.deepEqual(
      first.incidents.map((i) => i.result),
      ['escalated'],
    );
    const retried = await planIncidents([oom], deps());
    assert.equal(retried.incidents[0]!.result, 'planned');
  });

  it('hands back with each incident the anomalies of the batch that have its key, resolved ones too', async () => {
    const oom = eventAnomaly('OOMKilled');
    const pull = eventAnomaly('ImagePullBackOff');
    const resolved = usageAnomaly({ status: 'resolved', anomalyId: 'inc-a:resolved' });
    const { incidents } = await planIncidents([oom, resolved, pull], deps());
    assert.deepEqual(
      incidents.map((i) => [i.problem, i.anomalyIds]),
      [
        ['memory-exhaustion', [oom.anomalyId, resolved.anomalyId]],
        ['image-pull', [pull.anomalyId]],
      ],
    );
  });

  it('plans each incident of a batch once and ignores resolved anomalies', async () => {
    const replicas = ['checkout-7d9f8b6c5-aaaaa', 'checkout-7d9f8b6c5-bbbbb', 'checkout-7d9f8b6c5-ccccc'];
    const batch = [
      ...replicas.map((pod) => eventAnomaly('OOMKilled', {}, { inventory: podInventory(pod) })),
      eventAnomaly('ImagePullBackOff'),
      usageAnomaly({ status: 'resolved', anomalyId: 'inc-a:resolved' }),
    ];
    const { incidents, ignored } = await planIncidents(batch, deps());
    assert.deepEqual(
      incidents.map((i) => [i.problem, i.result]),
      [
        ['memory-exhaustion', 'planned'],
        ['image-pull', 'escalated'],
      ],
    );
    assert.equal(ignored, 1);
  });
});
