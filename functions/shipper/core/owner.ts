import type { V1OwnerReference, V1Pod } from '@kubernetes/client-node';
import type { OwnerRef } from '../../shared/contracts/index.js';

const KNOWN_KINDS = new Set<OwnerRef['kind']>([
  'Deployment',
  'StatefulSet',
  'DaemonSet',
  'ReplicaSet',
  'Job',
  'CronJob',
  'Pod',
  'Node',
]);

/**
 * The controller of a ReplicaSet (its Deployment) from the ReplicaSet informer's cache: null when the ReplicaSet
 * has none, undefined when the ReplicaSet is not (yet) in the cache.
 */
export type ReplicaSetOwnerLookup = (
  namespace: string,
  replicaSet: string,
) => V1OwnerReference | null | undefined;

/**
 * The workload a pod belongs to, as a person would name it: a ReplicaSet's pods belong to its Deployment.
 * Without the ReplicaSet at hand (not yet in the cache) the pod-template-hash label still tells: a Deployment
 * names its ReplicaSets `<deployment>-<pod-template-hash>`.
 */
export function resolveOwner(pod: V1Pod, replicaSetOwner: ReplicaSetOwnerLookup): OwnerRef | undefined {
  const controller =
    pod.metadata?.ownerReferences?.find((ref) => ref.controller) ?? pod.metadata?.ownerReferences?.[0];
  if (!controller) return undefined;
  if (controller.kind === 'ReplicaSet') {
    const namespace = pod.metadata?.namespace ?? '';
    const parent = replicaSetOwner(namespace, controller.name);
    if (parent && KNOWN_KINDS.has(parent.kind as OwnerRef['kind'])) {
      return { kind: parent.kind as OwnerRef['kind'], name: parent.name };
    }
    const hash = pod.metadata?.labels?.['pod-template-hash'];
    if (parent === undefined && hash && controller.name.endsWith(`-${hash}`)) {
      return { kind: 'Deployment', name: controller.name.slice(0, -(hash.length + 1)) };
    }
  }
  return KNOWN_KINDS.has(controller.kind as OwnerRef['kind'])
    ? { kind: controller.kind as OwnerRef['kind'], name: controller.name }
    : undefined;
}

/** A ReplicaSet's desired and ready replicas from the informer's cache; undefined when it is not cached. */
export type ReplicaSetReplicasLookup = (
  namespace: string,
  replicaSet: string,
) => { desired: number; ready: number } | undefined;
