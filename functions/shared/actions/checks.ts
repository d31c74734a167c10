import type { ActionName, RemediationAction } from '../contracts/index.js';
import { sameWorkload, type TargetFacts, type WorkloadFacts } from './facts.js';
import type { ActionBounds } from './registry.js';

/**
 * Per action: does it stay on the incident's own targets, and within its bounds, given the facts? Each check
 * returns the reasons it must be refused (empty when it may go ahead). Unknown facts refuse: deny by default.
 */
type ActionCheck<Name extends ActionName> = (
  action: Extract<RemediationAction, { action: Name }>,
  facts: TargetFacts,
  bounds: ActionBounds[Name],
) => string[];

export const ACTION_CHECKS: { [Name in ActionName]: ActionCheck<Name> } = {
  scale(action, facts, bounds) {
    const { reasons, workload } = incidentWorkload(action, facts);
    if (!workload) return reasons;
    const current = workload.replicas;
    if (current === undefined) return [...reasons, 'current replica count is unknown'];
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

  'rollout-restart'(action, facts) {
    return incidentWorkload(action, facts).reasons;
  },

  'set-resources'(action, facts, bounds) {
    const { reasons, workload } = incidentWorkload(action, facts);
    if (!workload) return reasons;
    const container = workload.containers.find((c) => c.name === action.container);
    if (!container)
      return [...reasons, `container ${action.container} is not in ${workload.kind}/${workload.name}`];
    if (action.limits.memoryBytes === undefined && action.limits.cpuCores === undefined) {
      reasons.push('no limit to change');
    }
    const caps = { memoryBytes: bounds.maxMemoryBytes, cpuCores: bounds.maxCpuCores };
    for (const resource of ['memoryBytes', 'cpuCores'] as const) {
      const label = resource === 'memoryBytes' ? 'memory' : 'CPU';
      const limit = action.limits[resource];
      const request = action.requests?.[resource];
      if (limit !== undefined) {
        reasons.push(
          ...checkRaise(
            `${label} limit`,
            limit,
            container.limits[resource],
            caps[resource],
            bounds.maxIncreaseFactor,
          ),
        );
        const peak = container.peakUsage[resource];
        if (peak !== undefined && limit < peak)
          reasons.push(`${label} limit ${limit} is below observed usage ${peak}`);
      }
      if (request !== undefined) {
        reasons.push(
          ...checkRaise(
            `${label} request`,
            request,
            container.requests[resource],
            caps[resource],
            bounds.maxIncreaseFactor,
          ),
        );
        const effectiveLimit = limit ?? container.limits[resource];
        if (effectiveLimit === undefined) reasons.push(`${label} request set without a known ${label} limit`);
        else if (request > effectiveLimit)
          reasons.push(`${label} request ${request} is above its limit ${effectiveLimit}`);
      }
    }
    return reasons;
  },

  'delete-pod'(action, facts, bounds) {
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

  cordon(action, facts, bounds) {
    const reasons = incidentNode(action.node, facts);
    if (reasons.length > 0) return reasons;
    const node = facts.nodes?.find((n) => n.name === action.node);
    if (node?.unschedulable) return [];
    if (facts.schedulableNodes === undefined) return ['the number of schedulable nodes is unknown'];
    if (facts.schedulableNodes - 1 < bounds.minSchedulableNodesAfter) {
      return [
        `cordoning would leave ${facts.schedulableNodes - 1} schedulable nodes (at least ${bounds.minSchedulableNodesAfter})`,
      ];
    }
    return [];
  },

  uncordon(action, facts) {
    return incidentNode(action.node, facts);
  },
};

function incidentWorkload(
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

function incidentNode(node: string, facts: TargetFacts): string[] {
  return facts.incident.nodes.includes(node) ? [] : [`node ${node} does not host the incident's pods`];
}

function checkRaise(
  what: string,
  proposed: number,
  current: number | undefined,
  cap: number,
  factor: number,
): string[] {
  const reasons: string[] = [];
  if (proposed > cap) reasons.push(`${what} ${proposed} is above the cap of ${cap}`);
  if (current === undefined || current <= 0) {
    reasons.push(`current ${what} is unknown, so the change cannot be bounded`);
    return reasons;
  }
  if (proposed < current) reasons.push(`${what} would fall from ${current} to ${proposed}`);
  if (proposed > current * factor) {
    reasons.push(`${what} ${current} → ${proposed} exceeds ×${factor} (at most ${current * factor})`);
  }
  return reasons;
}
