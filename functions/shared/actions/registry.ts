import { z } from 'zod';
import {
  type ActionName,
  CordonAction,
  DeletePodAction,
  type RemediationAction,
  RolloutRestartAction,
  ScaleAction,
  SetResourcesAction,
  UncordonAction,
} from '../contracts/index.js';

/**
 * Every remediation action kubepulse knows, as data: what the LLM is told about it, the shape of its
 * parameters, how risky it is, and the bounds it must stay within. An action that is not in this registry
 * does not exist: the planner cannot propose it and the executor refuses it.
 */
export const RiskTier = z.enum(['low', 'medium', 'high']);
export type RiskTier = z.infer<typeof RiskTier>;

/** What an action touches: a workload or pod of the incident, or a node that hosts the incident's pods. */
export type ActionScope = 'workload' | 'pod' | 'node';

const GIB = 1024 ** 3;

// Each bounds schema has hard ceilings: a policy may tighten or relax the defaults, never beyond these.
export const ScaleBounds = z.object({
  /** Never below 1: scaling a workload to zero is an outage, not a remediation. */
  minReplicas: z.number().int().min(1).max(1000),
  maxReplicas: z.number().int().min(1).max(1000),
  /** The new count may be at most ceil(current × factor) and at least floor(current ÷ factor). */
  maxChangeFactor: z.number().min(1).max(10),
});
export type ScaleBounds = z.infer<typeof ScaleBounds>;

export const SetResourcesBounds = z.object({
  /** A limit or request may rise to at most current × factor, and never fall (lowering is not a remedy). */
  maxIncreaseFactor: z.number().min(1).max(4),
  maxMemoryBytes: z
    .number()
    .positive()
    .max(256 * GIB),
  maxCpuCores: z.number().positive().max(64),
});
export type SetResourcesBounds = z.infer<typeof SetResourcesBounds>;

export const DeletePodBounds = z.object({
  /** At least this many other ready replicas must remain while the pod is recreated. */
  minOtherReplicas: z.number().int().min(0).max(100),
});
export type DeletePodBounds = z.infer<typeof DeletePodBounds>;

export const CordonBounds = z.object({
  /** Refuse a cordon that would leave fewer schedulable nodes than this. */
  minSchedulableNodesAfter: z.number().int().min(1).max(1000),
});
export type CordonBounds = z.infer<typeof CordonBounds>;

const NoBounds = z.object({});

interface ActionDefinition<Params extends z.ZodType<RemediationAction>, Bounds extends z.ZodObject> {
  description: string;
  params: Params;
  risk: RiskTier;
  scope: ActionScope;
  bounds: Bounds;
  defaultBounds: z.infer<Bounds>;
}

export const ACTION_REGISTRY = {
  scale: {
    description:
      'Set the replica count of the incident’s Deployment or StatefulSet. Use for sustained CPU saturation ' +
      'across replicas. Bounded: never to zero, at most a limited factor away from the current count.',
    params: ScaleAction,
    risk: 'low',
    scope: 'workload',
    bounds: ScaleBounds,
    defaultBounds: { minReplicas: 1, maxReplicas: 20, maxChangeFactor: 2 },
  },
  'rollout-restart': {
    description:
      'Restart every pod of the incident’s workload with a rolling update. Use when memory grows steadily ' +
      '(a leak) or the process is wedged; it does not fix a limit that is too low.',
    params: RolloutRestartAction,
    risk: 'medium',
    scope: 'workload',
    bounds: NoBounds,
    defaultBounds: {},
  },
  'set-resources': {
    description:
      'Raise the memory and/or CPU limits (and optionally requests) of one container of the incident’s ' +
      'workload. Use for OOMKilled or a forecast limit breach. Bounded: may only rise, by a limited factor, ' +
      'under an absolute cap, and never below observed usage.',
    params: SetResourcesAction,
    risk: 'medium',
    scope: 'workload',
    bounds: SetResourcesBounds,
    defaultBounds: { maxIncreaseFactor: 2, maxMemoryBytes: 8 * GIB, maxCpuCores: 4 },
  },
  'delete-pod': {
    description:
      'Delete one pod of the incident’s workload so its controller recreates it. Use for a single wedged ' +
      'replica; never for a pod without a controller.',
    params: DeletePodAction,
    risk: 'low',
    scope: 'pod',
    bounds: DeletePodBounds,
    defaultBounds: { minOtherReplicas: 1 },
  },
  cordon: {
    description:
      'Mark a node that hosts the incident’s pods unschedulable, so no new pods land on it. Use for node ' +
      'memory, disk or PID pressure. Always reviewed by a human.',
    params: CordonAction,
    risk: 'high',
    scope: 'node',
    bounds: CordonBounds,
    defaultBounds: { minSchedulableNodesAfter: 2 },
  },
  uncordon: {
    description: 'Make a node that hosts the incident’s pods schedulable again, undoing a cordon.',
    params: UncordonAction,
    risk: 'medium',
    scope: 'node',
    bounds: NoBounds,
    defaultBounds: {},
  },
} as const satisfies {
  [Name in ActionName]: ActionDefinition<
    z.ZodType<Extract<RemediationAction, { action: Name }>>,
    z.ZodObject
  >;
};

export type ActionRegistry = typeof ACTION_REGISTRY;
export type ActionBounds = { [Name in ActionName]: z.infer<ActionRegistry[Name]['bounds']> };

export const ACTION_NAMES = Object.keys(ACTION_REGISTRY) as ActionName[];

/** Own properties only: `constructor` or `__proto__` are not actions. */
export function isRegisteredAction(name: unknown): name is ActionName {
  return typeof name === 'string' && Object.hasOwn(ACTION_REGISTRY, name);
}

export function defaultBounds(): ActionBounds {
  return Object.fromEntries(
    ACTION_NAMES.map((name) => [name, { ...ACTION_REGISTRY[name].defaultBounds }]),
  ) as ActionBounds;
}

/** How the actions are described to the LLM: only the enabled ones, with their risk. */
export function describeActions(
  enabled: readonly ActionName[],
): Array<{ name: string; description: string }> {
  return ACTION_NAMES.filter((name) => enabled.includes(name)).map((name) => ({
    name,
    description: `${ACTION_REGISTRY[name].description} (risk: ${ACTION_REGISTRY[name].risk})`,
  }));
}
