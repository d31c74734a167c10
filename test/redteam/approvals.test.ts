/**
 * Red team: approvals (issue 13, point 5). Before, `kubepulse approve` signed whatever Redis held with a key on the
 * approver's laptop, as whoever `--by` named. Now the planner seals each stored approval, and only the approver
 * function (an IAM-authenticated Function URL or a Slack request Slack signed) decides: it refuses a record that
 * was edited, decided, expired, superseded or not what was shown, and re-evaluates it with the shared policy.
 *
 * One genuine approval is made by the real planner (real Redis, the SQS emulator, the fake Gemini); before each
 * case Redis is put back as the planner left it, then the case attacks it. One test per attack, each asserting
 * the refusal and its reason, and that no plan reached the remediations queue.
 */
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { readApproverConfig } from '../../functions/approver/config.js';
import {
  type HttpEvent,
  type HttpResponse,
  handleApproverEvent,
  SLACK_ROUTE,
} from '../../functions/approver/handle-http-event.js';
import { type ApproverRuntime, createApproverRuntime } from '../../functions/approver/runtime.js';
import { RedisPlannerState } from '../../functions/planner/adapters/redis-planner-state.js';
import { type PendingApproval, sealApproval, shownDigestOf } from '../../functions/shared/approvals/index.js';
import { verifyPlan } from '../../functions/shared/signing.js';
import { eventAnomaly, podInventory, usageAnomaly } from '../support/planner-fixtures.js';
import { encodeAll, type PlannerHarness, quiet, startPlannerHarness } from '../support/planner-harness.js';

const PREFIX = 'kubepulse:planner:';
const APPROVALS = `${PREFIX}approvals`;
const ALICE = 'arn:aws:sts::123456789012:assumed-role/oncall/alice';
const SLACK_SECRET = 'slack-signing-secret-for-tests-0123456789';
const SLACK_APPROVER = 'U0ONCALL01';

describe('red team: approvals', () => {
  let h: PlannerHarness;
  let state: RedisPlannerState;
  let approver: ApproverRuntime;
  const runtimes: ApproverRuntime[] = [];
  /** The approval as the planner stored it, and the incident record beside it, byte for byte. */
  let original: PendingApproval;
  let storedApproval: string;
  let incidentKey: string;
  let storedIncident: string;

  const startApprover = async (overrides: Record<string, string> = {}, clock?: () => Date) => {
    const config = readApproverConfig({
      ...h.env,
      SLACK_SIGNING_SECRET: SLACK_SECRET,
      SLACK_APPROVER_IDS: SLACK_APPROVER,
      ...overrides,
    });
    const runtime = await createApproverRuntime(config, quiet, { sqs: h.sqs, ...(clock ? { clock } : {}) });
    runtimes.push(runtime);
    return runtime;
  };

  const call = async (event: HttpEvent, runtime = approver) => {
    const response: HttpResponse = await handleApproverEvent(event, runtime);
    return { statusCode: response.statusCode, ...JSON.parse(response.body) };
  };
  const iam = (body: unknown, arn: string | null = ALICE): HttpEvent => ({
    routeKey: '$default',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    requestContext: { http: { method: 'POST' }, ...(arn ? { authorizer: { iam: { userArn: arn } } } : {}) },
  });
  const approve = (approval: PendingApproval, extra: Record<string, unknown> = {}) => ({
    approvalId: approval.approvalId,
    decision: 'approve',
    digest: shownDigestOf(approval),
    ...extra,
  });

  const slackBody = (userId: string, approvalId: string, digest: string) =>
    `payload=${encodeURIComponent(
      JSON.stringify({
        type: 'block_actions',
        user: { id: userId },
        actions: [{ action_id: 'kubepulse-approve', value: JSON.stringify({ approvalId, digest }) }],
      }),
    )}`;
  const slack = (
    body: string,
    { secret = SLACK_SECRET, ageSeconds = 0, signedBody = body, omit = false } = {},
  ): HttpEvent => {
    const timestamp = String(Math.floor(Date.now() / 1000) - ageSeconds);
    const signature = `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${signedBody}`).digest('hex')}`;
    return {
      routeKey: SLACK_ROUTE,
      headers: omit
        ? { 'content-type': 'application/x-www-form-urlencoded' }
        : { 'x-slack-signature': signature, 'x-slack-request-timestamp': timestamp },
      body,
      requestContext: { http: { method: 'POST' } },
    };
  };

  /** Writes an edited approval straight into Redis, as an attacker with Redis access would. */
  const tamper = async (edit: (approval: PendingApproval) => unknown, id = original.approvalId) => {
    const edited = edit(structuredClone(original));
    await h.redis.hset(APPROVALS, id, JSON.stringify(edited));
    return edited as PendingApproval;
  };
  const plansSent = async () => (await h.plansSent()).map((sent) => sent.plan);
  const assertRefused = async (
    result: { status: string; reason?: string; detail?: string },
    reason: string,
    detail?: RegExp,
  ) => {
    assert.equal(result.status, 'refused', JSON.stringify(result));
    assert.equal(result.reason, reason, result.detail);
    if (detail) assert.match(result.detail ?? '', detail);
    assert.deepEqual(await plansSent(), [], 'no plan reached the remediations queue');
  };

  before(async () => {
    h = await startPlannerHarness();
    state = new RedisPlannerState(h.redis);
    // A real approval: an OOM of shop/checkout under the default policy (medium risk waits for a human).
    const planner = await h.container();
    const inventory = podInventory('checkout-7d9f8b6c5-x2x4z', { ownerReplicas: { desired: 3, ready: 3 } });
    await h.sendAnomalies(
      encodeAll([usageAnomaly({ inventory }), eventAnomaly('OOMKilled', {}, { inventory })]),
    );
    await h.drain(planner);
    const approvals = await state.listApprovals();
    assert.equal(approvals.length, 1, 'the planner stored one approval');
    original = approvals[0]!;
    assert.ok(original.seal, 'sealed by the planner');
    storedApproval = (await h.redis.hget(APPROVALS, original.approvalId))!;
    incidentKey = `${PREFIX}incident:${original.incidentId}`;
    storedIncident = (await h.redis.get(incidentKey))!;
    assert.ok(storedIncident, 'the planner recorded the incident');
    approver = await startApprover();

    // The control: the genuine approval, approved as shown, becomes one signed human plan.
    await h.receiveAll(h.emulator.queueUrls.remediations!);
    const result = await call(iam(approve(original)));
    assert.equal(result.status, 'approved', JSON.stringify(result));
    const [plan, ...more] = await plansSent();
    assert.equal(more.length, 0);
    assert.equal(plan!.source, 'human');
    assert.deepEqual(plan!.actions, original.proposal.actions);
    assert.equal(verifyPlan(plan, h.keyring, new Date()).ok, true);
  });
  after(async () => {
    for (const runtime of runtimes) await runtime.close();
    await h.close();
  });
  beforeEach(async () => {
    await h.redis.del(APPROVALS);
    await h.redis.hset(APPROVALS, original.approvalId, storedApproval);
    await h.redis.set(incidentKey, storedIncident);
    await h.receiveAll(h.emulator.queueUrls.remediations!);
    await h.receiveAll(h.emulator.queueUrls.alerts!);
  });

  // --- Edited in Redis: refused before anything is signed ---

  it('edited actions (the memory limit raised to 8 GiB) are refused as tampered', async () => {
    const edited = await tamper((a) => {
      const action = a.proposal.actions[0]!;
      if (action.action === 'set-resources') action.limits = { memoryBytes: 8 * 1024 ** 3 };
      return a;
    });
    await assertRefused(
      await call(iam(approve(edited))),
      'approval-tampered',
      /changed after the planner sealed/,
    );
  });

  it('an edited scope and namespace (payments/ledger) is refused as tampered', async () => {
    const edited = await tamper((a) => {
      a.scope = { ...a.scope!, namespace: 'payments', workload: { kind: 'Deployment', name: 'ledger' } };
      a.proposal.actions = [
        { action: 'rollout-restart', namespace: 'payments', kind: 'Deployment', name: 'ledger' },
      ];
      return a;
    });
    await assertRefused(await call(iam(approve(edited))), 'approval-tampered');
  });

  it('an edited confidence (0.8 → 0.1) is refused as tampered', async () => {
    const edited = await tamper((a) => {
      a.proposal.confidence = 0.1;
      return a;
    });
    await assertRefused(await call(iam(approve(edited))), 'approval-tampered');
  });

  it('an added action (3 cordons and a restart in another namespace) is refused as tampered', async () => {
    const edited = await tamper((a) => {
      a.proposal.actions.push(
        { action: 'cordon', node: 'node-a' },
        { action: 'cordon', node: 'node-b' },
        { action: 'cordon', node: 'node-c' },
      );
      a.proposal.actions.splice(1, 1, {
        action: 'rollout-restart',
        namespace: 'payments',
        kind: 'Deployment',
        name: 'ledger',
      });
      return a;
    });
    await assertRefused(await call(iam(approve(edited))), 'approval-tampered');
  });

  it('an edited clusterId (another cluster) is refused as tampered', async () => {
    const edited = await tamper((a) => {
      a.clusterId = 'prod-us-2';
      a.scope = { ...a.scope!, clusterId: 'prod-us-2' };
      return a;
    });
    await assertRefused(await call(iam(approve(edited))), 'approval-tampered');
  });

  it('an edited dry run (true → false) or expiry is refused as tampered', async () => {
    const edited = await tamper((a) => {
      a.dryRun = !a.dryRun;
      a.expiresAt = new Date(Date.parse(a.expiresAt) + 86_400_000).toISOString();
      return a;
    });
    await assertRefused(await call(iam(approve(edited))), 'approval-tampered');
  });

  it('edited facts (a bigger current limit, so a bigger raise passes the bounds) are refused as tampered', async () => {
    const edited = await tamper((a) => {
      for (const container of a.facts?.workload?.containers ?? [])
        container.limits = { memoryBytes: 6 * 1024 ** 3 };
      return a;
    });
    await assertRefused(await call(iam(approve(edited))), 'approval-tampered');
  });

  it('an approval with its seal stripped (as stored before seals) is refused as tampered', async () => {
    const edited = await tamper((a) => {
      delete a.seal;
      return a;
    });
    await assertRefused(await call(iam(approve(edited))), 'approval-tampered', /no seal/);
  });

  it('an approval resealed with an attacker’s own Ed25519 key under the planner’s key id is refused', async () => {
    const forger = { keyId: original.seal!.keyId, key: randomBytes(32) };
    const edited = await tamper((a) => {
      a.proposal.confidence = 0.1;
      return sealApproval(a, forger);
    });
    await assertRefused(await call(iam(approve(edited))), 'approval-tampered');
  });

  it('a record that is no approval at all is refused as tampered', async () => {
    await h.redis.hset(APPROVALS, original.approvalId, '{"approvalId":"x","status":"pending"}');
    await assertRefused(await call(iam(approve(original))), 'approval-tampered');
  });

  it('a replayed approval of another incident, filed under this approval’s id, is refused', async () => {
    // The attacker copies a genuine, sealed approval (here: the original) over the id of another incident's.
    await h.redis.hset(APPROVALS, 'apr-other-incident', storedApproval);
    const result = await call(iam({ ...approve(original), approvalId: 'apr-other-incident' }));
    await assertRefused(result, 'approval-tampered', /is approval/);
  });

  // --- Lifecycle: once, in time, still current ---

  it('an expired approval is refused', async () => {
    const later = await startApprover({}, () => new Date(Date.parse(original.expiresAt) + 1000));
    await assertRefused(await call(iam(approve(original)), later), 'expired');
  });

  it('an approval decided twice is refused the second time (one plan only)', async () => {
    assert.equal((await call(iam(approve(original)))).status, 'approved');
    await h.receiveAll(h.emulator.queueUrls.remediations!);
    await assertRefused(await call(iam(approve(original))), 'already-decided', /already approved/);
  });

  it('an approval rejected first cannot then be approved', async () => {
    const rejected = await call(iam({ approvalId: original.approvalId, decision: 'reject' }));
    assert.equal(rejected.status, 'rejected');
    await assertRefused(await call(iam(approve(original))), 'already-decided', /already rejected/);
  });

  it('an approval whose incident was planned again since is refused as superseded', async () => {
    const record = JSON.parse(storedIncident);
    record.outputs = record.outputs.filter((o: { kind: string }) => o.kind !== 'approval-request');
    await h.redis.set(incidentKey, JSON.stringify(record));
    await assertRefused(await call(iam(approve(original))), 'superseded', /planned again/);
  });

  it('an approval whose incident is being planned again right now is refused as superseded', async () => {
    await h.redis.set(incidentKey, 'in-flight');
    await assertRefused(await call(iam(approve(original))), 'superseded', /being planned again/);
  });

  // --- What was shown is what is signed ---

  it('an approval whose digest differs from what was shown is refused', async () => {
    const shown = structuredClone(original);
    shown.proposal.confidence = 0.99; // what a doctored `plans show` displayed
    await assertRefused(
      await call(iam({ ...approve(original), digest: shownDigestOf(shown) })),
      'digest-mismatch',
    );
  });

  it('an approval sent without the digest of what was shown is refused', async () => {
    await assertRefused(
      await call(iam({ approvalId: original.approvalId, decision: 'approve' })),
      'bad-request',
      /digest/,
    );
  });

  // --- Who approves ---

  it('a Function URL request without an IAM caller is refused as unauthenticated', async () => {
    const result = await call(iam(approve(original), null));
    assert.equal(result.statusCode, 401);
    await assertRefused(result, 'unauthenticated');
  });

  it('a Function URL request naming its approver in the body, not the IAM context, is refused', async () => {
    const event = iam({ ...approve(original), decidedBy: ALICE, userArn: ALICE }, null);
    event.headers = { ...event.headers, 'x-amz-caller-arn': ALICE };
    await assertRefused(await call(event), 'unauthenticated');
  });

  it('`decidedBy` in the body is ignored: the decision is recorded as the IAM caller', async () => {
    const result = await call(iam(approve(original, { decidedBy: 'mallory', by: 'mallory' })));
    assert.equal(result.status, 'approved');
    const decided = await state.getApproval(original.approvalId);
    assert.equal(decided!.decidedBy, `iam:${ALICE}`);
    const [plan] = await plansSent();
    assert.doesNotMatch(plan!.rationale, /mallory/);
    assert.match(plan!.rationale, /oncall\/alice/);
  });

  it('a Slack request with a forged signature (wrong secret) is refused', async () => {
    const body = slackBody(SLACK_APPROVER, original.approvalId, shownDigestOf(original));
    await assertRefused(
      await call(slack(body, { secret: 'not-the-slack-signing-secret' })),
      'unauthenticated',
    );
  });

  it('a Slack request signed more than 5 minutes ago (a replay) is refused', async () => {
    const body = slackBody(SLACK_APPROVER, original.approvalId, shownDigestOf(original));
    await assertRefused(await call(slack(body, { ageSeconds: 6 * 60 })), 'unauthenticated', /at most 300 s/);
  });

  it('a Slack request without a signature is refused', async () => {
    const body = slackBody(SLACK_APPROVER, original.approvalId, shownDigestOf(original));
    await assertRefused(await call(slack(body, { omit: true })), 'unauthenticated', /no Slack signature/);
  });

  it('a Slack request whose body was changed after Slack signed it is refused', async () => {
    const signed = slackBody('U0SOMEONE1', original.approvalId, shownDigestOf(original));
    const body = slackBody(SLACK_APPROVER, original.approvalId, shownDigestOf(original));
    await assertRefused(await call(slack(body, { signedBody: signed })), 'unauthenticated', /does not match/);
  });

  it('a validly signed Slack request from a user not on the allowlist is refused', async () => {
    const body = slackBody('U0INTRUDER', original.approvalId, shownDigestOf(original));
    const result = await call(slack(body));
    assert.equal(result.statusCode, 403);
    await assertRefused(result, 'not-allowed');
  });

  it('an edited approval approved from Slack by an allowed user is refused as tampered', async () => {
    const edited = await tamper((a) => {
      a.proposal.confidence = 0.1;
      return a;
    });
    const body = slackBody(SLACK_APPROVER, edited.approvalId, shownDigestOf(edited));
    await assertRefused(await call(slack(body)), 'approval-tampered');
  });

  // --- Re-evaluated with the shared policy at approval time ---

  it('a proposal in a namespace the policy now denies is refused with the policy’s reason', async () => {
    const strict = await startApprover({
      REMEDIATION_POLICY: JSON.stringify({ namespaces: { deny: ['shop'] } }),
    });
    await assertRefused(
      await call(iam(approve(original)), strict),
      'policy-refused',
      /namespace shop is denied by policy/,
    );
  });

  it('a proposal whose bounds the policy now exceeds is refused with the policy’s reason', async () => {
    const policy = { bounds: { 'set-resources': { maxIncreaseFactor: 1.2 } } };
    const strict = await startApprover({ REMEDIATION_POLICY: JSON.stringify(policy) });
    await assertRefused(await call(iam(approve(original)), strict), 'policy-refused', /exceeds ×1\.2/);
  });

  it('a proposal with more actions than the policy now allows is refused', async () => {
    const strict = await startApprover({ REMEDIATION_POLICY: JSON.stringify({ maxActionsPerPlan: 1 }) });
    await assertRefused(
      await call(iam(approve(original)), strict),
      'policy-refused',
      /2 actions is more than the 1 allowed/,
    );
  });

  it('a proposal using an action the policy no longer enables is refused', async () => {
    const strict = await startApprover({
      REMEDIATION_POLICY: JSON.stringify({ enabledActions: ['scale', 'rollout-restart'] }),
    });
    await assertRefused(
      await call(iam(approve(original)), strict),
      'policy-refused',
      /set-resources is not enabled by policy/,
    );
  });

  it('a sealed approval for a cluster this approver does not sign for is refused, and stays undecided', async () => {
    const elsewhere = await startApprover({
      CLUSTER_QUEUES: JSON.stringify({
        'other-cluster': { remediationsQueueUrl: h.emulator.queueUrls.remediations! },
      }),
    });
    await assertRefused(
      await call(iam(approve(original)), elsewhere),
      'unknown-cluster',
      new RegExp(`is for cluster ${original.clusterId}, which is not served here`),
    );
    const [after] = await state.listApprovals();
    assert.equal(after?.status, 'pending', 'not marked decided');
  });
});
