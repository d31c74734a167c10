import { ApiException, type CoreV1Api, type V1ConfigMap } from '@kubernetes/client-node';
import { withDeadline } from '../../shared/deadline.js';
import { DependencyUnavailableError } from '../../shared/errors.js';
import type { CheckpointStore } from '../core/ports.js';

const KEY = 'samplesThrough';

/**
 * The checkpoint in a ConfigMap of the shipper's own namespace, written through the API server (so it survives
 * pod restarts and node loss without a volume). One shipper per cluster: the Deployment runs one replica with
 * the Recreate strategy, so there is a single writer.
 */
export class ConfigMapCheckpointStore implements CheckpointStore {
  private readonly api: Pick<
    CoreV1Api,
    'readNamespacedConfigMap' | 'replaceNamespacedConfigMap' | 'createNamespacedConfigMap'
  >;

  constructor(
    core: CoreV1Api,
    private readonly namespace: string,
    private readonly name: string,
    requestTimeoutMs = 15_000,
  ) {
    // A hung request would stall the sampling loop that waits on the checkpoint; a timeout is retried instead.
    this.api = {
      readNamespacedConfigMap: withDeadline(core.readNamespacedConfigMap.bind(core), requestTimeoutMs),
      replaceNamespacedConfigMap: withDeadline(core.replaceNamespacedConfigMap.bind(core), requestTimeoutMs),
      createNamespacedConfigMap: withDeadline(core.createNamespacedConfigMap.bind(core), requestTimeoutMs),
    } as typeof this.api;
  }

  async load(): Promise<number | undefined> {
    let configMap: V1ConfigMap;
    try {
      configMap = await this.api.readNamespacedConfigMap({ name: this.name, namespace: this.namespace });
    } catch (error) {
      if (error instanceof ApiException && error.code === 404) return undefined;
      throw unavailable('reading', error);
    }
    const value = Number(configMap.data?.[KEY]);
    return Number.isInteger(value) && value > 0 ? value : undefined;
  }

  async save(samplesThrough: number): Promise<void> {
    const body: V1ConfigMap = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: this.name,
        namespace: this.namespace,
        labels: {
          'app.kubernetes.io/name': 'kubepulse-shipper',
          'app.kubernetes.io/component': 'checkpoint',
        },
      },
      data: { [KEY]: String(samplesThrough), savedAt: new Date().toISOString() },
    };
    try {
      await this.api.replaceNamespacedConfigMap({ name: this.name, namespace: this.namespace, body });
    } catch (error) {
      if (!(error instanceof ApiException && error.code === 404)) throw unavailable('saving', error);
      try {
        await this.api.createNamespacedConfigMap({ namespace: this.namespace, body });
      } catch (createError) {
        throw unavailable('creating', createError);
      }
    }
  }
}

function unavailable(what: string, error: unknown): DependencyUnavailableError {
  return new DependencyUnavailableError(
    'kube-apiserver',
    `${what} the checkpoint failed: ${(error as Error).message}`,
    {
      cause: error,
    },
  );
}
