import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { keyringOf } from '../signing.js';
import type { PendingApproval } from './record.js';
import { checkSeal, sealApproval } from './seal.js';
import { shownDigestOf, shownLinesOf } from './shown.js';

const planner = { keyId: 'planner-1', key: randomBytes(32) };
const keyring = keyringOf(planner);

const approval: PendingApproval = {
  approvalId: 'apr-1',
  clusterId: 'prod-eu-1',
  incidentId: 'fp-1',
  status: 'pending',
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
  facts: { incident: { namespace: 'shop', workload: null, nodes: ['node-a'] } },
};

describe('approval seals', () => {
  it('verifies what the planner sealed, decided or not, and survives a JSON round trip through Redis', () => {
    const sealed = sealApproval(approval, planner);
    assert.deepEqual(checkSeal(sealed, keyring), { ok: true });
    const decided = {
      ...sealed,
      status: 'approved' as const,
      decidedBy: 'iam:arn',
      decidedAt: approval.createdAt,
    };
    assert.deepEqual(checkSeal(JSON.parse(JSON.stringify(decided)), keyring), { ok: true });
  });

  const edits: Array<[string, (a: PendingApproval) => void]> = [
    ['an action', (a) => a.proposal.actions.push({ action: 'cordon', node: 'node-b' })],
    ['the confidence', (a) => (a.proposal.confidence = 0.99)],
    ['the scope', (a) => (a.scope = { ...a.scope!, namespace: 'payments' })],
    ['the cluster', (a) => (a.clusterId = 'prod-us-1')],
    ['the incident', (a) => (a.incidentId = 'fp-2')],
    ['the approval id', (a) => (a.approvalId = 'apr-2')],
    ['dry run', (a) => (a.dryRun = true)],
    ['the expiry', (a) => (a.expiresAt = '2026-11-22T11:00:00.000Z')],
    ['the facts', (a) => (a.facts = { incident: { namespace: 'shop', workload: null, nodes: ['node-z'] } })],
  ];
  for (const [what, edit] of edits) {
    it(`refuses an approval whose ${what} was edited after sealing`, () => {
      const edited = structuredClone(sealApproval(approval, planner));
      edit(edited);
      assert.equal(checkSeal(edited, keyring).ok, false);
    });
  }

  it('refuses an unsealed approval and one sealed by an untrusted key', () => {
    assert.deepEqual(checkSeal(approval, keyring), { ok: false, detail: 'the approval carries no seal' });
    const other = sealApproval(approval, { keyId: 'planner-1', key: randomBytes(32) });
    assert.equal(checkSeal(other, keyring).ok, false);
    const unknown = sealApproval(approval, { keyId: 'planner-9', key: randomBytes(32) });
    assert.match(
      (checkSeal(unknown, keyring) as { detail: string }).detail,
      /planner-9, which this approver does not trust/,
    );
  });

  it('shows each action in the product’s words with scope, expiry and a digest that changes with them', () => {
    const lines = shownLinesOf(approval).join('\n');
    assert.match(lines, /action 1: {3}cordon node node-a/);
    assert.match(lines, /scope: {6}prod-eu-1\/shop, nodes node-a/);
    assert.match(lines, /expires: {4}2026-11-21T11:00:00.000Z/);
    const other = structuredClone(approval);
    other.proposal.confidence = 0.7;
    assert.notEqual(shownDigestOf(other), shownDigestOf(approval));
    assert.equal(shownDigestOf(structuredClone(approval)), shownDigestOf(approval));
  });
});
