import type { V1Container } from '@kubernetes/client-node';
import type { ActionOf } from '../../../shared/actions/index.js';
import { formatCpu, formatMemory, parseQuantity } from '../../../shared/quantity.js';
import { TargetMismatchError } from '../errors.js';
import { rolloutProgress, type Workload } from '../rollout.js';
import { type Applier, patchApplier } from './applier.js';

type SetResources = ActionOf<'set-resources'>;
type Section = 'limits' | 'requests';
/** Kubernetes quantities by resource name; null where the container had none. */
type Quantities = Partial<Record<'memory' | 'cpu', string | null>>;
type Resources = Record<Section, Quantities>;

function wanted(action: SetResources): Resources {
  const toQuantities = (values: { memoryBytes?: number; cpuCores?: number } | undefined): Quantities => ({
    ...(values?.memoryBytes !== undefined ? { memory: formatMemory(values.memoryBytes) } : {}),
    ...(values?.cpuCores !== undefined ? { cpu: formatCpu(values.cpuCores) } : {}),
  });
  return { limits: toQuantities(action.limits), requests: toQuantities(action.requests) };
}

function containerOf(action: SetResources, workload: Workload): V1Container {
  const container = workload.spec?.template.spec?.containers.find((c) => c.name === action.container);
  if (!container) {
    throw new TargetMismatchError(
      `${action.kind} ${action.namespace}/${action.name} has no container ${action.container}`,
    );
  }
  return container;
}

/** The current values of the keys `written` names, so exactly those can be put back. */
function currentOf(container: V1Container, written: Resources): Resources {
  const pick = (section: Section): Quantities =>
    Object.fromEntries(
      Object.keys(written[section]).map((key) => [key, container.resources?.[section]?.[key] ?? null]),
    );
  return { limits: pick('limits'), requests: pick('requests') };
}

const sameQuantity = (a: string | null | undefined, b: string | null | undefined) =>
  parseQuantity(a ?? undefined) === parseQuantity(b ?? undefined);

const describe = (resources: Resources) =>
  (['limits', 'requests'] as const)
    .flatMap((section) =>
      Object.entries(resources[section]).map(([key, value]) => `${section}.${key}=${value ?? '-'}`),
    )
    .join(' ');

const containerPatch = (name: string, resources: Resources) => ({
  spec: { template: { spec: { containers: [{ name, resources }] } } },
});

/** Limits and requests of one container, by strategic merge on the pod template (containers merge by name). */
export const setResourcesApplier: Applier<SetResources> = patchApplier<SetResources, Workload>({
  patchKind: 'strategic-merge',
  change(action, current) {
    const written = wanted(action);
    const before = currentOf(containerOf(action, current), written);
    return {
      patch: containerPatch(action.container, written),
      undo: { before, written },
      detail: `${action.container}: ${describe(before)} → ${describe(written)}`,
    };
  },
  revert(action, current, undo) {
    const { before, written } = undo as { before: Resources; written: Resources };
    const now = currentOf(containerOf(action, current), written);
    for (const section of ['limits', 'requests'] as const) {
      for (const [key, value] of Object.entries(written[section])) {
        if (!sameQuantity(now[section][key as 'memory' | 'cpu'], value)) {
          return { skip: `${section}.${key} changed since; left as it is` };
        }
      }
    }
    return { patch: containerPatch(action.container, before) };
  },
  progress: (action, current) => rolloutProgress(action.kind, current),
});
