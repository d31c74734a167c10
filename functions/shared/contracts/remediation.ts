import { z } from 'zod';
import { ACTIONS } from '../actions/registry.js';
import { ClusterId, IsoTimestamp, NamespaceName, ObjectName, SchemaVersion } from './common.js';

/**
 * The parameters of each remediation action, one variant per entry of the action registry, in its order. What an
 * action may do (risk, bounds, who approves) lives with it in `shared/actions/`; this is only the wire shape the
 * planner signs and the executor re-checks.
 */
export { CordonAction } from '../actions/cordon.js';
export { DeletePodAction } from '../actions/delete-pod.js';
export { RolloutRestartAction } from '../actions/rollout-restart.js';
export { ScaleAction } from '../actions/scale.js';
export { SetResourcesAction } from '../actions/set-resources.js';
export { UncordonAction } from '../actions/uncordon.js';

type ActionParams = (typeof ACTIONS)[keyof typeof ACTIONS]['params'];
export const RemediationAction = z.discriminatedUnion(
  'action',
  Object.values(ACTIONS).map((spec) => spec.params) as [ActionParams, ...ActionParams[]],
);
export type RemediationAction = z.infer<typeof RemediationAction>;
export type ActionName = RemediationAction['action'];

/**
 * What a planner (the LLM or a runbook) proposes before policy: a decision, a diagnosis for humans, and the
 * actions it would take. Policy turns a proposal into a signed plan, an approval request, an escalation, or
 * nothing; nothing in a proposal is trusted.
 */
export const PlanProposal = z.object({
  decision: z.enum(['act', 'escalate', 'observe']),
  diagnosis: z.string().min(1).max(2000),
  rationale: z.string().max(4000),
  confidence: z.number().min(0).max(1),
  actions: z.array(RemediationAction).max(5),
});
export type PlanProposal = z.infer<typeof PlanProposal>;

export const PlanSignature = z.object({
  /** Ed25519 only: the HMAC-SHA256 of old, which any verifier could forge, is refused as malformed. */
  algorithm: z.literal('Ed25519'),
  keyId: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/),
  /** Hex Ed25519 signature (64 bytes) over the canonical JSON of the plan without its signature. */
  value: z.string().regex(/^[0-9a-f]{128}$/),
});

/**
 * The plan's own schema version, ahead of SCHEMA_VERSION: version 2 added the signed `scope` and the expected
 * current state in actions (`fromReplicas`…). An executor refuses a version 1 plan as malformed, since it could
 * not check what such a plan may touch; a planner reading a stored version 1 plan treats it as unreadable.
 */
export const PLAN_SCHEMA_VERSION = 2 as const;

/**
 * What the incident a plan answers justifies touching, as the planner saw it, signed with the plan. The executor
 * takes the incident from here, never from the actions, and refuses every action outside it.
 */
export const PlanScope = z.object({
  clusterId: ClusterId,
  namespace: NamespaceName,
  /** The workload the incident is about; null for a bare pod or a node's own incident. */
  workload: z
    .object({ kind: z.enum(['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob']), name: ObjectName })
    .nullable(),
  /** Nodes the planner saw hosting the incident's pods (or the node itself): the only nodes it may touch. */
  nodes: z.array(ObjectName).max(50),
});
export type PlanScope = z.infer<typeof PlanScope>;

export const RemediationPlan = z.object({
  schemaVersion: z.literal(PLAN_SCHEMA_VERSION),
  kind: z.literal('remediation-plan'),
  clusterId: ClusterId,
  planId: z.string().min(1).max(128),
  incidentId: z.string().min(1).max(128),
  createdAt: IsoTimestamp,
  expiresAt: IsoTimestamp,
  source: z.enum(['llm', 'runbook', 'human']),
  rationale: z.string().max(4000),
  confidence: z.number().min(0).max(1),
  dryRun: z.boolean(),
  scope: PlanScope,
  actions: z.array(RemediationAction).min(1).max(5),
  signature: PlanSignature,
});
export type RemediationPlan = z.infer<typeof RemediationPlan>;

export const StepOutcome = z.object({
  action: RemediationAction,
  status: z.enum(['applied', 'skipped-already-done', 'refused', 'failed', 'rolled-back']),
  detail: z.string().max(2000).default(''),
});

export const ExecutionResult = z.object({
  schemaVersion: SchemaVersion,
  kind: z.literal('execution-result'),
  clusterId: ClusterId,
  planId: z.string().min(1).max(128),
  incidentId: z.string().min(1).max(128),
  status: z.enum(['verified', 'applied-unverified', 'rolled-back', 'refused', 'failed']),
  steps: z.array(StepOutcome),
  startedAt: IsoTimestamp,
  finishedAt: IsoTimestamp,
  error: z.string().max(2000).optional(),
});
export type ExecutionResult = z.infer<typeof ExecutionResult>;
