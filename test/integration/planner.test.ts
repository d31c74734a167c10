import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Message } from '@aws-sdk/client-sqs';
import type { SQSHandler } from 'aws-lambda';
import { RedisPlannerState } from '../../functions/planner/adapters/redis-planner-state.js';
import { incidentKeyOf } from '../../functions/planner/core/correlate.js';
import { DEFAULT_POLICY, evaluateAction, parsePolicy } from '../../functions/shared/actions/index.js';
import { checkSeal } from '../../functions/shared/approvals/index.js';
import {
  type Anomaly,
  type ExecutionResult,
  encodeMessageBody,
  type RemediationAction,
} from '../../functions/shared/contracts/index.js';
import { QUARANTINE_ATTRIBUTES } from '../../functions/shared/lambda/sqs-records.js';
import { verifyPlan } from '../../functions/shared/signing.js';
import { clusterQueuesEnv } from '../../local/standins/sqs/emulator.js';
import { eventAnomaly, MIB, podInventory, usageAnomaly } from '../support/planner-fixtures.js';
import {
  encodeAll,
  incidentFacts,
  OPEN_POLICY,
  type PlannerHarness,
  startPlannerHarness,
} from '../support/planner-harness.js';

const checkout = { namespace: 'shop', kind: 'Deployment' as const, name: 'checkout' };
const withReplicas = (pod: string) => podInventory(pod, { ownerReplicas: { desired: 3, ready: 3 } });

/** A memory forecast breach and an OOM kill of the same replica of shop/checkout (limit 512 MiB). */
function oomIncident(): Anomaly[] {
  const inventory = withReplicas('checkout-7d9f8b6c5-x2x4z');
  return [usageAnomaly({ inventory }), eventAnomaly('OOMKilled', {}, { inventory })];
}

/** What the memory runbook proposes for it: 1.5 × the limit, and a restart since memory grows steadily. */
const RUNBOOK_ACTIONS: RemediationAction[] = [
  {
    action: 'set-resources',
    ...checkout,
    container: 'app',
    limits: { memoryBytes: 768 * MIB },
    fromLimits: { memoryBytes: 512 * MIB },
  },
  { action: 'rollout-restart', ...checkout },
];
/** What the fake's careful model proposes: the same, with the limit raised to exactly 1.5 × 512 MiB. */
const LLM_ACTIONS: RemediationAction[] = [
  {
    action: 'set-resources',
    ...checkout,
    container: 'app',
    limits: { memoryBytes: 805_306_368 },
    fromLimits: { memoryBytes: 512 * MIB },
  },
  { action: 'rollout-restart', ...checkout },
];

const attribute = (message: Message, name: string) => message.MessageAttributes?.[name]?.StringValue ?? '';

describe('planner function on real Redis, the SQS emulator and a fake Gemini behind the real client', () => {
  let h: PlannerHarness;
  before(async () => {
    h = await startPlannerHarness();
  });
  after(async () => {
    await h.close();
  });
  beforeEach(async () => {
    await h.reset();
  });

  /** Every plan sent is signed, and each of its actions is one policy allows on the incident's own facts. */
  const assertPlanAllowed = async (anomalies: Anomaly[], policyJson = OPEN_POLICY) => {
    const sent = await h.plansSent();
    const facts = await incidentFacts(anomalies);
    const policy = parsePolicy(JSON.parse(policyJson));
    for (const { plan } of sent) {
      assert.equal(verifyPlan(plan, h.keyring, new Date()).ok, true, 'the executor will accept it');
      for (const action of plan.actions) {
        const evaluation = evaluateAction(action, facts, policy);
        assert.equal(evaluation.verdict, 'auto', evaluation.reasons.join('; '));
      }
    }
    return sent;
  };

  it('through the Lambda handler module: an OOM incident becomes one signed, bounded LLM plan on the FIFO queue', async () => {
    Object.assign(process.env, h.env, {
      REMEDIATION_POLICY: OPEN_POLICY,
      POWERTOOLS_LOG_LEVEL: 'SILENT',
    });
    const { handler, shutdown } = (await import('../../functions/planner/handler.js')) as {
      handler: SQSHandler;
      shutdown: () => Promise<void>;
    };
    try {
      const anomalies = oomIncident();
      await h.sendAnomalies(encodeAll(anomalies));
      const report = await h.invokeHandler(handler);
      assert.equal(report?.outcome, 'success');

      const sent = await assertPlanAllowed(anomalies);
      assert.equal(sent.length, 1);
      const { plan, message } = sent[0]!;
      assert.equal(plan.source, 'llm');
      assert.equal(plan.dryRun, false);
      assert.deepEqual(plan.actions, LLM_ACTIONS);
      assert.equal(plan.incidentId, incidentKeyOf(anomalies[0]!).fingerprint);
      assert.equal(message.Attributes?.MessageGroupId, 'prod-eu-1/shop/Deployment/checkout');
      assert.equal(message.Attributes?.MessageDeduplicationId, plan.planId);
      assert.equal(h.fake.requests.length, 1, 'one LLM call for the incident');
      assert.match(h.fake.requests[0]!.promptText, /<incident-data>/);
      assert.deepEqual(await h.alertsSent(), [], 'an automatic plan pages nobody');
    } finally {
      await shutdown();
    }
  });

  it('under the default policy, stores the same proposal for approval and asks a human', async () => {
    const container = await h.container();
    await h.sendAnomalies(encodeAll(oomIncident()));
    await h.drain(container);

    assert.deepEqual(await h.plansSent(), [], 'medium-risk actions wait for a human by default');
    const [approval, ...more] = await new RedisPlannerState(h.redis).listApprovals();
    assert.equal(more.length, 0);
    assert.equal(approval!.status, 'pending');
    assert.equal(approval!.source, 'llm');
    assert.deepEqual(approval!.proposal.actions, LLM_ACTIONS);
    assert.equal(approval!.dryRun, DEFAULT_POLICY.dryRun);
    // Sealed with the planner's key over everything a plan will be made from, the facts it was judged on included.
    assert.deepEqual(checkSeal(approval!, h.keyring), { ok: true });
    assert.equal(approval!.facts?.incident.namespace, 'shop');
    const alerts = await h.alertsSent();
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0]!.title, 'Approval needed: Deployment/checkout in shop');
    assert.match(alerts[0]!.summary, new RegExp(`Approval id: ${approval!.approvalId}`));
  });

  for (const [name, script] of [
    ['answers 500 to every request', { default: { kind: 'error', status: 500 } }],
    [
      'answers with prose, twice',
      {
        queue: [
          { kind: 'text', text: 'Restart it, I reckon.' },
          { kind: 'text', text: 'Sure: {"decision": "act"' },
        ],
      },
    ],
    [
      'answers JSON that breaks the plan schema, twice',
      { queue: [{ kind: 'schema-violation' }, { kind: 'schema-violation' }] },
    ],
  ] as const) {
    it(`falls back to the runbook plan when the LLM ${name}`, async () => {
      if ('default' in script) h.fake.setDefault(script.default);
      else h.fake.script(...script.queue);
      const container = await h.container({ REMEDIATION_POLICY: OPEN_POLICY });
      const anomalies = oomIncident();
      await h.sendAnomalies(encodeAll(anomalies));
      await h.drain(container);

      const sent = await assertPlanAllowed(anomalies);
      assert.equal(sent.length, 1);
      assert.equal(sent[0]!.plan.source, 'runbook');
      assert.deepEqual(sent[0]!.plan.actions, RUNBOOK_ACTIONS);
      const [incident] = container.outcomes.flatMap((o) => o.incidents);
      assert.equal(incident!.source, 'runbook');
      assert.match(incident!.fallbackReason!, /llm-unavailable|llm-invalid-answer/);
      assert.equal(h.fake.requests.length, 2, 'one retry, or one repair round, and no more');
    });
  }

  it('cuts a hanging LLM off before the invocation’s time runs out, and sends the runbook plan', async () => {
    h.fake.setDefault({ kind: 'hang' });
    // Neither the client's timeout nor the retry deadline would end it: only the invocation's own deadline.
    const container = await h.container({
      REMEDIATION_POLICY: OPEN_POLICY,
      GEMINI_TIMEOUT_MS: '60000',
      LLM_RETRY_DEADLINE_MS: '60000',
    });
    const anomalies = oomIncident();
    await h.sendAnomalies(encodeAll(anomalies));
    const report = await h.invoke(container, 'anomalies', 9000);
    assert.equal(report?.outcome, 'success', 'finished within the function timeout');

    const sent = await assertPlanAllowed(anomalies);
    assert.deepEqual(
      sent.map((s) => [s.plan.source, s.plan.actions]),
      [['runbook', RUNBOOK_ACTIONS]],
    );
    assert.match(container.outcomes[0]!.incidents[0]!.fallbackReason!, /llm-timeout/);
  });

  it('dead-letters malformed records with their reason in the DLQ of the queue they came from', async () => {
    const container = await h.container({ REMEDIATION_POLICY: OPEN_POLICY });
    const notJson = '{"kind": "anomaly", ';
    const wrongSchema = JSON.stringify({ schemaVersion: 1, kind: 'anomaly', clusterId: 'prod-eu-1' });
    const unknownKind = JSON.stringify({ schemaVersion: 1, kind: 'remediation-plan', clusterId: 'x' });
    const anomalies = oomIncident();
    await h.sendAnomalies([notJson, wrongSchema, unknownKind, ...encodeAll(anomalies)]);
    await h.send('results', ['{"kind": "execution-result"}']);
    await h.drain(container);
    await h.drain(container, 'results');

    const dead = await h.receiveAll(h.emulator.dlqUrls.anomalies!);
    assert.deepEqual(dead.map((m) => m.Body).sort(), [notJson, wrongSchema, unknownKind].sort());
    const reasonOf = (body: string) =>
      attribute(dead.find((m) => m.Body === body)!, QUARANTINE_ATTRIBUTES.reason);
    for (const message of dead) {
      assert.equal(attribute(message, QUARANTINE_ATTRIBUTES.code), 'malformed-message');
      assert.equal(attribute(message, QUARANTINE_ATTRIBUTES.sourceQueue), h.emulator.queueArns.anomalies);
    }
    assert.match(reasonOf(notJson), /not JSON/);
    assert.match(reasonOf(wrongSchema), /anomalyId|incidentId|source/);
    assert.match(reasonOf(unknownKind), /discriminator|kind/i);

    const deadResults = await h.receiveAll(h.emulator.dlqUrls.results!);
    assert.equal(deadResults.length, 1);
    assert.match(attribute(deadResults[0]!, QUARANTINE_ATTRIBUTES.reason), /planId|clusterId/);
    assert.equal((await assertPlanAllowed(anomalies)).length, 1, 'the valid records were still planned');
  });

  it('turns execution results into alerts: a failure pages, a verified fix resolves the incident', async () => {
    const container = await h.container();
    const result = (planId: string, status: ExecutionResult['status']): ExecutionResult => ({
      schemaVersion: 1,
      kind: 'execution-result',
      clusterId: 'prod-eu-1',
      planId,
      incidentId: 'fp-checkout-oom',
      status,
      steps: [
        { action: RUNBOOK_ACTIONS[0]!, status: status === 'failed' ? 'failed' : 'applied', detail: '' },
      ],
      startedAt: '2026-11-21T10:02:00.000Z',
      finishedAt: '2026-11-21T10:04:00.000Z',
      ...(status === 'failed' ? { error: 'admission webhook denied the patch' } : {}),
    });
    await h.send('results', [
      encodeMessageBody(result('plan-a', 'failed')),
      encodeMessageBody(result('plan-b', 'verified')),
    ]);
    await h.drain(container, 'results');

    const alerts = (await h.alertsSent()).sort((a, b) => (a.planId ?? '').localeCompare(b.planId ?? ''));
    assert.deepEqual(
      alerts.map((a) => [a.planId, a.severity, a.status, a.dedupKey]),
      [
        ['plan-a', 'critical', 'firing', 'fp-checkout-oom'],
        ['plan-b', 'info', 'resolved', 'fp-checkout-oom'],
      ],
    );
    assert.match(alerts[0]!.title, /^Remediation failed: set-resources shop\/Deployment\/checkout/);
    assert.match(alerts[0]!.summary, /admission webhook denied the patch/);
  });

  it('plans a workload again when it breaches after the executor refused its plan, but not for late replicas of the first breach', async () => {
    const container = await h.container({ REMEDIATION_POLICY: OPEN_POLICY, COOLDOWN_SECONDS: '0' });
    const anomalies = oomIncident();
    await h.sendAnomalies(encodeAll(anomalies));
    await h.drain(container);
    const [first] = (await assertPlanAllowed(anomalies)).map((s) => s.plan);
    assert.ok(first);

    // The executor refuses it (the Deployment changed under it) a few minutes after the breach was detected.
    const refused: ExecutionResult = {
      schemaVersion: 1,
      kind: 'execution-result',
      clusterId: first.clusterId,
      planId: first.planId,
      incidentId: first.incidentId,
      status: 'refused',
      steps: [],
      startedAt: '2026-11-21T10:04:00.000Z',
      finishedAt: '2026-11-21T10:04:01.000Z',
      error: 'live limits differ from the plan',
    };
    /** Another replica of shop/checkout OOM-killed, detected at `time` on the day of the first breach. */
    const oomKillAt = (podSuffix: string, time: string) => {
      const at = `2026-11-21T${time}.000Z`;
      const inventory = withReplicas(`checkout-7d9f8b6c5-${podSuffix}`);
      return eventAnomaly('OOMKilled', { observedAt: at }, { inventory, detectedAt: at });
    };
    // A redelivered result of some older plan of the same incident must not end this one.
    await h.send('results', [encodeMessageBody({ ...refused, planId: 'plan-older' })]);
    await h.drain(container, 'results');
    const lateReplica = oomKillAt('older', '10:30:00');
    await h.sendAnomalies(encodeAll([lateReplica]));
    await h.drain(container);
    assert.equal(h.fake.requests.length, 1, 'still one episode: the result was not for its plan');

    await h.send('results', [encodeMessageBody(refused)]);
    await h.drain(container, 'results');
    const lateOfFirst = oomKillAt('y3y5a', '10:03:00');
    await h.sendAnomalies(encodeAll([lateOfFirst]));
    await h.drain(container);
    assert.equal(h.fake.requests.length, 1, 'a replica detected before the conclusion belongs to the first');
    assert.equal((await h.plansSent()).length, 0);

    const cameBack = oomKillAt('z9z9b', '10:31:00');
    await h.sendAnomalies(encodeAll([cameBack]));
    await h.drain(container);
    assert.equal(h.fake.requests.length, 2, 'the breach after the conclusion is planned again');
    const [second] = (await assertPlanAllowed([cameBack])).map((s) => s.plan);
    assert.ok(second);
    assert.equal(second.incidentId, first.incidentId, 'the same incident, a new episode');
    assert.notEqual(second.planId, first.planId);
    const refusedAlert = (await h.alertsSent()).find((a) => a.planId === first.planId);
    assert.equal(refusedAlert?.severity, 'warning', 'the refusal still paged a human');
  });

  it('leaves records for retry while Redis is down, then plans the incident once', async () => {
    const container = await h.container({ REMEDIATION_POLICY: OPEN_POLICY });
    const anomalies = oomIncident();
    await h.sendAnomalies(encodeAll(anomalies));
    await h.redisServer.stop();
    let report: Awaited<ReturnType<PlannerHarness['invoke']>>;
    try {
      report = await h.invoke(container);
    } finally {
      await h.redisServer.resume();
    }
    await container.runtime.redis.ping().catch(() => undefined);
    while (container.runtime.redis.status !== 'ready') await sleep(50);
    assert.equal(report?.outcome, 'partial');
    assert.equal(report?.failed.length, 2, 'both records go back to the queue');
    await h.drain(container);

    assert.equal((await assertPlanAllowed(anomalies)).length, 1);
    assert.equal((await h.receiveAll(h.emulator.dlqUrls.anomalies!)).length, 0);
  });

  it('re-sends what it planned when sending failed, even when the retry arrives with newer anomalies', async () => {
    const broken = await h.container({
      REMEDIATION_POLICY: OPEN_POLICY,
      // the cluster's remediations queue does not exist
      CLUSTER_QUEUES: JSON.stringify({
        'prod-eu-1': {
          ...JSON.parse(clusterQueuesEnv(h.emulator).planner)['prod-eu-1'],
          remediationsQueueUrl: `${h.emulator.endpoint}/123456789012/no-such-queue.fifo`,
        },
      }),
    });
    const anomalies = oomIncident();
    await h.sendAnomalies(encodeAll(anomalies));
    const failed = await h.invoke(broken);
    assert.equal(failed?.failed.length, 2, 'not sent, so both records are retried');

    // Another replica runs out of memory before the retry: it arrives in the same batch as the retried records.
    const inventory = withReplicas('checkout-7d9f8b6c5-zzzzz');
    const newer = eventAnomaly('OOMKilled', {}, { inventory });
    await h.sendAnomalies(encodeAll([newer]));
    await sleep(1100);
    const fixed = await h.container({ REMEDIATION_POLICY: OPEN_POLICY });
    await h.drain(fixed);

    const sent = await assertPlanAllowed([...anomalies, newer]);
    assert.equal(sent.length, 1, 'the plan made before the failure, sent once');
    assert.equal(h.fake.requests.length, 1, 'and not planned again');
  });

  it('plans a burst of 1,000 anomalies of one Deployment, in batches of 10 across 4 containers, with one LLM call and one plan', async () => {
    h.fake.setLatency(300);
    const containers = await Promise.all(
      [1, 2, 3, 4].map(() => h.container({ REMEDIATION_POLICY: OPEN_POLICY })),
    );
    const anomalies: Anomaly[] = [];
    for (let pod = 0; pod < 100; pod++) {
      const inventory = withReplicas(`checkout-7d9f8b6c5-p${String(pod).padStart(3, '0')}`);
      for (let k = 0; k < 10; k++) {
        const detectedAt = new Date(Date.parse('2026-11-21T10:00:00Z') + k * 30_000).toISOString();
        anomalies.push(
          k % 2 === 0
            ? usageAnomaly({ inventory, anomalyId: `${inventory.pod}:usage:${k}`, detectedAt })
            : eventAnomaly(
                'OOMKilled',
                { eventId: `${inventory.pod}:oom:${k}`, observedAt: detectedAt },
                { inventory, anomalyId: `${inventory.pod}:oom:${k}`, detectedAt },
              ),
        );
      }
    }
    assert.equal(new Set(anomalies.map((a) => incidentKeyOf(a).fingerprint)).size, 1, 'one incident');
    await h.sendAnomalies(encodeAll(anomalies));

    const reports = (await Promise.all(containers.map((c) => h.drain(c)))).flat();
    assert.equal(
      reports.reduce((n, r) => n + r.event.Records.length, 0),
      1000,
      'every record delivered once, none retried',
    );
    assert.ok(reports.length >= 100, 'in batches of at most 10');
    const sent = await assertPlanAllowed(anomalies);
    assert.equal(sent.length, 1, 'one plan');
    assert.equal(h.fake.requests.length, 1, 'one LLM call');
    const results = containers.flatMap((c) => c.outcomes.flatMap((o) => o.incidents.map((i) => i.result)));
    assert.equal(results.filter((r) => r === 'planned').length, 1);
    // The others arrived while it was being planned, or after: either way they were not planned again.
    for (const result of results.filter((r) => r !== 'planned'))
      assert.ok(result === 'in-flight' || result === 'duplicate', result);
    assert.equal((await h.receiveAll(h.emulator.dlqUrls.anomalies!)).length, 0);
  });
});
