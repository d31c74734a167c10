import { timingSafeEqual } from 'node:crypto';
import { describeAction, evaluatePlan } from '../../shared/actions/index.js';
import {
  checkSeal,
  type PendingApproval,
  planFromApproval,
  shownDigestOf,
} from '../../shared/approvals/index.js';
import { type Alert, SCHEMA_VERSION } from '../../shared/contracts/index.js';
import { canonicalJson } from '../../shared/signing.js';
import type { Approver, ApproverDeps, DecisionOutcome, DecisionRequest, RefusalReason } from './ports.js';

const refused = (reason: RefusalReason, detail: string): DecisionOutcome => ({
  status: 'refused',
  reason,
  detail: detail.slice(0, 2000),
});

/**
 * Decides one approval for an authenticated approver. Deny by default, in the order an attacker would have to
 * get past: the record must be the one the planner sealed, still pending and unexpired, still the incident's
 * current proposal, exactly what the approver was shown, and still allowed by the shared policy on the facts it
 * was proposed on. Only then is it marked decided (compare-and-set, so it is decided once) and signed.
 */
export async function decideApproval(
  request: DecisionRequest,
  approver: Approver,
  deps: ApproverDeps,
): Promise<DecisionOutcome> {
  const now = deps.clock();
  const stored = await deps.store.read(request.approvalId);
  if (!stored.found) return refused('not-found', `no approval ${request.approvalId}`);
  const { approval } = stored;
  if (!approval)
    return refused('approval-tampered', `approval ${request.approvalId} is not a valid approval`);
  // A record filed under another id (another incident's approval copied here) fails the seal too, which
  // covers the id; this says so plainly.
  if (approval.approvalId !== request.approvalId) {
    return refused(
      'approval-tampered',
      `the record under ${request.approvalId} is approval ${approval.approvalId}`,
    );
  }
  const seal = checkSeal(approval, deps.sealKeys);
  if (!seal.ok) return refused('approval-tampered', seal.detail);
  if (approval.status !== 'pending') {
    return refused(
      'already-decided',
      `approval ${approval.approvalId} was already ${approval.status} by ${approval.decidedBy ?? 'someone'}`,
    );
  }
  if (Date.parse(approval.expiresAt) <= now.getTime()) {
    return refused('expired', `approval ${approval.approvalId} expired at ${approval.expiresAt}`);
  }

  const decidedBy = `${approver.via}:${approver.id}`;
  if (request.decision === 'reject') {
    // Refusing to act needs no digest or policy: it can only make things safer.
    const decision = await deps.store.decide(approval.approvalId, 'rejected', decidedBy, now, request.reason);
    if (!decision.ok) return lostRace(approval.approvalId, decision.reason);
    await tellTheTeam(decision.approval, now, request.reason, deps);
    return { status: 'rejected', approvalId: approval.approvalId };
  }

  if (!request.digest) {
    return refused('bad-request', 'approving needs the digest of what was shown (kubepulse plans show)');
  }
  if (!sameDigest(request.digest, shownDigestOf(approval))) {
    return refused(
      'digest-mismatch',
      `approval ${approval.approvalId} is not what was shown (digest differs); show it again before approving`,
    );
  }
  // A cluster this approver does not sign for gets nothing signed (and nothing marked decided).
  const signer = deps.signers.get(approval.clusterId);
  if (!signer)
    return refused(
      'unknown-cluster',
      `approval ${approval.approvalId} is for cluster ${approval.clusterId}, which is not served here`,
    );
  const stale = await staleness(approval, deps);
  if (stale) return refused('superseded', stale);
  const policyRefusal = reevaluate(approval, deps);
  if (policyRefusal) return refused('policy-refused', policyRefusal);

  const decision = await deps.store.decide(approval.approvalId, 'approved', decidedBy, now, request.reason);
  if (!decision.ok) return lostRace(approval.approvalId, decision.reason);
  // The policy's dry run wins over the approval's: an approver configured for dry run never writes.
  const approved = { ...decision.approval, dryRun: decision.approval.dryRun || deps.policy.dryRun };
  const plan = planFromApproval(approved, { signer, now, planTtlSeconds: deps.planTtlSeconds });
  await deps.outputs.sendPlan(plan);
  deps.logger.info('approval approved', { approvalId: approval.approvalId, planId: plan.planId, decidedBy });
  await tellTheTeam(decision.approval, now, request.reason, deps);
  return {
    status: 'approved',
    approvalId: approval.approvalId,
    planId: plan.planId,
    actions: plan.actions.length,
    dryRun: plan.dryRun,
    expiresAt: plan.expiresAt,
  };
}

function lostRace(approvalId: string, reason: 'not-found' | 'already-decided' | 'expired'): DecisionOutcome {
  return refused(reason, `approval ${approvalId} changed while it was being decided (${reason})`);
}

function sameDigest(given: string, expected: string): boolean {
  const a = Buffer.from(given, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The freshest thing the approver knows besides the approval's own facts: the planner's record of the incident.
 * It has no view of the live cluster; the executor checks the signed plan's expected state against that.
 */
async function staleness(approval: PendingApproval, deps: ApproverDeps): Promise<string | undefined> {
  const incident = await deps.store.incident(approval.incidentId);
  if (incident.status === 'in-flight') {
    return `incident ${approval.incidentId} is being planned again; approve its new proposal instead`;
  }
  if (incident.status === 'planned') {
    if (!incident.approvalIds.includes(approval.approvalId)) {
      return `incident ${approval.incidentId} was planned again since; approval ${approval.approvalId} is no longer its proposal`;
    }
    if (incident.concluded) return `incident ${approval.incidentId} is already concluded`;
  }
  return undefined;
}

/**
 * The proposal through the same shared policy the planner and executor evaluate, on the facts the planner
 * sealed with it and the approver's (current) policy. A human may approve what needs approval, never what is
 * refused; and what is signed must be exactly what this evaluation writes from those facts.
 */
function reevaluate(approval: PendingApproval, deps: ApproverDeps): string | undefined {
  const { facts, scope } = approval;
  if (!facts || !scope)
    return 'the approval carries no facts or scope to evaluate it on; the planner must propose again';
  if (scope.clusterId !== approval.clusterId || scope.namespace !== facts.incident.namespace) {
    return `the scope ${scope.clusterId}/${scope.namespace} is not the incident's (${approval.clusterId}/${facts.incident.namespace})`;
  }
  const evaluation = evaluatePlan(approval.proposal, facts, deps.policy);
  if (evaluation.verdict === 'refused') return evaluation.reasons.join('; ');
  const evaluated = evaluation.actions.map((e) => e.action);
  if (canonicalJson(evaluated) !== canonicalJson(approval.proposal.actions)) {
    return 'the actions do not carry the expected state their facts give; the planner must propose again';
  }
  return undefined;
}

/** An info alert, so the channel that was asked for approval hears the answer and who gave it. */
async function tellTheTeam(
  approval: PendingApproval,
  now: Date,
  reason: string | undefined,
  deps: ApproverDeps,
): Promise<void> {
  const verb = approval.status === 'approved' ? 'approved' : 'rejected';
  const alert: Alert = {
    schemaVersion: SCHEMA_VERSION,
    kind: 'alert',
    clusterId: approval.clusterId,
    alertId: `decision-${approval.approvalId}`.slice(0, 128),
    dedupKey: `${approval.incidentId}/decision`,
    severity: 'info',
    status: 'firing',
    title: `Remediation ${verb} by ${approval.decidedBy ?? 'someone'}`.slice(0, 300),
    summary: [
      `Approval ${approval.approvalId} for incident ${approval.incidentId}: ${verb}.`,
      ...(reason ? [`Reason: ${reason}`] : []),
      `Proposed: ${approval.proposal.actions.map(describeAction).join('; ')}`,
    ]
      .join('\n')
      .slice(0, 4000),
    createdAt: now.toISOString(),
    incidentId: approval.incidentId,
    ...(approval.target ? { target: approval.target } : {}),
    links: [],
  };
  try {
    await deps.outputs.sendAlert(alert);
  } catch (error) {
    // The decision stands and the plan is sent; a lost notice is not worth failing the approval over.
    deps.logger.warn('could not tell the team about a decision', { error: (error as Error).message });
  }
}
