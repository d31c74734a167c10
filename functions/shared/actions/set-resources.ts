import { z } from 'zod';
import { ContainerName, NamespaceName, ObjectName } from '../contracts/common.js';
import { incidentWorkload, sameQuantity, withWorkload } from './checks.js';
import type { ContainerFacts } from './facts.js';
import { defineAction, workloadPath, workloadTarget } from './spec.js';

const Quantities = z.object({
  memoryBytes: z.number().positive().optional(),
  cpuCores: z.number().positive().optional(),
});

export const SetResourcesAction = z.object({
  action: z.literal('set-resources'),
  namespace: NamespaceName,
  kind: z.enum(['Deployment', 'StatefulSet', 'DaemonSet']),
  name: ObjectName,
  container: ContainerName,
  limits: Quantities,
  requests: Quantities.optional(),
  /**
   * The limits and requests the change replaces, as the planner's facts had them (never the model's word): the
   * executor refuses when the live container differs, so a bound checked at planning still holds.
   */
  fromLimits: Quantities.optional(),
  fromRequests: Quantities.optional(),
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
    // Fighting a VPA is no remedy: it rewrites the resources on the next pod it admits.
    if (workload.resourcesAutoscaler) {
      return [
        ...reasons,
        `VerticalPodAutoscaler ${workload.resourcesAutoscaler} owns the resources of ${workload.kind}/${workload.name}`,
      ];
    }
    const container = workload.containers.find((c) => c.name === action.container);
    if (!container)
      return [...reasons, `container ${action.container} is not in ${workload.kind}/${workload.name}`];
    if (action.limits.memoryBytes === undefined && action.limits.cpuCores === undefined) {
      reasons.push('no limit to change');
    }
    const moved = RESOURCES.flatMap((resource) => movedSince(action, container, resource));
    if (moved.length > 0) return [...reasons, ...moved];
    for (const resource of RESOURCES) {
      reasons.push(...resourceRefusals(action, container, resource, bounds));
    }
    return reasons;
  },
  after: (action, facts) =>
    withWorkload(facts, (workload) => ({
      ...workload,
      containers: workload.containers.map((container) =>
        container.name === action.container
          ? {
              ...container,
              limits: { ...container.limits, ...action.limits },
              requests: { ...container.requests, ...action.requests },
            }
          : container,
      ),
    })),
  expect(action, facts) {
    const { fromLimits: _limits, fromRequests: _requests, ...rest } = action;
    const container = incidentWorkload(action, facts).workload?.containers.find(
      (c) => c.name === action.container,
    );
    if (!container) return rest;
    const current = (set: SetResources['limits'] | undefined, live: ContainerFacts['limits']) =>
      Object.fromEntries(
        RESOURCES.filter((r) => set?.[r] !== undefined && live[r] !== undefined).map((r) => [r, live[r]]),
      );
    return {
      ...rest,
      fromLimits: current(action.limits, container.limits),
      ...(action.requests ? { fromRequests: current(action.requests, container.requests) } : {}),
    };
  },
  unexpected(action) {
    const missing = RESOURCES.flatMap((r) => [
      ...(action.limits[r] !== undefined && action.fromLimits?.[r] === undefined ? [`${r} limit`] : []),
      ...(action.requests?.[r] !== undefined && action.fromRequests?.[r] === undefined
        ? [`${r} request`]
        : []),
    ]);
    return missing.length > 0
      ? [`the plan does not say which ${missing.join(', ')} it expects to replace (fromLimits, fromRequests)`]
      : [];
  },
});

const RESOURCES = ['memoryBytes', 'cpuCores'] as const;

/** The limit or request the plan expects to replace is not what the container has now. */
function movedSince(
  action: SetResources,
  container: ContainerFacts,
  resource: 'memoryBytes' | 'cpuCores',
): string[] {
  const reasons: string[] = [];
  for (const [section, expected] of [
    ['limit', action.fromLimits],
    ['request', action.fromRequests],
  ] as const) {
    const stated = expected?.[resource];
    if (stated === undefined) continue;
    const live = (section === 'limit' ? container.limits : container.requests)[resource];
    if (live === undefined || !sameQuantity(stated, live)) {
      reasons.push(
        `${resource} ${section} of ${action.container} moved since the plan was made: it expects ${stated}, the container has ${live ?? 'none'}`,
      );
    }
  }
  return reasons;
}

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
