import type { KubernetesObject } from '@kubernetes/client-node';
import type { RemediationAction, ResourceQuantities } from '../../shared/contracts/index.js';

/** Names one object the executor reads or writes. */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
}

/** Strategic merge knows list keys (containers merge by name); merge patch is plain JSON merge. */
export type PatchKind = 'strategic-merge' | 'merge';

export interface WriteOptions {
  /** Server-side dry run: admission and validation run, nothing is persisted. */
  dryRun?: boolean;
}

/**
 * The API server as the executor's core sees it. Every write names the executor as its field manager; a 409 is
 * thrown as KubernetesConflictError, a refusal (403, 422…) as KubernetesRequestError, an outage as
 * DependencyUnavailableError. The production adapter is kube-cluster.ts; the tests use it against a real API
 * server.
 */
export interface ClusterPort {
  /** Undefined when the object does not exist. */
  read<T extends KubernetesObject>(ref: ObjectRef): Promise<T | undefined>;
  list<T extends KubernetesObject>(
    apiVersion: string,
    kind: string,
    options?: { namespace?: string; labelSelector?: string },
  ): Promise<T[]>;
  /** Undefined when an object of that name already exists (409 AlreadyExists). */
  create<T extends KubernetesObject>(object: T, options?: WriteOptions): Promise<T | undefined>;
  /** Whole-object update guarded by metadata.resourceVersion. */
  replace<T extends KubernetesObject>(object: T): Promise<T>;
  /**
   * `patch` carries the object's apiVersion, kind and metadata.name/namespace; a metadata.resourceVersion in it
   * makes the write conditional (409 if the object changed since).
   */
  patch<T extends KubernetesObject>(patch: T, kind: PatchKind, options?: WriteOptions): Promise<T>;
  /** False when the object was already gone; `uid` guards against deleting a newer object of the same name. */
  delete(ref: ObjectRef, options?: WriteOptions & { uid?: string }): Promise<boolean>;
  /**
   * Evicts a pod (policy/v1 Eviction), honouring its PodDisruptionBudgets. False when the pod was already gone;
   * EvictionBlockedError when a budget allows no disruption now.
   */
  evict(pod: ObjectRef, options?: WriteOptions & { uid?: string }): Promise<boolean>;
}

/**
 * Where the executor learns actual usage, when the cluster has somewhere to ask (Prometheus). Optional: without
 * it, peak usage is unknown to the policy and verification stops at "the rollout completed and pods are ready".
 */
export interface UsageProbe {
  /** The highest recent usage of one container of a workload; fields it cannot tell are left out. */
  peakUsage(
    namespace: string,
    workload: { kind: string; name: string },
    container: string,
  ): Promise<ResourceQuantities>;
  /** After an action settled: does usage look healthy? Undefined when the probe has no opinion on this action. */
  check(action: RemediationAction): Promise<{ healthy: boolean; detail: string } | undefined>;
}
