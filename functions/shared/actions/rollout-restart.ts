import { z } from 'zod';
import { NamespaceName, ObjectName } from '../contracts/common.js';
import { incidentWorkload, withWorkload } from './checks.js';
import { defineAction, NoBounds, workloadPath, workloadTarget } from './spec.js';

export const RolloutRestartAction = z.object({
  action: z.literal('rollout-restart'),
  namespace: NamespaceName,
  kind: z.enum(['Deployment', 'StatefulSet', 'DaemonSet']),
  name: ObjectName,
});

export const rolloutRestartSpec = defineAction({
  params: RolloutRestartAction,
  description:
    'Restart every pod of the incident’s workload with a rolling update. Use when memory grows steadily ' +
    '(a leak) or the process is wedged; it does not fix a limit that is too low.',
  risk: 'medium',
  scope: 'workload',
  enabledByDefault: true,
  bounds: NoBounds,
  defaultBounds: {},
  target: workloadTarget,
  describe: (action) => `restart ${workloadPath(action)}`,
  check: (action, facts) => incidentWorkload(action, facts).reasons,
  // Deny by default: while the restart rolls, one replica is counted as not ready (a later delete-pod of the
  // same plan must still leave enough running).
  after: (_action, facts) =>
    withWorkload(facts, (workload) => ({
      ...workload,
      ...(workload.readyReplicas !== undefined
        ? { readyReplicas: Math.max(0, workload.readyReplicas - 1) }
        : {}),
    })),
});
