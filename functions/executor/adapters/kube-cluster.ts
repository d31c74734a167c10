import {
  ApiException,
  CoreV1Api,
  type KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  PatchStrategy,
} from '@kubernetes/client-node';
import { withDeadline } from '../../shared/deadline.js';
import { DependencyUnavailableError } from '../../shared/errors.js';
import { EvictionBlockedError, KubernetesConflictError, KubernetesRequestError } from '../core/errors.js';
import type { ClusterPort, ObjectRef, PatchKind, WriteOptions } from '../core/ports.js';

export const FIELD_MANAGER = 'kubepulse-executor';

const PATCH_STRATEGY: Record<PatchKind, PatchStrategy> = {
  'strategic-merge': PatchStrategy.StrategicMergePatch,
  merge: PatchStrategy.MergePatch,
};

const dryRunParam = (options?: WriteOptions) => (options?.dryRun ? 'All' : undefined);

/**
 * ClusterPort over @kubernetes/client-node's generic object API, with its errors made typed. Every request is
 * bounded by `requestTimeoutMs`: an API server that accepts the connection and never answers must become a
 * retryable error (the plan's message comes back later), not a stuck executor.
 */
export function kubeCluster(
  kubeConfig: KubeConfig,
  options: { requestTimeoutMs?: number } = {},
): ClusterPort {
  const timeoutMs = options.requestTimeoutMs ?? 15_000;
  const api = boundedApi(kubeConfig, timeoutMs);
  return { ...readsOver(api), ...writesOver(api), evict: evictionOver(kubeConfig, timeoutMs) };
}

/**
 * A pod is removed through the Eviction API (policy/v1), never a plain DELETE: the API server then honours the
 * pod's PodDisruptionBudgets. Its 429 means a budget allows no disruption now (not throttling, which the
 * eviction subresource reports the same way only under a PDB), so it becomes EvictionBlockedError with the API
 * server's message. dryRun and the uid precondition travel in the Eviction's deleteOptions.
 */
function evictionOver(kubeConfig: KubeConfig, timeoutMs: number): ClusterPort['evict'] {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const create = withDeadline(core.createNamespacedPodEviction.bind(core), timeoutMs);
  return async (ref, options) => {
    const namespace = ref.namespace ?? '';
    const deleteOptions = {
      ...(options?.dryRun ? { dryRun: ['All'] } : {}),
      ...(options?.uid ? { preconditions: { uid: options.uid } } : {}),
    };
    try {
      await create({
        name: ref.name,
        namespace,
        body: {
          apiVersion: 'policy/v1',
          kind: 'Eviction',
          metadata: { name: ref.name, namespace },
          deleteOptions,
        },
        ...(options?.dryRun ? { dryRun: 'All' } : {}),
        fieldManager: FIELD_MANAGER,
      });
      return true;
    } catch (error) {
      if (statusOf(error) === 404) return false;
      if (statusOf(error) === 429) {
        throw new EvictionBlockedError(
          `evict ${describe(ref)}: refused by a PodDisruptionBudget: ${reasonOf(error as ApiException<unknown>)}`,
          { cause: error },
        );
      }
      throw translate(error, `evict ${describe(ref)}`);
    }
  };
}

type ObjectApi = Pick<KubernetesObjectApi, 'read' | 'list' | 'create' | 'replace' | 'patch' | 'delete'>;

function boundedApi(kubeConfig: KubeConfig, timeoutMs: number): ObjectApi {
  const raw = KubernetesObjectApi.makeApiClient(kubeConfig);
  const bounded = <A extends unknown[], R>(call: (...args: A) => Promise<R>) => withDeadline(call, timeoutMs);
  return {
    read: bounded(raw.read.bind(raw)),
    list: bounded(raw.list.bind(raw)),
    create: bounded(raw.create.bind(raw)),
    replace: bounded(raw.replace.bind(raw)),
    patch: bounded(raw.patch.bind(raw)),
    delete: bounded(raw.delete.bind(raw)),
  } as ObjectApi;
}

function readsOver(api: ObjectApi): Pick<ClusterPort, 'read' | 'list'> {
  return {
    async read<T extends KubernetesObject>(ref: ObjectRef) {
      try {
        return (await api.read<T>(headerOf(ref))) as T;
      } catch (error) {
        if (statusOf(error) === 404) return undefined;
        throw translate(error, `read ${describe(ref)}`);
      }
    },
    async list<T extends KubernetesObject>(
      apiVersion: string,
      kind: string,
      options: { namespace?: string; labelSelector?: string } = {},
    ) {
      try {
        const list = await api.list<T>(
          apiVersion,
          kind,
          options.namespace,
          undefined,
          undefined,
          undefined,
          undefined,
          options.labelSelector,
        );
        return list.items;
      } catch (error) {
        throw translate(error, `list ${kind} in ${options.namespace ?? 'the cluster'}`);
      }
    },
  };
}

function writesOver(api: ObjectApi): Pick<ClusterPort, 'create' | 'replace' | 'patch' | 'delete'> {
  return {
    async create<T extends KubernetesObject>(object: T, options?: WriteOptions) {
      try {
        return await api.create<T>(object, undefined, dryRunParam(options), FIELD_MANAGER);
      } catch (error) {
        if (statusOf(error) === 409) return undefined;
        throw translate(error, `create ${describe(refOf(object))}`);
      }
    },
    async replace<T extends KubernetesObject>(object: T) {
      try {
        return await api.replace<T>(object, undefined, undefined, FIELD_MANAGER);
      } catch (error) {
        throw translate(error, `replace ${describe(refOf(object))}`);
      }
    },
    async patch<T extends KubernetesObject>(patch: T, kind: PatchKind, options?: WriteOptions) {
      try {
        return await api.patch<T>(
          patch,
          undefined,
          dryRunParam(options),
          FIELD_MANAGER,
          undefined,
          PATCH_STRATEGY[kind],
        );
      } catch (error) {
        throw translate(error, `patch ${describe(refOf(patch))}`);
      }
    },
    async delete(ref: ObjectRef, options?: WriteOptions & { uid?: string }) {
      // With a DeleteOptions body the API server ignores the query parameters, dryRun included: so dryRun
      // goes in the body, next to the precondition. (A dryRun query beside a body deletes for real.)
      const body = {
        ...(options?.dryRun ? { dryRun: ['All'] } : {}),
        ...(options?.uid ? { preconditions: { uid: options.uid } } : {}),
      };
      try {
        await api.delete(headerOf(ref), undefined, undefined, undefined, undefined, undefined, body);
        return true;
      } catch (error) {
        if (statusOf(error) === 404) return false;
        throw translate(error, `delete ${describe(ref)}`);
      }
    },
  };
}

function headerOf(ref: ObjectRef) {
  return {
    apiVersion: ref.apiVersion,
    kind: ref.kind,
    metadata: { name: ref.name, ...(ref.namespace ? { namespace: ref.namespace } : {}) },
  };
}

function refOf(object: KubernetesObject): ObjectRef {
  return {
    apiVersion: object.apiVersion ?? '',
    kind: object.kind ?? '',
    name: object.metadata?.name ?? '',
    ...(object.metadata?.namespace ? { namespace: object.metadata.namespace } : {}),
  };
}

const describe = (ref: ObjectRef) => `${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`;

function statusOf(error: unknown): number | undefined {
  return error instanceof ApiException ? error.code : undefined;
}

/** The Status message the API server sent, which says why far better than the HTTP code alone. */
function reasonOf(error: ApiException<unknown>): string {
  const body = error.body as { message?: unknown } | string | undefined;
  if (typeof body === 'string') {
    try {
      const parsed = JSON.parse(body) as { message?: unknown };
      if (typeof parsed.message === 'string') return parsed.message;
    } catch {
      return body.slice(0, 500);
    }
  }
  if (body && typeof body === 'object' && typeof body.message === 'string') return body.message;
  return error.message;
}

function translate(error: unknown, what: string): Error {
  if (!(error instanceof ApiException)) {
    return new DependencyUnavailableError('kubernetes', `${what}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const reason = `${what}: HTTP ${error.code}: ${reasonOf(error)}`;
  if (error.code === 409) return new KubernetesConflictError(reason, { cause: error });
  if (error.code === 429 || error.code >= 500) {
    return new DependencyUnavailableError('kubernetes', reason, { cause: error });
  }
  return new KubernetesRequestError(error.code, reason, { cause: error });
}
