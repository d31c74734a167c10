import type { V1OwnerReference, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import type { ClusterPort } from './ports.js';

export interface ControllerRef {
  apiVersion: string;
  kind: string;
  name: string;
}

const controllerOf = (owners: V1OwnerReference[] | undefined): ControllerRef | undefined => {
  const owner = owners?.find((o) => o.controller);
  return owner ? { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.name } : undefined;
};

/**
 * The workload that owns a pod at the top: a ReplicaSet is resolved to its Deployment, as a human would name it.
 * Undefined for a bare pod, which nothing would recreate.
 */
export async function topController(cluster: ClusterPort, pod: V1Pod): Promise<ControllerRef | undefined> {
  const direct = controllerOf(pod.metadata?.ownerReferences);
  if (direct?.kind !== 'ReplicaSet') return direct;
  const replicaSet = await cluster.read<V1ReplicaSet>({ ...direct, namespace: pod.metadata?.namespace });
  return controllerOf(replicaSet?.metadata?.ownerReferences) ?? direct;
}
