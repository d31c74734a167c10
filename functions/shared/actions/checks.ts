import { sameWorkload, type TargetFacts, type WorkloadFacts } from './facts.js';

/**
 * The checks actions share: does the action stay on the incident's own workload or nodes? Each returns the
 * reasons it must be refused; an action's own spec adds its bounds.
 */
export function incidentWorkload(
  action: { namespace: string; kind: string; name: string },
  facts: TargetFacts,
): { reasons: string[]; workload?: WorkloadFacts } {
  const subject = `${action.kind}/${action.name} in ${action.namespace}`;
  const { incident } = facts;
  if (action.namespace !== incident.namespace) {
    return { reasons: [`${subject} is outside the incident's namespace ${incident.namespace}`] };
  }
  if (!incident.workload)
    return { reasons: [`the incident has no owning workload, so ${subject} is not its own`] };
  if (!sameWorkload(action, incident.workload)) {
    return {
      reasons: [
        `${subject} is not the incident's workload ${incident.workload.kind}/${incident.workload.name}`,
      ],
    };
  }
  const workload = facts.workload;
  if (!workload || !sameWorkload(workload, action) || workload.namespace !== action.namespace) {
    return { reasons: [`nothing is known about ${subject}`] };
  }
  return { reasons: [], workload };
}

export function incidentNode(node: string, facts: TargetFacts): string[] {
  return facts.incident.nodes.includes(node) ? [] : [`node ${node} does not host the incident's pods`];
}
