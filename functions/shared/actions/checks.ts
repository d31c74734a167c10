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
  if (!facts.incident.nodes.includes(node)) return [`node ${node} does not host the incident's pods`];
  const { workload } = facts.incident;
  if (workload && facts.workloadNodes && !facts.workloadNodes.includes(node)) {
    return [
      `node ${node} is in the plan's scope but no pod of ${workload.kind}/${workload.name} runs on it now`,
    ];
  }
  return [];
}

/** Two quantities equal as parsed (`0.1` CPU may come back as `100m`): exact up to rounding. */
export const sameQuantity = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a));

/** The facts with the incident's workload replaced; unchanged when the facts know nothing about it. */
export function withWorkload(
  facts: TargetFacts,
  change: (workload: WorkloadFacts) => WorkloadFacts,
): TargetFacts {
  return facts.workload ? { ...facts, workload: change(facts.workload) } : facts;
}
