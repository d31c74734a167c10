import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { Message, SQSClient } from '@aws-sdk/client-sqs';
import { Redis } from 'ioredis';
import { RedisPlannerState } from '../functions/planner/adapters/redis-planner-state.js';
import type { PendingApproval } from '../functions/planner/core/ports.js';
import { type Alert, decodeMessageBody, type RemediationPlan } from '../functions/shared/contracts/index.js';
import { generateSigningKeyPair, parsePublicKeyring, verifyPlan } from '../functions/shared/signing.js';
import { PrivateRedisServer } from '../local/harness/support/redis-server.js';
import { localSqsClient } from '../local/standins/sqs/client.js';
import { type SqsEmulator, startSqsEmulator } from '../local/standins/sqs/emulator.js';
import { receiveAll } from '../local/standins/sqs/queue-tools.js';
import { MIB } from '../test/support/planner-fixtures.js';
import { runPlansCommand } from './plans.js';

const now = new Date('2026-11-21T10:05:00Z');
const pair = generateSigningKeyPair('k1');
const signingKey = pair.signingKey;
const keyring = parsePublicKeyring(pair.publicKeyEntry);

const approval = (approvalId: string, overrides: Partial<PendingApproval> = {}): PendingApproval => ({
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

  const cli = async (argv: string[], overrides: Record<string, string | undefined> = {}) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runPlansCommand(argv, {
      env: { ...env, ...overrides },
      out: (line) => out.push(line),
      err: (line) => err.push(line),
      sqs,
      clock: () => now,
    });
    return { code, out: out.join('\n'), err: err.join('\n') };
  };
  const receive = (queueUrl: string): Promise<Message[]> => receiveAll(sqs, queueUrl);

  before(async () => {
    redisServer = await PrivateRedisServer.start();
    redis = new Redis(redisServer.url);
    state = new RedisPlannerState(redis);
    emulator = await startSqsEmulator({ port: 0 });
    sqs = localSqsClient(emulator.endpoint);
    env = {
      REDIS_URL: redisServer.url,
      PLAN_SIGNING_KEY: signingKey,
      REMEDIATIONS_QUEUE_URL: emulator.queueUrls.remediations!,
      ALERTS_QUEUE_URL: emulator.queueUrls.alerts!,
      USER: 'alice',
    };
  });
  after(async () => {
    redis.disconnect();
    await emulator.close();
    await redisServer.close();
  });
  beforeEach(async () => {
    await redis.flushall();
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

  it('approves: signs the proposal as a human plan, sends it to the FIFO queue once, and tells the team', async () => {
    await state.saveApproval(approval('apr-2'));
    const { code, out } = await cli(['approve', 'apr-2']);
    assert.equal(code, 0, out);
    assert.match(out, /^approved apr-2: plan plan-[0-9a-f]{24} \(1 action\) sent/);

    const [message, ...more] = await receive(emulator.queueUrls.remediations!);
    assert.equal(more.length, 0);
    const plan = decodeMessageBody(message!.Body!) as RemediationPlan;
    const verified = verifyPlan(plan, keyring, now);
    assert.equal(verified.ok, true);
    assert.equal(plan.source, 'human');
    assert.deepEqual(plan.actions, approval('apr-2').proposal.actions);
    assert.match(plan.rationale, /Approved by alice\./);
    assert.equal(message!.Attributes?.MessageGroupId, 'prod-eu-1/shop/Deployment/checkout');
    assert.equal((await state.getApproval('apr-2'))!.status, 'approved');

    const [alert] = (await receive(emulator.queueUrls.alerts!)).map(
      (m) => decodeMessageBody(m.Body!) as Alert,
    );
    assert.equal(alert!.title, 'Remediation approved by alice');

    // Approving again re-sends the same plan (an earlier send may have failed): the same plan id, which is the
    // FIFO deduplication id, so SQS drops it within five minutes and the executor's ledger after that.
    const again = await cli(['approve', 'apr-2', '--by', 'bob']);
    assert.equal(again.code, 0);
    assert.match(again.out, /already approved by alice; sending its plan again/);
    for (const resent of await receive(emulator.queueUrls.remediations!)) {
      assert.equal((decodeMessageBody(resent.Body!) as RemediationPlan).planId, plan.planId);
      assert.equal(resent.Attributes?.MessageDeduplicationId, plan.planId);
    }
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

    const approveRejected = await cli(['approve', 'apr-3']);
    assert.equal(approveRejected.code, 1);
    assert.match(approveRejected.err, /approval apr-3 was already rejected by alice/);
  });

  it('says clearly what is wrong', async () => {
    await state.saveApproval(approval('apr-late', { expiresAt: '2026-11-21T10:01:00.000Z' }));
    const cases: Array<[string[], Record<string, string | undefined>, number, RegExp]> = [
      [['approve', 'apr-none'], {}, 1, /no approval apr-none \(see kubepulse plans list\)/],
      [['approve', 'apr-late'], {}, 1, /approval apr-late expired at 2026-11-21T10:01:00.000Z/],
      [['approve', 'apr-late'], { PLAN_SIGNING_KEY: undefined }, 1, /set PLAN_SIGNING_KEY/],
      [['approve', 'apr-late'], { REMEDIATIONS_QUEUE_URL: undefined }, 1, /set REMEDIATIONS_QUEUE_URL/],
      [['reject', 'apr-late', '--reason', 'x'.repeat(1001)], {}, 2, /--reason is at most 1000 characters/],
      [['plans', 'list'], { REDIS_URL: undefined }, 1, /REDIS_URL: /],
      [['plans', 'list'], { REDIS_URL: 'redis://127.0.0.1:1' }, 1, /cannot reach Redis at 127.0.0.1:1: /],
      [['approve'], {}, 2, /approve takes one approval id/],
      [['plans'], {}, 2, /plans takes one subcommand: list/],
    ];
    for (const [argv, overrides, expectedCode, message] of cases) {
      const { code, err } = await cli(argv, overrides);
      assert.equal(code, expectedCode, `${argv.join(' ')}: ${err}`);
      assert.match(err, message);
    }
    assert.equal((await state.getApproval('apr-late'))!.status, 'pending', 'nothing was decided');
  });
});
