import { z } from 'zod';
import type { RemediationPolicy } from '../../shared/actions/index.js';
import type { PendingApproval } from '../../shared/approvals/index.js';
import type { Alert, RemediationPlan } from '../../shared/contracts/index.js';
import type { LoggerPort } from '../../shared/logger.js';
import type { Keyring, SigningKey } from '../../shared/signing.js';

/**
 * Who decided, as the entry point authenticated them: the IAM caller ARN of a Function URL request (from the
 * request context Lambda fills in, never the body), or a Slack user id from a request Slack signed.
 */
export interface Approver {
  via: 'iam' | 'slack';
  id: string;
}

/** What an approver asks for. `digest` is of what they were shown (shownDigestOf); approving needs it. */
export const DecisionRequest = z.object({
  approvalId: z.string().min(1).max(128),
  decision: z.enum(['approve', 'reject']),
  digest: z
    .string()
    .regex(/^[0-9a-f]{64}$/, 'must be the 64 hex digits kubepulse plans show printed')
    .optional(),
  reason: z.string().max(1000).optional(),
});
export type DecisionRequest = z.infer<typeof DecisionRequest>;

/** Why a decision was refused; each is a value, and none is retried (retrying cannot change the answer). */
export type RefusalReason =
  | 'unauthenticated'
  | 'not-allowed'
  | 'bad-request'
  | 'not-found'
  | 'approval-tampered'
  | 'already-decided'
  | 'expired'
  | 'digest-mismatch'
  | 'superseded'
  | 'policy-refused'
  | 'unknown-cluster';

export type DecisionOutcome =
  | {
      status: 'approved';
      approvalId: string;
      planId: string;
      actions: number;
      dryRun: boolean;
      expiresAt: string;
    }
  | { status: 'rejected'; approvalId: string }
  | { status: 'refused'; reason: RefusalReason; detail: string };

/** A stored approval as read: absent, present but no longer readable as one, or parsed. */
export type StoredApproval = { found: false } | { found: true; approval: PendingApproval | undefined };

/** What the planner keeps about the incident an approval belongs to, so a stale approval can be told apart. */
export type IncidentState =
  /** Nothing kept (its dedupe window passed): the approval's own facts are all there is. */
  | { status: 'unknown' }
  /** Being planned again right now: a newer episode replaces this approval. */
  | { status: 'in-flight' }
  | { status: 'planned'; approvalIds: readonly string[]; concluded: boolean };

export interface ApprovalStorePort {
  read(approvalId: string): Promise<StoredApproval>;
  /** Compare-and-set from pending: refuses when it is no longer pending (someone decided first) or expired. */
  decide(
    approvalId: string,
    decision: 'approved' | 'rejected',
    decidedBy: string,
    now: Date,
    reason?: string,
  ): Promise<
    | { ok: true; approval: PendingApproval }
    | { ok: false; reason: 'not-found' | 'already-decided' | 'expired' }
  >;
  incident(incidentId: string): Promise<IncidentState>;
}

export interface ApproverOutputsPort {
  sendPlan(plan: RemediationPlan): Promise<void>;
  sendAlert(alert: Alert): Promise<void>;
}

export interface ApproverDeps {
  store: ApprovalStorePort;
  outputs: ApproverOutputsPort;
  /** Per cluster, signs the plans approvals become; the approver is the only holder besides the planner. */
  signers: ReadonlyMap<string, SigningKey>;
  /** The planner keys whose seals are trusted (the signer's own public key, plus any still in rotation). */
  sealKeys: Keyring;
  /** The same shared policy the planner and executor evaluate. */
  policy: RemediationPolicy;
  planTtlSeconds: number;
  clock: () => Date;
  logger: LoggerPort;
}
