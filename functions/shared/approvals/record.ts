import { z } from 'zod';
import {
  ClusterId,
  IsoTimestamp,
  PlanProposal,
  PlanScope,
  PlanSignature,
  ResourceQuantities,
  WorkloadTarget,
} from '../contracts/index.js';

/**
 * A proposal waiting for a human, as the planner stores it in Redis and the approver reads it back. Everything
 * a plan is later made from (the proposal's actions and confidence, the scope, cluster, incident, dry run, expiry
 * and the facts the planner judged it on) is sealed by the planner (see seal.ts); only the decision fields
 * change afterwards, and they are not what a plan is signed from.
 */
const Labels = z.record(z.string(), z.string());
const WorkloadRef = z.object({ kind: z.string(), name: z.string() });

/** The facts the planner evaluated the proposal on (functions/shared/actions/facts.ts), kept to re-evaluate it. */
export const StoredFacts = z.object({
  incident: z.object({
    namespace: z.string(),
    workload: WorkloadRef.nullable(),
    nodes: z.array(z.string()),
  }),
  namespaceLabels: Labels.optional(),
  namespaceAnnotations: Labels.optional(),
  workload: WorkloadRef.extend({
    namespace: z.string(),
    replicas: z.number().int().nonnegative().optional(),
    readyReplicas: z.number().int().nonnegative().optional(),
    labels: Labels,
    annotations: Labels,
    containers: z.array(
      z.object({
        name: z.string(),
        limits: ResourceQuantities,
        requests: ResourceQuantities,
        peakUsage: ResourceQuantities,
      }),
    ),
    autoscaler: z.string().optional(),
  }).optional(),
  pods: z
    .array(
      z.object({
        namespace: z.string(),
        name: z.string(),
        controller: WorkloadRef.nullable(),
        labels: Labels,
        annotations: Labels,
      }),
    )
    .optional(),
  nodes: z
    .array(z.object({ name: z.string(), labels: Labels, annotations: Labels, unschedulable: z.boolean() }))
    .optional(),
  schedulableNodes: z.number().int().nonnegative().optional(),
  workloadNodes: z.array(z.string()).optional(),
});
export type StoredFacts = z.infer<typeof StoredFacts>;

/** The planner's Ed25519 signature over the sealed part of a stored approval. */
export const ApprovalSeal = PlanSignature;
export type ApprovalSeal = z.infer<typeof ApprovalSeal>;

export const PendingApproval = z.object({
  approvalId: z.string().min(1).max(128),
  clusterId: ClusterId,
  /** The incident fingerprint. */
  incidentId: z.string().min(1).max(128),
  status: z.enum(['pending', 'approved', 'rejected']),
  createdAt: IsoTimestamp,
  expiresAt: IsoTimestamp,
  source: z.enum(['llm', 'runbook']),
  proposal: PlanProposal,
  /** Why policy wants a human. */
  reasons: z.array(z.string().max(1000)).max(50),
  dryRun: z.boolean(),
  target: WorkloadTarget.optional(),
  /** The scope the plan made from this approval signs; absent on approvals made before plans carried one. */
  scope: PlanScope.optional(),
  /** The facts the planner judged the proposal on; the approver re-evaluates it on them. */
  facts: StoredFacts.optional(),
  /** The planner's seal over everything above but `status`; an approval without one is never approved. */
  seal: ApprovalSeal.optional(),
  decidedBy: z.string().max(200).optional(),
  decidedAt: IsoTimestamp.optional(),
  /** What the human said with the decision, kept for the audit trail. */
  decisionReason: z.string().max(1000).optional(),
});
export type PendingApproval = z.infer<typeof PendingApproval>;

/** The fields a decision changes; everything else is sealed. */
const DECISION_FIELDS = ['status', 'decidedBy', 'decidedAt', 'decisionReason', 'seal'] as const;

/** The part of a stored approval the seal covers: the record as its schema parses it, less the decision. */
export function sealedPartOf(approval: PendingApproval): Record<string, unknown> {
  const parsed: Record<string, unknown> = { ...PendingApproval.parse(approval) };
  for (const field of DECISION_FIELDS) delete parsed[field];
  return parsed;
}
