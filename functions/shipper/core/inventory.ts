import type { V1ContainerStatus, V1Node, V1Pod, V1ResourceRequirements } from '@kubernetes/client-node';
import {
  type ContainerInventory,
  ContainerName,
  NamespaceName,
  type NodeInventory,
  ObjectName,
  type PodInventory,
  type ResourceQuantities,
} from '../../shared/contracts/index.js';
import { parseQuantity } from '../../shared/quantity.js';
import { type ReplicaSetOwnerLookup, type ReplicaSetReplicasLookup, resolveOwner } from './owner.js';

const PHASES = new Set(['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown']);
const MAX_LABELS = 32;

function quantities(resources: Record<string, string> | undefined): ResourceQuantities {
  const memoryBytes = parseQuantity(resources?.memory);
  const cpuCores = parseQuantity(resources?.cpu);
  return {
    ...(memoryBytes !== undefined ? { memoryBytes } : {}),
    ...(cpuCores !== undefined ? { cpuCores } : {}),
  };
}

const truncate = (text: string | undefined, max: number) =>
  text === undefined ? undefined : text.slice(0, max);

function containerState(status: V1ContainerStatus | undefined): ContainerInventory['state'] {
  if (!status) return undefined;
  const lastTerminationReason = truncate(status.lastState?.terminated?.reason, 128);
  const last = lastTerminationReason ? { lastTerminationReason } : {};
  const { running, waiting, terminated } = status.state ?? {};
  if (running) return { state: 'running', ...last };
  if (waiting) {
    const reason = truncate(waiting.reason, 128);
    return { state: 'waiting', ...(reason ? { reason } : {}), ...last };
  }
  if (terminated) {
    const reason = truncate(terminated.reason, 128);
    return { state: 'terminated', ...(reason ? { reason } : {}), exitCode: terminated.exitCode, ...last };
  }
  return { state: 'unknown', ...last };
}

/** The inventory of one pod, or undefined for a pod whose names the contract cannot carry. */
export function podInventory(
  pod: V1Pod,
  replicaSetOwner: ReplicaSetOwnerLookup,
  replicaSetReplicas?: ReplicaSetReplicasLookup,
): PodInventory | undefined {
  const namespace = NamespaceName.safeParse(pod.metadata?.namespace);
  const name = ObjectName.safeParse(pod.metadata?.name);
  if (!namespace.success || !name.success) return undefined;
  const statuses = new Map((pod.status?.containerStatuses ?? []).map((s) => [s.name, s]));
  const containers: ContainerInventory[] = [];
  for (const container of pod.spec?.containers ?? []) {
    if (!ContainerName.safeParse(container.name).success) continue;
    const status = statuses.get(container.name);
    const resources: V1ResourceRequirements = container.resources ?? {};
    const state = containerState(status);
    containers.push({
      name: container.name,
      ...(container.image ? { image: container.image.slice(0, 512) } : {}),
      requests: quantities(resources.requests),
      limits: quantities(resources.limits),
      restartCount: status?.restartCount ?? 0,
      ...(state ? { state } : {}),
    });
  }
  if (containers.length === 0) return undefined;
  const owner = resolveOwner(pod, replicaSetOwner);
  // Outside a rollout a Deployment's replicas are its current ReplicaSet's, which is what scaling starts from.
  const controller = pod.metadata?.ownerReferences?.find((ref) => ref.controller);
  const ownerReplicas =
    owner?.kind === 'Deployment' && controller?.kind === 'ReplicaSet'
      ? replicaSetReplicas?.(namespace.data, controller.name)
      : undefined;
  const node = ObjectName.safeParse(pod.spec?.nodeName);
  const phase = pod.status?.phase;
  return {
    namespace: namespace.data,
    pod: name.data,
    ...(pod.metadata?.uid ? { uid: pod.metadata.uid.slice(0, 64) } : {}),
    ...(owner ? { owner } : {}),
    ...(ownerReplicas ? { ownerReplicas } : {}),
    ...(node.success ? { node: node.data } : {}),
    ...(phase && PHASES.has(phase) ? { phase: phase as PodInventory['phase'] } : {}),
    labels: Object.fromEntries(Object.entries(pod.metadata?.labels ?? {}).slice(0, MAX_LABELS)),
    containers,
  };
}

export function nodeInventory(node: V1Node): NodeInventory | undefined {
  const name = ObjectName.safeParse(node.metadata?.name);
  if (!name.success) return undefined;
  return {
    name: name.data,
    allocatable: quantities(node.status?.allocatable),
    unschedulable: node.spec?.unschedulable ?? false,
    conditions: (node.status?.conditions ?? [])
      .filter((c) => c.status === 'True' || c.status === 'False' || c.status === 'Unknown')
      .map((c) => ({ type: c.type.slice(0, 64), status: c.status as 'True' | 'False' | 'Unknown' })),
  };
}
