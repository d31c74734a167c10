import { z } from 'zod';
import { NamespaceName, ObjectName } from '../contracts/common.js';
import { sameWorkload } from './facts.js';
import { defineAction } from './spec.js';

export const DeletePodAction = z.object({
  action: z.literal('delete-pod'),
  namespace: NamespaceName,
  pod: ObjectName,
});

export const DeletePodBounds = z.object({
  /** At least this many other ready replicas must remain while the pod is recreated. */
  minOtherReplicas: z.number().int().min(0).max(100),
});
export type DeletePodBounds = z.infer<typeof DeletePodBounds>;

export const deletePodSpec = defineAction({
  params: DeletePodAction,
  description:
    'Delete one pod of the incident’s workload so its controller recreates it. Use for a single wedged ' +
    'replica; never for a pod without a controller.',
  risk: 'low',
  scope: 'pod',
  enabledByDefault: true,
  bounds: DeletePodBounds,
  defaultBounds: { minOtherReplicas: 1 },
  target: (action) => ({ apiVersion: 'v1', kind: 'Pod', name: action.pod, namespace: action.namespace }),
  describe: (action) => `delete pod ${action.namespace}/${action.pod}`,
  check(action, facts, bounds) {
    const reasons: string[] = [];
    if (action.namespace !== facts.incident.namespace) {
      return [
        `pod ${action.namespace}/${action.pod} is outside the incident's namespace ${facts.incident.namespace}`,
      ];
    }
    const pod = facts.pods?.find((p) => p.namespace === action.namespace && p.name === action.pod);
    if (!pod) return [`pod ${action.namespace}/${action.pod} is unknown`];
    if (!pod.controller) return [`pod ${action.pod} has no controller and would not come back`];
    if (!sameWorkload(pod.controller, facts.incident.workload)) {
      return [
        `pod ${action.pod} belongs to ${pod.controller.kind}/${pod.controller.name}, not the incident's workload`,
      ];
    }
    const workload = facts.workload;
    const running =
      workload && sameWorkload(workload, pod.controller)
        ? (workload.readyReplicas ?? workload.replicas)
        : undefined;
    if (running === undefined) return ['the number of other replicas is unknown'];
    if (running - 1 < bounds.minOtherReplicas) {
      reasons.push(
        `only ${Math.max(0, running - 1)} other replicas would remain (at least ${bounds.minOtherReplicas})`,
      );
    }
    return reasons;
  },
  // The pod is gone and its controller has one ready replica fewer until the new one is up.
  after(action, facts) {
    const pod = facts.pods?.find((p) => p.namespace === action.namespace && p.name === action.pod);
    const workload = facts.workload;
    const ofWorkload = !!pod && !!workload && sameWorkload(pod.controller, workload);
    const ready = workload?.readyReplicas ?? workload?.replicas;
    return {
      ...facts,
      ...(facts.pods ? { pods: facts.pods.filter((p) => p !== pod) } : {}),
      ...(ofWorkload && ready !== undefined
        ? { workload: { ...workload, readyReplicas: Math.max(0, ready - 1) } }
        : {}),
    };
  },
});
