import { z } from 'zod';
import { ObjectName } from '../contracts/common.js';
import { incidentNode } from './checks.js';
import { defineAction, NoBounds, nodeTarget } from './spec.js';

export const UncordonAction = z.object({ action: z.literal('uncordon'), node: ObjectName });

export const uncordonSpec = defineAction({
  params: UncordonAction,
  description: 'Make a node that hosts the incident’s pods schedulable again, undoing a cordon.',
  risk: 'medium',
  scope: 'node',
  // Off unless a policy lists it: it is how a human ends a node incident, not something to automate.
  enabledByDefault: false,
  bounds: NoBounds,
  defaultBounds: {},
  target: (action) => nodeTarget(action.node),
  describe: (action) => `uncordon node ${action.node}`,
  check: (action, facts) => incidentNode(action.node, facts),
  // The node is counted schedulable only if it was known cordoned; whether it is Ready is not known here.
  after(action, facts) {
    const node = facts.nodes?.find((n) => n.name === action.node);
    if (!node?.unschedulable) return facts;
    return {
      ...facts,
      nodes: (facts.nodes ?? []).map((n) => (n.name === action.node ? { ...n, unschedulable: false } : n)),
    };
  },
});
