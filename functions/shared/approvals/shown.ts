import { createHash } from 'node:crypto';
import { describeAction } from '../actions/index.js';
import { canonicalJson } from '../signing.js';
import type { PendingApproval } from './record.js';

/**
 * What a human is shown before approving, and its digest. The digest covers exactly what the plan made from the
 * approval will carry (actions with their expected state, confidence, scope, cluster, incident, dry run) plus the
 * approval's id and expiry: the approver refuses when the stored approval's digest is not the one the human saw.
 */
export function shownPartOf(approval: PendingApproval) {
  return {
    approvalId: approval.approvalId,
    clusterId: approval.clusterId,
    incidentId: approval.incidentId,
    expiresAt: approval.expiresAt,
    dryRun: approval.dryRun,
    scope: approval.scope ?? null,
    confidence: approval.proposal.confidence,
    actions: approval.proposal.actions,
  };
}

export const DIGEST_PATTERN = /^[0-9a-f]{64}$/;

export const shownDigestOf = (approval: PendingApproval): string =>
  createHash('sha256')
    .update(`kubepulse/approval-shown/v1\n${canonicalJson(shownPartOf(approval))}`)
    .digest('hex');

/** The current state an action expects to find (`fromReplicas`, `fromLimits`, …): signed, so shown too. */
function expects(action: PendingApproval['proposal']['actions'][number]): string {
  const expected = Object.entries(action).filter(([key]) => /^from[A-Z]/.test(key));
  return expected.length === 0 ? '' : ` (expects ${canonicalJson(Object.fromEntries(expected))})`;
}

/** The approval in the product's words, one line each: the actions as their specs describe them, scope, expiry. */
export function shownLinesOf(approval: PendingApproval): string[] {
  const { scope } = approval;
  const workload = scope?.workload ? ` ${scope.workload.kind}/${scope.workload.name}` : '';
  const nodes = scope && scope.nodes.length > 0 ? `, nodes ${scope.nodes.join(', ')}` : '';
  return [
    `approval ${approval.approvalId}  cluster ${approval.clusterId}  incident ${approval.incidentId}`,
    `  scope:      ${scope ? `${scope.clusterId}/${scope.namespace}${workload}${nodes}` : '(none)'}`,
    ...approval.proposal.actions.map(
      (action, i) => `  action ${i + 1}:   ${describeAction(action)}${expects(action)}`,
    ),
    `  confidence: ${approval.proposal.confidence}${approval.dryRun ? '  (dry run: nothing will be written)' : ''}`,
    `  expires:    ${approval.expiresAt}`,
    `  digest:     ${shownDigestOf(approval)}`,
  ];
}
