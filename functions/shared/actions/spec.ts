import { z } from 'zod';
import type { TargetFacts } from './facts.js';

/**
 * One remediation action as data: the shape of its parameters on the wire, what the LLM is told about it, how
 * risky it is, the bounds it must stay within, what it touches and how humans read it. Pure: the executor's half
 * (how it is applied and rolled back through the Kubernetes API) lives in `executor/core/appliers/`.
 */
export const RiskTier = z.enum(['low', 'medium', 'high']);
export type RiskTier = z.infer<typeof RiskTier>;

/** What policy decides for an action or a plan: run it, ask a human first, or never. */
export const Verdict = z.enum(['auto', 'needs-approval', 'refused']);
export type Verdict = z.infer<typeof Verdict>;

/** What an action touches: a workload or pod of the incident, or a node that hosts the incident's pods. */
export type ActionScope = 'workload' | 'pod' | 'node';

/** The object an action changes, as the API server names it; a node has no namespace. */
export interface ActionTarget {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
}

/** An action's parameters: an object whose `action` field names the action. */
export type ActionParams = z.ZodObject<{ action: z.ZodLiteral<string> }>;

/** For actions with nothing to bound; strict, so a policy that sets bounds on one is refused. */
export const NoBounds = z.strictObject({});

export interface ActionSpec<Params extends ActionParams, Bounds extends z.ZodObject> {
  params: Params;
  /** What the LLM is told: when the action helps, and what it does not fix. */
  description: string;
  risk: RiskTier;
  scope: ActionScope;
  /** Whether a policy that does not list its actions enables this one. */
  enabledByDefault: boolean;
  /** Ceilings a policy may tighten or relax the defaults within, never beyond. */
  bounds: Bounds;
  defaultBounds: z.output<Bounds>;
  /** Rules across fields of a policy's bounds that the schema's ranges cannot say. */
  boundsProblems?(bounds: z.output<Bounds>): string[];
  target(action: z.output<Params>): ActionTarget;
  /** The action in a phrase for humans, with its full target: approvals, alerts, the CLI, the demo. */
  describe(action: z.output<Params>): string;
  /**
   * Does it stay on the incident's own targets, and within its bounds, given the facts? The reasons it must be
   * refused (empty when it may go ahead). Unknown facts refuse: deny by default.
   */
  check(action: z.output<Params>, facts: TargetFacts, bounds: z.output<Bounds>): string[];
  /**
   * The facts as this action leaves them (pure): the next action of the same plan is checked against these, so
   * bounds hold for the plan as a whole (three cordons cannot each see four schedulable nodes).
   */
  after(action: z.output<Params>, facts: TargetFacts): TargetFacts;
  /**
   * A verdict the action gets at the least, whatever the risk modes say, with why: what makes one direction of
   * an action riskier than its tier (a scale-in is capacity removed on someone's word).
   */
  atLeast?(action: z.output<Params>, facts: TargetFacts): { verdict: Verdict; reason: string } | undefined;
  /**
   * The action with the current state of what it changes, as the facts have it, written in (`fromReplicas`…):
   * the planner signs this, so the executor can refuse when the live cluster moved since. Values the action
   * already carries are replaced: only the facts say what is there.
   */
  expect?(action: z.output<Params>, facts: TargetFacts): z.output<Params>;
  /** The reasons a signed action does not say what it expects to find (empty when it says all it must). */
  unexpected?(action: z.output<Params>): string[];
}

/** Infers an action's types from its params and bounds schemas, so its methods need no annotations. */
export const defineAction = <Params extends ActionParams, Bounds extends z.ZodObject>(
  spec: ActionSpec<Params, Bounds>,
): ActionSpec<Params, Bounds> => spec;

/** `namespace/Kind/name`, or `node/name`: a target in one token, as message groups and alert titles name it. */
export const targetPath = (target: ActionTarget): string =>
  target.namespace === undefined
    ? `${target.kind.toLowerCase()}/${target.name}`
    : `${target.namespace}/${target.kind}/${target.name}`;

export const workloadTarget = (action: { namespace: string; kind: string; name: string }): ActionTarget => ({
  apiVersion: 'apps/v1',
  kind: action.kind,
  name: action.name,
  namespace: action.namespace,
});

export const nodeTarget = (node: string): ActionTarget => ({ apiVersion: 'v1', kind: 'Node', name: node });

/** `namespace/Kind/name` of a workload, as humans read it in a description. */
export const workloadPath = (action: { namespace: string; kind: string; name: string }): string =>
  `${action.namespace}/${action.kind}/${action.name}`;
