import { PLAN_SCHEMA_VERSION, type RemediationPlan } from '../contracts/index.js';
import { KubepulseError } from '../errors.js';
import { shortId } from '../ids.js';
import { type SigningKey, signPlan } from '../signing.js';
import type { PendingApproval } from './record.js';

/** The approval is not (or no longer) one a plan may be made from. */
export class ApprovalNotUsableError extends KubepulseError {
  readonly retryable = false;
  readonly code = 'approval-not-usable';
}

/** The id of the plan an approval becomes once approved: derived, so the incident can recognise its result. */
export const approvedPlanIdOf = (approvalId: string) => `plan-${shortId(approvalId, 24)}`;

/**
 * Turns an approved proposal into a plan signed as `human`: the executor then runs actions its policy would
 * only run with approval, still within every bound, still re-checked against the live cluster. The plan id
 * is derived from the approval, so sending it twice is one plan.
 */
export function planFromApproval(
  approval: PendingApproval,
  options: { signer: SigningKey; now: Date; planTtlSeconds: number },
): RemediationPlan {
  if (approval.status !== 'approved') {
    throw new ApprovalNotUsableError(`approval ${approval.approvalId} is ${approval.status}, not approved`);
  }
  const { proposal } = approval;
  if (proposal.decision !== 'act' || proposal.actions.length === 0) {
    throw new ApprovalNotUsableError(`approval ${approval.approvalId} has no actions to take`);
  }
  // Without the scope the planner saw, the executor could only guess what the plan may touch.
  if (!approval.scope) {
    throw new ApprovalNotUsableError(
      `approval ${approval.approvalId} carries no scope (made before plans had one); the incident must be planned again`,
    );
  }
  const { now } = options;
  const approvedBy = approval.decidedBy ? ` Approved by ${approval.decidedBy}.` : '';
  return signPlan(
    {
      schemaVersion: PLAN_SCHEMA_VERSION,
      kind: 'remediation-plan',
      clusterId: approval.clusterId,
      planId: approvedPlanIdOf(approval.approvalId),
      incidentId: approval.incidentId,
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + options.planTtlSeconds * 1000).toISOString(),
      source: 'human',
      rationale: `${proposal.diagnosis} ${proposal.rationale}${approvedBy}`.slice(0, 4000),
      confidence: proposal.confidence,
      dryRun: approval.dryRun,
      scope: approval.scope,
      actions: proposal.actions,
    },
    options.signer,
  );
}
