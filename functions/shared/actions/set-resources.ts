import { z } from 'zod';
import { ContainerName, NamespaceName, ObjectName } from '../contracts/common.js';
import { incidentWorkload } from './checks.js';
import type { ContainerFacts } from './facts.js';
import { defineAction, workloadPath, workloadTarget } from './spec.js';

export const SetResourcesAction = z.object({
  action: z.literal('set-resources'),
  namespace: NamespaceName,
  kind: z.enum(['Deployment', 'StatefulSet', 'DaemonSet']),
  name: ObjectName,
  container: ContainerName,
  limits: z.object({
    memoryBytes: z.number().positive().optional(),
    cpuCores: z.number().positive().optional(),
  }),
  requests: z
    .object({ memoryBytes: z.number().positive().optional(), cpuCores: z.number().positive().optional() })
    .optional(),
});
type SetResources = z.infer<typeof SetResourcesAction>;

const GIB = 1024 ** 3;

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

export const setResourcesSpec = defineAction({
  params: SetResourcesAction,
  description:
    'Raise the memory and/or CPU limits (and optionally requests) of one container of the incident’s ' +
    'workload. Use for OOMKilled or a forecast limit breach. Bounded: may only rise, by a limited factor, ' +
    'under an absolute cap, and never below observed usage.',
  risk: 'medium',
  scope: 'workload',
  enabledByDefault: true,
  bounds: SetResourcesBounds,
  defaultBounds: { maxIncreaseFactor: 2, maxMemoryBytes: 8 * GIB, maxCpuCores: 4 },
  target: workloadTarget,
  describe: (action) =>
    `set ${action.container} of ${workloadPath(action)} limits ${JSON.stringify(action.limits)}`,
  check(action, facts, bounds) {
    const { reasons, workload } = incidentWorkload(action, facts);
    if (!workload) return reasons;
    const container = workload.containers.find((c) => c.name === action.container);
    if (!container)
      return [...reasons, `container ${action.container} is not in ${workload.kind}/${workload.name}`];
    if (action.limits.memoryBytes === undefined && action.limits.cpuCores === undefined) {
      reasons.push('no limit to change');
    }
    for (const resource of ['memoryBytes', 'cpuCores'] as const) {
      reasons.push(...resourceRefusals(action, container, resource, bounds));
    }
    return reasons;
  },
});

/** The limit and request of one resource: each may only rise, within the bounds, and the request under the limit. */
function resourceRefusals(
  action: SetResources,
  container: ContainerFacts,
  resource: 'memoryBytes' | 'cpuCores',
  bounds: SetResourcesBounds,
): string[] {
  const reasons: string[] = [];
  const cap = resource === 'memoryBytes' ? bounds.maxMemoryBytes : bounds.maxCpuCores;
  const label = resource === 'memoryBytes' ? 'memory' : 'CPU';
  const limit = action.limits[resource];
  const request = action.requests?.[resource];
  if (limit !== undefined) {
    reasons.push(
      ...checkRaise(`${label} limit`, limit, container.limits[resource], cap, bounds.maxIncreaseFactor),
    );
    const peak = container.peakUsage[resource];
    if (peak !== undefined && limit < peak)
      reasons.push(`${label} limit ${limit} is below observed usage ${peak}`);
  }
  if (request !== undefined) {
    reasons.push(
      ...checkRaise(`${label} request`, request, container.requests[resource], cap, bounds.maxIncreaseFactor),
    );
    const effectiveLimit = limit ?? container.limits[resource];
    if (effectiveLimit === undefined) reasons.push(`${label} request set without a known ${label} limit`);
    else if (request > effectiveLimit)
      reasons.push(`${label} request ${request} is above its limit ${effectiveLimit}`);
  }
  return reasons;
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
