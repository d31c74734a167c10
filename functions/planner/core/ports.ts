import { z } from 'zod';
import { PendingApproval } from '../../shared/approvals/record.js';
import { Alert, ExecutionResult, IsoTimestamp, RemediationPlan } from '../../shared/contracts/index.js';

// The stored approval's schema lives beside its seal (functions/shared/approvals), which the approver checks.
export { PendingApproval };

/**
 * What the planner remembers between invocations: which incidents it has planned (and what it sent, so a
 * redelivered batch re-sends the same messages), which targets were just remediated, how many automatic
 * plans went out lately, and which plans wait for a human.
 */

export const PlannerOutput = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('plan'), plan: RemediationPlan }),
  z.object({ kind: z.literal('approval-request'), approval: PendingApproval }),
  z.object({ kind: z.literal('alert'), alert: Alert }),
]);
export type PlannerOutput = z.infer<typeof PlannerOutput>;

/**
 * How the executor finished the plan an incident was planned with. It ends that episode of the incident: a breach
 * detected after it (the leak came back, the refused plan's target changed) is planned afresh.
 */
export const IncidentConclusion = z.object({
  planId: z.string().min(1).max(128),
  status: ExecutionResult.shape.status,
  finishedAt: IsoTimestamp,
});
export type IncidentConclusion = z.infer<typeof IncidentConclusion>;

/** What was decided for an incident, kept so a redelivery re-sends it instead of planning again. */
export const PlannedIncident = z.object({
  anomalyIds: z.array(z.string()),
  outputs: z.array(PlannerOutput),
  conclusion: IncidentConclusion.optional(),
  /** Set when the decision was only to watch: a breach detected after it is reconsidered. */
  observedUntil: IsoTimestamp.optional(),
});
export type PlannedIncident = z.infer<typeof PlannedIncident>;

export type IncidentClaim =
  | { status: 'claimed' }
  /** Another invocation is planning it right now (or died doing so; the claim expires soon). */
  | { status: 'in-flight' }
  /** `revision` identifies the stored record, for `reopenIncident`. */
  | { status: 'planned'; record: PlannedIncident; revision: string };

/** What concluding an incident did: a result for a plan the incident no longer holds changes nothing. */
export type ConclusionOutcome = 'concluded' | 'no-such-plan';

export type ApprovalDecision =
  | { ok: true; approval: PendingApproval }
  | { ok: false; reason: 'not-found' | 'already-decided' | 'expired'; approval?: PendingApproval };

export interface PlannerStatePort {
  /** Atomically claims an incident for planning for `inFlightSeconds`, or says who has it. */
  claimIncident(fingerprint: string, inFlightSeconds: number): Promise<IncidentClaim>;
  /** Replaces the claim with the outcome, kept for `ttlSeconds` (the dedupe window). */
  recordIncident(fingerprint: string, record: PlannedIncident, ttlSeconds: number): Promise<void>;
  /** Drops an in-flight claim after a failure, so a retry can plan the incident; a recorded outcome stays. */
  releaseIncident(fingerprint: string): Promise<void>;
  /** Marks the recorded incident whose plan this is as concluded, keeping its dedupe window. */
  /**
   * Ends the incident's episode when `conclusion.planId` is one of its plans; with `clusterId`, only a plan for that
   * cluster counts (a result is authenticated by its cluster's results queue, and must not end another's incident).
   */
  concludeIncident(
    fingerprint: string,
    conclusion: IncidentConclusion,
    clusterId?: string,
  ): Promise<ConclusionOutcome>;
  /**
   * Starts a new episode of a concluded incident: replaces the record `revision` names with an in-flight claim.
   * False when the record changed first (another planner reopened it).
   */
  reopenIncident(fingerprint: string, revision: string, inFlightSeconds: number): Promise<boolean>;

  /** Seconds of cooldown left on a target (0 when none). */
  cooldownRemaining(target: string): Promise<number>;
  startCooldown(target: string, seconds: number): Promise<void>;

  /** Takes one automatic-plan token from the window containing `now`; false when the window is spent. */
  takeAutoPlanToken(scope: string, max: number, windowSeconds: number, now: Date): Promise<boolean>;

  saveApproval(approval: PendingApproval): Promise<void>;
  getApproval(approvalId: string): Promise<PendingApproval | undefined>;
  listApprovals(): Promise<PendingApproval[]>;
  /** Moves a pending, unexpired approval to approved or rejected; refuses any other transition. */
  decideApproval(
    approvalId: string,
    decision: 'approved' | 'rejected',
    decidedBy: string,
    now: Date,
    reason?: string,
  ): Promise<ApprovalDecision>;
}
