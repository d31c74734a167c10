import { z } from 'zod';
import { ObjectName } from '../contracts/common.js';
import { incidentNode } from './checks.js';
import { defineAction, nodeTarget } from './spec.js';

export const CordonAction = z.object({ action: z.literal('cordon'), node: ObjectName });

export const CordonBounds = z.object({
  /** Refuse a cordon that would leave fewer schedulable nodes than this. */
  minSchedulableNodesAfter: z.number().int().min(1).max(1000),
});
export type CordonBounds = z.infer<typeof CordonBounds>;

export const cordonSpec = defineAction({
  params: CordonAction,
  description:
    'Mark a node that hosts the incident’s pods unschedulable, so no new pods land on it. Use for node ' +
    'memory, disk or PID pressure. Always reviewed by a human.',
  risk: 'high',
  scope: 'node',
  enabledByDefault: true,
  bounds: CordonBounds,
  defaultBounds: { minSchedulableNodesAfter: 2 },
  target: (action) => nodeTarget(action.node),
  describe: (action) => `cordon node ${action.node}`,
  check(action, facts, bounds) {
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
  // One schedulable node fewer, unless it was cordoned already: the next cordon of the plan counts from here.
  after(action, facts) {
    const node = facts.nodes?.find((n) => n.name === action.node);
    if (node?.unschedulable) return facts;
    return {
      ...facts,
      ...(facts.nodes
        ? { nodes: facts.nodes.map((n) => (n.name === action.node ? { ...n, unschedulable: true } : n)) }
        : {}),
      ...(facts.schedulableNodes !== undefined ? { schedulableNodes: facts.schedulableNodes - 1 } : {}),
    };
  },
});
