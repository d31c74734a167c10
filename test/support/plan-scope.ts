import type { PlanScope, RemediationAction } from '../../functions/shared/contracts/index.js';

/**
 * The scope a planner would sign for these actions (tests only): their namespace (or `fallbackNamespace` for a
 * plan that names none), the workload they name, and the nodes they touch.
 */
export function scopeOfActions(
  clusterId: string,
  fallbackNamespace: string,
  actions: readonly RemediationAction[],
): PlanScope {
  const namespaced = actions.find((a) => 'namespace' in a);
  const workload = actions.find((a) => 'kind' in a);
  return {
    clusterId,
    namespace: namespaced && 'namespace' in namespaced ? namespaced.namespace : fallbackNamespace,
    workload: workload && 'kind' in workload ? { kind: workload.kind, name: workload.name } : null,
    nodes: actions.flatMap((a) => ('node' in a ? [a.node] : [])),
  };
}
