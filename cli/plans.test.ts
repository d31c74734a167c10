import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { Message, SQSClient } from '@aws-sdk/client-sqs';
import { Redis } from 'ioredis';
import { readApproverConfig } from '../functions/approver/config.js';
import { handleApproverEvent } from '../functions/approver/handle-http-event.js';
import { type ApproverRuntime, createApproverRuntime } from '../functions/approver/runtime.js';
import { RedisPlannerState } from '../functions/planner/adapters/redis-planner-state.js';
import type { PendingApproval } from '../functions/planner/core/ports.js';
import { DEFAULT_POLICY, evaluatePlan, type TargetFacts } from '../functions/shared/actions/index.js';
import { sealApproval, shownDigestOf } from '../functions/shared/approvals/index.js';
import { type Alert, decodeMessageBody, type RemediationPlan } from '../functions/shared/contracts/index.js';
import {
  generateSigningKeyPair,
  parsePublicKeyring,
  parseSigningKey,
  verifyPlan,
} from '../functions/shared/signing.js';
import { PrivateRedisServer } from '../local/harness/support/redis-server.js';
import { localSqsClient } from '../local/standins/sqs/client.js';
import { clusterQueuesEnv, type SqsEmulator, startSqsEmulator } from '../local/standins/sqs/emulator.js';
import { receiveAll } from '../local/standins/sqs/queue-tools.js';
import { quietLogger } from '../test/support/loggers.js';
import { MIB } from '../test/support/planner-fixtures.js';
import type { ApproverClient } from './approver-client.js';
import { runPlansCommand } from './plans.js';

const now = new Date('2026-11-21T10:05:00Z');
const pair = generateSigningKeyPair('k1');
const signingKey = pair.signingKey;
const keyring = parsePublicKeyring(pair.publicKeyEntry);

const ALICE = 'arn:aws:iam::123456789012:user/alice';

/** What the planner saw of shop/checkout: one container whose 512 MiB limit it was OOM-killed at. */
const facts: TargetFacts = {
  incident: { namespace: 'shop', workload: { kind: 'Deployment', name: 'checkout' }, nodes: [] },
  workload: {
    kind: 'Deployment',
    name: 'checkout',
    namespace: 'shop',
    replicas: 3,
    readyReplicas: 3,
    labels: {},
    annotations: {},
    containers: [
      {
        name: 'app',
        limits: { memoryBytes: 512 * MIB },
        requests: {},
        peakUsage: { memoryBytes: 512 * MIB },
      },
    ],
  },
  pods: [],
};

/** An approval as the planner stores it: actions with their expected state from the facts, sealed. */
const approval = (approvalId: string, overrides: Partial<PendingApproval> = {}): PendingApproval => {
  const draft = unsealed(approvalId, overrides);
  const evaluation = evaluatePlan(draft.proposal, facts, DEFAULT_POLICY);
  const actions = evaluation.actions.map((e, i) => e.action ?? draft.proposal.actions[i]!);
  return sealApproval(
    { ...draft, proposal: { ...draft.proposal, actions }, facts: { ...facts } as PendingApproval['facts'] },
    parseSigningKey(signingKey),
  );
};

const unsealed = (approvalId: string, overrides: Partial<PendingApproval> = {}): PendingApproval => ({
  approvalId,
  clusterId: 'prod-eu-1',
  incidentId: `fp-${approvalId}`,
  status: 'pending',
  createdAt: '2026-11-21T10:00:00.000Z',
  expiresAt: '2026-11-21T14:00:00.000Z',
  source: 'llm',
  proposal: {
    decision: 'act',
    diagnosis: 'Container app of Deployment/checkout in shop was OOMKilled.',
    rationale: 'Raise its memory limit.',
    confidence: 0.8,
    actions: [
      {
        action: 'set-resources',
        namespace: 'shop',
        kind: 'Deployment',
        name: 'checkout',
        container: 'app',
        limits: { memoryBytes: 768 * MIB },
      },
    ],
  },
  reasons: ['action 1: set-resources is medium risk: needs-approval by policy'],
  scope: {
    clusterId: 'prod-eu-1',
    namespace: 'shop',
    workload: { kind: 'Deployment', name: 'checkout' },
    nodes: [],
  },
  dryRun: false,
  target: {
    namespace: 'shop',
    pod: 'checkout-7d9f8b6c5-x2x4z',
    owner: { kind: 'Deployment', name: 'checkout' },
  },
  ...overrides,
});

describe('kubepulse plans list / approve / reject, on a real Redis and the SQS emulator', () => {
  let redisServer: PrivateRedisServer;
  let redis: Redis;
  let state: RedisPlannerState;
  let emulator: SqsEmulator;
  let sqs: SQSClient;
  let env: Record<string, string>;
  let approverRuntime: ApproverRuntime;
  /** The approver function in-process, called as Lambda would after IAM authenticated alice. */
  const approver: ApproverClient = async (request) => {
    const response = await handleApproverEvent(
      {
        routeKey: '$default',
        body: JSON.stringify(request),
        requestContext: { http: { method: 'POST' }, authorizer: { iam: { userArn: ALICE } } },
      },
      approverRuntime,
    );
    return { ...JSON.parse(response.body), httpStatus: response.statusCode };
  };

  const cli = async (
    argv: string[],
    overrides: Record<string, string | undefined> = {},
    withApprover: ApproverClient | null = approver,
  ) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runPlansCommand(argv, {
      env: { ...env, ...overrides },
      out: (line) => out.push(line),
      err: (line) => err.push(line),
      ...(withApprover ? { approver: withApprover } : {}),
      clock: () => now,
    });
    return { code, out: out.join('\n'), err: err.join('\n') };
  };
  const receive = (queueUrl: string): Promise<Message[]> => receiveAll(sqs, queueUrl);

  before(async () => {
    redisServer = await PrivateRedisServer.start();
    redis = new Redis(redisServer.url);
    state = new RedisPlannerState(redis);
    emulator = await startSqsEmulator({ port: 0, clusters: ['prod-eu-1'] });
    sqs = localSqsClient(emulator.endpoint);
    // The CLI's environment holds no signing key; the approver's does.
    env = { REDIS_URL: redisServer.url, USER: 'alice' };
    approverRuntime = await createApproverRuntime(
      readApproverConfig({
        REDIS_URL: redisServer.url,
        PLAN_SIGNING_KEY: signingKey,
        CLUSTER_QUEUES: clusterQueuesEnv(emulator).planner,
        ALERTS_QUEUE_URL: emulator.queueUrls.alerts!,
        // Approved plans really write, as a team that turned dry run off would have it.
        REMEDIATION_POLICY: JSON.stringify({ dryRun: false }),
      }),
      quietLogger,
      { sqs, clock: () => now },
    );
  });
  after(async () => {
    await approverRuntime.close();
    redis.disconnect();
    await emulator.close();
    await redisServer.close();
  });
  beforeEach(async () => {
    await redis.flushall();
    await receive(emulator.queueUrls.remediations!);
    await receive(emulator.queueUrls.alerts!);
  });

  it('lists pending approvals with their cluster, incident, actions, reasons and expiry', async () => {
    await state.saveApproval(approval('apr-1'));
    await state.saveApproval(approval('apr-old', { expiresAt: '2026-11-21T10:01:00.000Z' }));
    const { code, out } = await cli(['plans', 'list']);
    assert.equal(code, 0);
    assert.match(out, /^apr-1 {2}pending {2}cluster prod-eu-1 {2}incident fp-apr-1$/m);
    assert.match(
      out,
      /proposed: {2}set app of shop\/Deployment\/checkout limits \{"memoryBytes":805306368\} \(llm\)/,
    );
    assert.match(out, /why: {7}action 1: set-resources is medium risk/);
    assert.match(out, /expires: {3}2026-11-21T14:00:00.000Z \(in 3h55m\)/);
    assert.doesNotMatch(out, /apr-old/, 'expired ones only with --all');
    assert.match((await cli(['plans', 'list', '--all'])).out, /apr-old {2}expired/);
  });

  it('shows the exact actions, scope, expiry and digest, and approve without --yes decides nothing', async () => {
    const shown = approval('apr-show');
    await state.saveApproval(shown);
    const { code, out } = await cli(['plans', 'show', 'apr-show'], {
      PLAN_PUBLIC_KEYS: pair.publicKeyEntry,
    });
    assert.equal(code, 0);
    assert.match(out, /scope: {6}prod-eu-1\/shop Deployment\/checkout/);
    assert.match(out, /action 1: {3}set app of shop\/Deployment\/checkout limits/);
    assert.match(out, /expires: {4}2026-11-21T14:00:00.000Z/);
    assert.match(out, new RegExp(`digest: {5}${shownDigestOf(shown)}`));
    assert.match(out, /seal: {7}valid \(planner key k1\)/);

    const asked = await cli(['approve', 'apr-show']);
    assert.equal(asked.code, 0);
    assert.match(asked.out, /action 1: {3}set app/);
    assert.match(asked.out, new RegExp(`nothing approved; .*--digest ${shownDigestOf(shown)}`));
    assert.equal((await state.getApproval('apr-show'))!.status, 'pending');
    assert.deepEqual(await receive(emulator.queueUrls.remediations!), []);
  });

  it('approves through the approver: a human plan signed by it, sent to the FIFO queue once, decided by the IAM caller', async () => {
    await state.saveApproval(approval('apr-2'));
    const { code, out, err } = await cli(['approve', 'apr-2', '--yes']);
    assert.equal(code, 0, err);
    assert.match(out, /^approved apr-2: plan plan-[0-9a-f]{24} \(1 action\) sent/m);

    const [message, ...more] = await receive(emulator.queueUrls.remediations!);
    assert.equal(more.length, 0);
    const plan = decodeMessageBody(message!.Body!) as RemediationPlan;
    const verified = verifyPlan(plan, keyring, now);
    assert.equal(verified.ok, true);
    assert.equal(plan.source, 'human');
    assert.deepEqual(plan.actions, approval('apr-2').proposal.actions);
    assert.match(plan.rationale, /Approved by iam:arn:aws:iam::123456789012:user\/alice\./);
    assert.equal(message!.Attributes?.MessageGroupId, 'prod-eu-1/shop/Deployment/checkout');
    assert.equal((await state.getApproval('apr-2'))!.status, 'approved');

    const [alert] = (await receive(emulator.queueUrls.alerts!)).map(
      (m) => decodeMessageBody(m.Body!) as Alert,
    );
    assert.equal(alert!.title, `Remediation approved by iam:${ALICE}`);

    // Deciding twice is refused (it used to re-send the plan): one decision, one plan.
    const again = await cli(['approve', 'apr-2', '--yes']);
    assert.equal(again.code, 1);
    assert.match(again.err, /refused \(already-decided\): approval apr-2 was already approved/);
    assert.deepEqual(await receive(emulator.queueUrls.remediations!), []);
  });

  it('approves with the digest plans show printed, and refuses once the approval is no longer what was shown', async () => {
    const shown = approval('apr-digest');
    await state.saveApproval(shown);
    const stale = await cli(['approve', 'apr-digest', '--digest', 'a'.repeat(64)]);
    assert.equal(stale.code, 1);
    assert.match(stale.err, /refused \(digest-mismatch\)/);
    const { code } = await cli(['approve', 'apr-digest', '--digest', shownDigestOf(shown)]);
    assert.equal(code, 0);
  });

  it('rejects with a reason the team hears about, and nothing is sent for execution', async () => {
    await state.saveApproval(approval('apr-3'));
    const { code, out } = await cli(['reject', 'apr-3', '--reason', 'checkout is being migrated']);
    assert.equal(code, 0);
    assert.match(out, /rejected apr-3/);
    assert.equal((await state.getApproval('apr-3'))!.status, 'rejected');
    assert.deepEqual(await receive(emulator.queueUrls.remediations!), []);
    const [alert] = (await receive(emulator.queueUrls.alerts!)).map(
      (m) => decodeMessageBody(m.Body!) as Alert,
    );
    assert.match(alert!.summary, /Reason: checkout is being migrated/);
    assert.equal((await state.getApproval('apr-3'))!.decisionReason, 'checkout is being migrated');
    const listed = await cli(['plans', 'list', '--all']);
    assert.match(listed.out, /apr-3 {2}rejected[\s\S]*reason: {4}checkout is being migrated/);

    const approveRejected = await cli(['approve', 'apr-3', '--yes']);
    assert.equal(approveRejected.code, 1);
    assert.match(
      approveRejected.err,
      /approval apr-3 was already rejected by iam:arn:aws:iam::123456789012:user\/alice/,
    );
  });

  it('says clearly what is wrong', async () => {
    await state.saveApproval(approval('apr-late', { expiresAt: '2026-11-21T10:01:00.000Z' }));
    const cases: Array<[string[], Record<string, string | undefined>, number, RegExp, boolean?]> = [
      [['approve', 'apr-none'], {}, 1, /no approval apr-none \(see kubepulse plans list\)/],
      [
        ['approve', 'apr-late', '--yes'],
        {},
        1,
        /refused \(expired\): approval apr-late expired at 2026-11-21T10:01:00.000Z/,
      ],
      [['reject', 'apr-late'], {}, 1, /set APPROVER_URL/, false],
      [
        ['reject', 'apr-late'],
        { APPROVER_URL: 'https://x.lambda-url.us-east-1.on.aws/' },
        1,
        /set AWS_REGION/,
        false,
      ],
      [['approve', 'apr-late', '--by', 'bob'], {}, 2, /--by is gone/],
      [['approve', 'apr-late', '--digest', 'nope'], {}, 2, /--digest is the 64 hex digits/],
      [['reject', 'apr-late', '--reason', 'x'.repeat(1001)], {}, 2, /--reason is at most 1000 characters/],
      [['plans', 'list'], { REDIS_URL: undefined }, 1, /REDIS_URL: /],
      [['plans', 'list'], { REDIS_URL: 'redis://127.0.0.1:1' }, 1, /cannot reach Redis at 127.0.0.1:1: /],
      [
        ['plans', 'list'],
        { PLAN_SIGNING_KEY: signingKey },
        0,
        /PLAN_SIGNING_KEY is not used by the CLI any more/,
      ],
      [['approve'], {}, 2, /approve takes one approval id/],
      [['plans'], {}, 2, /plans takes one subcommand: list, or show <approval-id>/],
    ];
    for (const [argv, overrides, expectedCode, message, withApprover = true] of cases) {
      const { code, err } = await cli(argv, overrides, withApprover ? approver : null);
      assert.equal(code, expectedCode, `${argv.join(' ')}: ${err}`);
      assert.match(err, message);
    }
    assert.equal((await state.getApproval('apr-late'))!.status, 'pending', 'nothing was decided');
  });
});
