import { z } from 'zod';
import { type ActionName, PlanProposal, RemediationAction } from '../contracts/index.js';
import { KubepulseError } from '../errors.js';
import type { Labels, TargetFacts } from './facts.js';
import {
  ACTION_NAMES,
  ACTIONS,
  type ActionBounds,
  actionLabel,
  defaultBounds,
  isRegisteredAction,
  specOf,
} from './registry.js';
import { Verdict } from './spec.js';

/**
 * The one policy both the planner and the executor apply, so an action the planner would refuse can never be
 * executed, and an action the executor would refuse is never proposed as safe. Pure: no clock, no I/O.
 */
/** A namespace name, or a glob where `*` stands for any run of characters (`kube-*`). */
const NamespacePattern = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z0-9*-]+$/, 'a namespace pattern is a DNS label that may contain *');

const ActionNameSchema = z.enum(ACTION_NAMES as [ActionName, ...ActionName[]]);

export const DEFAULT_DENIED_NAMESPACES = ['kube-*', 'kubepulse', 'cert-manager', 'istio-system'];
export const OPT_OUT_LABEL = { key: 'kubepulse.io/remediation', value: 'disabled' };

type BoundOverrides = { [Name in ActionName]?: Partial<ActionBounds[Name]> };
/** Per action, any of its bounds; an action without bounds takes none (its bounds schema is strict). */
const BoundOverrides = z.strictObject(
  Object.fromEntries(
    ACTION_NAMES.map((name) => [name, (ACTIONS[name].bounds as z.ZodObject).partial().optional()]),
  ),
) as unknown as z.ZodType<BoundOverrides, BoundOverrides>;

export const RemediationPolicy = z
  .strictObject({
    enabledActions: z
      .array(ActionNameSchema)
      .default(ACTION_NAMES.filter((name) => ACTIONS[name].enabledByDefault)),
    namespaces: z
      .strictObject({
        allow: z.array(NamespacePattern).default(['*']),
        /** Wins over allow. */
        deny: z.array(NamespacePattern).default(DEFAULT_DENIED_NAMESPACES),
      })
      .prefault({}),
    /** On a namespace, workload, pod or node (label or annotation), it refuses every action on it. */
    optOut: z
      .strictObject({ key: z.string().min(1).max(317), value: z.string().max(63) })
      .default(OPT_OUT_LABEL),
    /** A proposal less confident than this is never applied without a human. */
    confidenceThreshold: z.number().min(0).max(1).default(0.75),
    modes: z
      .strictObject({
        low: Verdict.default('auto'),
        medium: Verdict.default('needs-approval'),
        high: Verdict.default('needs-approval'),
      })
      .prefault({}),
    bounds: BoundOverrides.prefault({}),
    maxActionsPerPlan: z.number().int().min(1).max(5).default(3),
    /** Plans are marked dry-run: the executor validates and diffs but does not write. */
    dryRun: z.boolean().default(true),
  })
  .transform((policy, context) => {
    const defaults = defaultBounds();
    const bounds = Object.fromEntries(
      ACTION_NAMES.map((name) => {
        const merged = ACTIONS[name].bounds.safeParse({ ...defaults[name], ...policy.bounds[name] });
        if (!merged.success) {
          for (const issue of merged.error.issues) {
            context.addIssue({
              code: 'custom',
              message: issue.message,
              path: ['bounds', name, ...issue.path],
            });
          }
          return [name, defaults[name]];
        }
        return [name, merged.data];
      }),
    ) as ActionBounds;
    for (const name of ACTION_NAMES) {
      const spec: { boundsProblems?(bounds: ActionBounds[ActionName]): string[] } = ACTIONS[name];
      for (const message of spec.boundsProblems?.(bounds[name]) ?? []) {
        context.addIssue({ code: 'custom', message, path: ['bounds', name] });
      }
    }
    return { ...policy, bounds };
  });
export type RemediationPolicy = z.output<typeof RemediationPolicy>;
export type RemediationPolicyDocument = z.input<typeof RemediationPolicy>;

export class PolicyInvalidError extends KubepulseError {
  readonly retryable = false;
  readonly code = 'policy-invalid';
}

export function parsePolicy(document: unknown): RemediationPolicy {
  const result = RemediationPolicy.safeParse(document);
  if (!result.success) {
    const problems = result.error.issues.map(
      (issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`,
    );
    throw new PolicyInvalidError(`invalid remediation policy:\n  ${problems.join('\n  ')}`);
  }
  return result.data;
}

export const DEFAULT_POLICY: RemediationPolicy = parsePolicy({});

export interface Evaluation {
  verdict: Verdict;
  reasons: string[];
}

export interface ActionEvaluation extends Evaluation {
  /** The parsed action, when it parsed at all. */
  action?: RemediationAction;
}

export interface PlanEvaluation extends Evaluation {
  actions: ActionEvaluation[];
  dryRun: boolean;
}

const SEVERITY: Record<Verdict, number> = { auto: 0, 'needs-approval': 1, refused: 2 };
const stricter = (a: Verdict, b: Verdict): Verdict => (SEVERITY[a] >= SEVERITY[b] ? a : b);

/**
 * Whether one action may run automatically, only with a human's approval, or not at all, given the facts as the
 * plan's earlier actions leave them (`evaluatePlan` folds them; alone, the facts as they are).
 */
export function evaluateAction(
  candidate: unknown,
  facts: TargetFacts,
  policy: RemediationPolicy,
): ActionEvaluation {
  const name = (candidate as { action?: unknown } | null)?.action;
  if (!isRegisteredAction(name)) return refuse(`unknown action ${String(JSON.stringify(name)).slice(0, 64)}`);
  const parsed = RemediationAction.safeParse(candidate);
  if (!parsed.success) {
    return refuse(
      ...parsed.error.issues.map((i) => `invalid ${name}: ${i.path.join('.') || '(root)'}: ${i.message}`),
    );
  }
  const action = parsed.data;
  const spec = specOf(action);
  const reasons: string[] = [];
  if (!policy.enabledActions.includes(action.action))
    reasons.push(`${action.action} is not enabled by policy`);

  const namespaces = new Set([facts.incident.namespace]);
  const targetNamespace = spec.target(action).namespace;
  if (targetNamespace !== undefined) namespaces.add(targetNamespace);
  for (const namespace of namespaces) reasons.push(...namespaceRefusals(namespace, policy));

  reasons.push(...spec.check(action, facts, policy.bounds[action.action]));
  reasons.push(...optOutRefusals(action, facts, policy));

  if (reasons.length > 0) return { verdict: 'refused', reasons, action };
  const mode = policy.modes[spec.risk];
  const floor = spec.atLeast?.(action, facts);
  if (floor && stricter(mode, floor.verdict) !== mode) {
    return { verdict: floor.verdict, reasons: [floor.reason], action };
  }
  return {
    verdict: mode,
    reasons: [`${action.action} is ${spec.risk} risk: ${mode} by policy`],
    action,
  };
}

/** What `evaluateActions` judges: a proposal's or a signed plan's actions and how sure their author was. */
interface PlanCandidate {
  confidence: number;
  actions: readonly RemediationAction[];
}

interface FoldOptions {
  /**
   * Proposals: write each action's expected current state in from the facts (the plan signs these). Signed
   * plans: require it instead, and refuse when it differs from the facts.
   */
  expectedState: 'write' | 'require';
  /** Steps already applied (a resumed plan): their effect is in the live facts, so they are not folded again. */
  done?: (index: number) => boolean;
}

/**
 * The plan-level rules and every action on the facts as the plan's earlier actions leave them: one fold, the same
 * for the planner's proposals and the executor's signed plans. One refused action refuses the plan (a partial
 * plan may be worse than none); the plan must be small, not repeat a target, and confident enough to run
 * without a human.
 */
function evaluateActions(
  plan: PlanCandidate,
  facts: TargetFacts,
  policy: RemediationPolicy,
  options: FoldOptions,
): PlanEvaluation {
  const result = (verdict: Verdict, reasons: string[], actions: ActionEvaluation[] = []): PlanEvaluation => ({
    verdict,
    reasons,
    actions,
    dryRun: policy.dryRun,
  });
  if (plan.actions.length === 0) return result('refused', ['the proposal has no actions']);
  if (plan.actions.length > policy.maxActionsPerPlan) {
    return result('refused', [
      `${plan.actions.length} actions is more than the ${policy.maxActionsPerPlan} allowed`,
    ]);
  }

  let current = facts;
  const actions = plan.actions.map((original, index): ActionEvaluation => {
    if (options.done?.(index)) return { verdict: 'auto', reasons: ['already applied'], action: original };
    const spec = specOf(original);
    const action =
      options.expectedState === 'write' ? (spec.expect?.(original, current) ?? original) : original;
    const missing = options.expectedState === 'require' ? (spec.unexpected?.(action) ?? []) : [];
    const evaluation = evaluateAction(action, current, policy);
    current = spec.after(action, current);
    if (missing.length === 0) return evaluation;
    return {
      verdict: 'refused',
      reasons: [...missing, ...(evaluation.verdict === 'refused' ? evaluation.reasons : [])],
      action,
    };
  });
  let verdict: Verdict = 'auto';
  const reasons: string[] = [];
  actions.forEach((evaluation, index) => {
    verdict = stricter(verdict, evaluation.verdict);
    if (evaluation.verdict !== 'auto')
      reasons.push(...evaluation.reasons.map((r) => `action ${index + 1}: ${r}`));
  });
  const targets = plan.actions.map(actionLabel);
  const repeated = targets.filter((target, index) => targets.indexOf(target) !== index);
  if (repeated.length > 0) {
    verdict = 'refused';
    reasons.push(`more than one ${[...new Set(repeated)].join(', ')} in one plan`);
  }
  if (plan.confidence < policy.confidenceThreshold) {
    verdict = stricter(verdict, 'needs-approval');
    reasons.push(`confidence ${plan.confidence} is below the threshold of ${policy.confidenceThreshold}`);
  }
  return result(verdict, reasons, actions);
}

/**
 * A proposal as a whole (see `evaluateActions`). The evaluated actions carry the expected current state of what
 * they change, from the facts: those, not the proposal's, are what a plan signs.
 */
export function evaluatePlan(
  candidate: unknown,
  facts: TargetFacts,
  policy: RemediationPolicy,
): PlanEvaluation {
  const parsed = PlanProposal.safeParse(candidate);
  if (!parsed.success) {
    return {
      verdict: 'refused',
      reasons: parsed.error.issues.map((i) => `invalid proposal: ${i.path.join('.')}: ${i.message}`),
      actions: [],
      dryRun: policy.dryRun,
    };
  }
  const proposal = parsed.data;
  if (proposal.decision !== 'act') {
    return {
      verdict: 'refused',
      reasons: [`the proposal does not act (${proposal.decision})`],
      actions: [],
      dryRun: policy.dryRun,
    };
  }
  return evaluateActions(proposal, facts, policy, { expectedState: 'write' });
}

/**
 * A signed plan at the executor, with the same rules as a proposal at the planner (`evaluateActions`), on live
 * facts: every action must say what it expects to find, and find it. `done` marks steps a resumed plan applied.
 */
export function evaluateSignedPlan(
  plan: PlanCandidate,
  facts: TargetFacts,
  policy: RemediationPolicy,
  done?: (index: number) => boolean,
): PlanEvaluation {
  return evaluateActions(plan, facts, policy, { expectedState: 'require', ...(done ? { done } : {}) });
}

function refuse(...reasons: string[]): ActionEvaluation {
  return { verdict: 'refused', reasons };
}

export function namespaceMatches(namespace: string, pattern: string): boolean {
  const regex = new RegExp(`^${pattern.split('*').map(escapeRegex).join('.*')}$`);
  return regex.test(namespace);
}

const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Why policy refuses every action in a namespace (denied, or not allowed); empty when it may act there. */
export function namespaceRefusals(namespace: string, policy: RemediationPolicy): string[] {
  const denied = policy.namespaces.deny.find((pattern) => namespaceMatches(namespace, pattern));
  if (denied) return [`namespace ${namespace} is denied by policy (${denied})`];
  if (!policy.namespaces.allow.some((pattern) => namespaceMatches(namespace, pattern))) {
    return [`namespace ${namespace} is not allowed by policy`];
  }
  return [];
}

function optOutRefusals(action: RemediationAction, facts: TargetFacts, policy: RemediationPolicy): string[] {
  const { key, value } = policy.optOut;
  const optedOut = (...maps: Array<Labels | undefined>) => maps.some((labels) => labels?.[key] === value);
  const marker = `${key}=${value}`;
  const reasons: string[] = [];
  if (optedOut(facts.namespaceLabels, facts.namespaceAnnotations))
    reasons.push(`namespace ${facts.incident.namespace} opted out (${marker})`);
  const spec = specOf(action);
  const target = spec.target(action);
  if (spec.scope === 'node') {
    const node = facts.nodes?.find((n) => n.name === target.name);
    if (optedOut(node?.labels, node?.annotations)) reasons.push(`node ${target.name} opted out (${marker})`);
    return reasons;
  }
  if (optedOut(facts.workload?.labels, facts.workload?.annotations)) {
    reasons.push(`workload ${facts.workload?.kind}/${facts.workload?.name} opted out (${marker})`);
  }
  if (spec.scope === 'pod') {
    const pod = facts.pods?.find((p) => p.name === target.name && p.namespace === target.namespace);
    if (optedOut(pod?.labels, pod?.annotations)) reasons.push(`pod ${target.name} opted out (${marker})`);
  }
  return reasons;
}
