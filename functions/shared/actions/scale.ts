import { z } from 'zod';
import { NamespaceName, ObjectName } from '../contracts/common.js';
import { incidentWorkload, withWorkload } from './checks.js';
import { defineAction, workloadPath, workloadTarget } from './spec.js';

export const ScaleAction = z.object({
  action: z.literal('scale'),
  namespace: NamespaceName,
  kind: z.enum(['Deployment', 'StatefulSet']),
  name: ObjectName,
  replicas: z.number().int().min(0).max(1000),
  /**
   * The replica count the plan expects to find, written in by the planner from its facts (never the model's
   * word): the executor refuses when the live count differs, so 3 → 4 never runs as 8 → 4.
   */
  fromReplicas: z.number().int().min(0).max(1000).optional(),
});

export const ScaleBounds = z.object({
  /** Never below 1: scaling a workload to zero is an outage, not a remediation. */
  minReplicas: z.number().int().min(1).max(1000),
  maxReplicas: z.number().int().min(1).max(1000),
  /** The new count may be at most ceil(current × factor) and at least floor(current ÷ factor). */
  maxChangeFactor: z.number().min(1).max(10),
});
export type ScaleBounds = z.infer<typeof ScaleBounds>;

export const scaleSpec = defineAction({
  params: ScaleAction,
  description:
    'Set the replica count of the incident’s Deployment or StatefulSet. Use for sustained CPU saturation ' +
    'across replicas. Bounded: never to zero, at most a limited factor away from the current count.',
  risk: 'low',
  scope: 'workload',
  enabledByDefault: true,
  bounds: ScaleBounds,
  defaultBounds: { minReplicas: 1, maxReplicas: 20, maxChangeFactor: 2 },
  boundsProblems: (bounds) =>
    bounds.minReplicas > bounds.maxReplicas ? ['minReplicas is above maxReplicas'] : [],
  target: workloadTarget,
  describe: (action) => `scale ${workloadPath(action)} to ${action.replicas}`,
  check(action, facts, bounds) {
    const { reasons, workload } = incidentWorkload(action, facts);
    if (!workload) return reasons;
    if (workload.autoscaler) {
      return [
        ...reasons,
        `HorizontalPodAutoscaler ${workload.autoscaler} owns the replicas of ${workload.kind}/${workload.name}`,
      ];
    }
    const current = workload.replicas;
    if (current === undefined) return [...reasons, 'current replica count is unknown'];
    if (action.fromReplicas !== undefined && action.fromReplicas !== current) {
      return [
        ...reasons,
        `replicas moved since the plan was made: it expects ${action.fromReplicas}, ${workload.kind}/${workload.name} has ${current}`,
      ];
    }
    if (current === 0)
      return [...reasons, 'the workload is scaled to zero on purpose; scaling it up is for humans'];
    const { replicas } = action;
    if (replicas < bounds.minReplicas)
      reasons.push(`${replicas} replicas is below the minimum of ${bounds.minReplicas}`);
    if (replicas > bounds.maxReplicas)
      reasons.push(`${replicas} replicas is above the maximum of ${bounds.maxReplicas}`);
    const highest = Math.ceil(current * bounds.maxChangeFactor);
    const lowest = Math.floor(current / bounds.maxChangeFactor);
    if (replicas > highest) {
      reasons.push(
        `${current} → ${replicas} replicas exceeds ×${bounds.maxChangeFactor} (at most ${highest})`,
      );
    }
    if (replicas < lowest) {
      reasons.push(
        `${current} → ${replicas} replicas exceeds ÷${bounds.maxChangeFactor} (at least ${lowest})`,
      );
    }
    return reasons;
  },
  // Scaling out is not instant, so no more replicas are counted ready; scaling in takes ready ones away.
  after: (action, facts) =>
    withWorkload(facts, (workload) => ({
      ...workload,
      replicas: action.replicas,
      ...(workload.readyReplicas !== undefined
        ? { readyReplicas: Math.min(workload.readyReplicas, action.replicas) }
        : {}),
    })),
  // Fewer replicas is capacity removed, which is what an injected "halve it" asks for: never automatic.
  atLeast(action, facts) {
    const current = facts.workload?.replicas;
    if (current === undefined || action.replicas >= current) return undefined;
    return {
      verdict: 'needs-approval',
      reason: `scaling in (${current} → ${action.replicas}) is never automatic`,
    };
  },
  expect(action, facts) {
    const { fromReplicas: _stated, ...rest } = action;
    const current = incidentWorkload(action, facts).workload?.replicas;
    return current === undefined ? rest : { ...rest, fromReplicas: current };
  },
  unexpected: (action) =>
    action.fromReplicas === undefined
      ? ['the plan does not say which replica count it expects (fromReplicas)']
      : [],
});
