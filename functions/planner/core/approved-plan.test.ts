import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { keyringOf, verifyPlan } from '../../shared/signing.js';
import { ApprovalNotUsableError, planFromApproval } from './approved-plan.js';
import type { PendingApproval } from './ports.js';

const signer = { keyId: 'k1', key: randomBytes(32) };
const now = new Date('2026-11-21T10:30:00Z');

const approval = (overrides: Partial<PendingApproval> = {}): PendingApproval => ({
  approvalId: 'apr-1',
  clusterId: 'prod-eu-1',
  incidentId: 'fp-1',
  status: 'approved',
  createdAt: '2026-11-21T10:00:00.000Z',
  expiresAt: '2026-11-21T11:00:00.000Z',
  source: 'runbook',
  proposal: {
    decision: 'act',
    diagnosis: 'Node node-a is under memory pressure.',
    rationale: 'Cordon it.',
    confidence: 0.6,
    actions: [{ action: 'cordon', node: 'node-a' }],
  },
  reasons: ['cordon is high risk: needs-approval by policy'],
  dryRun: false,
  scope: { clusterId: 'prod-eu-1', namespace: 'shop', workload: null, nodes: ['node-a'] },
  decidedBy: 'alice',
  decidedAt: '2026-11-21T10:29:00.000Z',
  ...overrides,
});

describe('plans from approvals', () => {
  it('signs an approved proposal as a human plan with a stable id', () => {
    const plan = planFromApproval(approval(), { signer, now, planTtlSeconds: 600 });
    assert.equal(plan.source, 'human');
    assert.deepEqual(plan.actions, [{ action: 'cordon', node: 'node-a' }]);
    assert.deepEqual(plan.scope, approval().scope, 'the scope the planner saw, signed');
    assert.match(plan.rationale, /Approved by alice/);
    assert.equal(plan.expiresAt, '2026-11-21T10:40:00.000Z');
    assert.equal(verifyPlan(plan, keyringOf(signer), now).ok, true);
    const again = planFromApproval(approval(), {
      signer,
      now: new Date('2026-11-21T10:31:00Z'),
      planTtlSeconds: 600,
    });
    assert.equal(again.planId, plan.planId);
  });

  it('refuses pending or rejected approvals and proposals without actions', () => {
    for (const status of ['pending', 'rejected'] as const) {
      assert.throws(
        () => planFromApproval(approval({ status }), { signer, now, planTtlSeconds: 600 }),
        ApprovalNotUsableError,
      );
    }
    const empty = approval();
    empty.proposal = { ...empty.proposal, decision: 'escalate', actions: [] };
    assert.throws(
      () => planFromApproval(empty, { signer, now, planTtlSeconds: 600 }),
      ApprovalNotUsableError,
    );
  });

  it('refuses an approval without a scope: the executor could only guess what the plan may touch', () => {
    const { scope: _scope, ...unscoped } = approval();
    assert.throws(
      () => planFromApproval(unscoped, { signer, now, planTtlSeconds: 600 }),
      (error: Error) => error instanceof ApprovalNotUsableError && /carries no scope/.test(error.message),
    );
  });
});
