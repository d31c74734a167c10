import {
  AppsV1Api,
  type CoreV1Api,
  type CoreV1Event,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  ListWatch,
  type V1Node,
  type V1OwnerReference,
  type V1Pod,
  type V1ReplicaSet,
  Watch,
} from '@kubernetes/client-node';
import { describeError } from '../../shared/errors.js';
import type { LoggerPort } from '../../shared/logger.js';
import { type BackoffPolicy, equalJitterDelayMs } from '../../shared/retry.js';
import type { ClusterCache } from '../core/cluster-reporter.js';

export interface ClusterHandlers {
  podChanged(pod: V1Pod): void;
  podDeleted(pod: V1Pod): void;
  watchError(resource: string): void;
}

const MAX_REMEMBERED_WARNINGS = 10_000;

interface Startable {
  resource: string;
  attempt: number;
  synced: boolean;
  informer: { start(): Promise<void>; stop(): Promise<void> };
}

interface Tracked<T extends KubernetesObject> extends Startable {
  informer: ListWatch<T>;
}

/**
 * List-watch informers over pods, nodes, ReplicaSets (to name a pod's Deployment) and Warning events about pods.
 * client-node's ListWatch stops on an error; each is started again after a backoff (relisting when its
 * resourceVersion expired), and a successful list resets the backoff.
 */
export class ClusterInformers implements ClusterCache {
  private readonly podWatch: Tracked<V1Pod>;
  private readonly nodeWatch: Tracked<V1Node>;
  private readonly replicaSetWatch: Tracked<V1ReplicaSet>;
  private readonly eventWatch: Tracked<CoreV1Event>;
  private readonly warnings = new Map<string, string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly syncWaiters: Array<() => void> = [];
  private stopped = false;

  constructor(
    kubeConfig: KubeConfig,
    core: CoreV1Api,
    private readonly handlers: ClusterHandlers,
    private readonly logger: LoggerPort,
    private readonly backoff: BackoffPolicy,
  ) {
    const apps = kubeConfig.makeApiClient(AppsV1Api);
    const watch = new Watch(kubeConfig);
    const warningsOnPods = 'involvedObject.kind=Pod,type=Warning';
    this.podWatch = this.track('pods', watch, '/api/v1/pods', () => core.listPodForAllNamespaces());
    this.nodeWatch = this.track('nodes', watch, '/api/v1/nodes', () => core.listNode());
    this.replicaSetWatch = this.track('replicasets', watch, '/apis/apps/v1/replicasets', () =>
      apps.listReplicaSetForAllNamespaces(),
    );
    this.eventWatch = this.track(
      'events',
      watch,
      '/api/v1/events',
      () => core.listEventForAllNamespaces({ fieldSelector: warningsOnPods }),
      warningsOnPods,
    );
    const pods = this.podWatch.informer;
    pods.on('add', (pod) => handlers.podChanged(pod));
    pods.on('update', (pod) => handlers.podChanged(pod));
    pods.on('delete', (pod) => handlers.podDeleted(pod));
    const remember = (event: CoreV1Event) => this.rememberWarning(event);
    this.eventWatch.informer.on('add', remember);
    this.eventWatch.informer.on('update', remember);
  }

  /** Starts every informer; resolves once each has listed once (or when stopped). */
  async start(): Promise<void> {
    // Pods last: their owners resolve through the ReplicaSet cache from the first event on.
    const first = [this.replicaSetWatch, this.nodeWatch, this.eventWatch];
    for (const tracked of first) this.launch(tracked);
    await this.synced(first);
    this.launch(this.podWatch);
    await this.synced([this.podWatch]);
  }

  get allSynced(): boolean {
    return [this.podWatch, this.nodeWatch, this.replicaSetWatch, this.eventWatch].every((t) => t.synced);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    for (const notify of this.syncWaiters.splice(0)) notify();
    await Promise.all(
      [this.podWatch, this.nodeWatch, this.replicaSetWatch, this.eventWatch].map((t) => t.informer.stop()),
    );
  }

  pods(): readonly V1Pod[] {
    return this.podWatch.informer.list();
  }

  nodes(): readonly V1Node[] {
    return this.nodeWatch.informer.list();
  }

  readonly replicaSetOwner = (namespace: string, name: string): V1OwnerReference | null | undefined => {
    const replicaSet = this.replicaSetWatch.informer.get(name, namespace);
    if (!replicaSet) return undefined;
    return replicaSet.metadata?.ownerReferences?.find((ref) => ref.controller) ?? null;
  };

  readonly replicaSetReplicas = (namespace: string, name: string) => {
    const replicaSet = this.replicaSetWatch.informer.get(name, namespace);
    if (!replicaSet) return undefined;
    return { desired: replicaSet.spec?.replicas ?? 1, ready: replicaSet.status?.readyReplicas ?? 0 };
  };

  latestPodWarning(namespace: string, pod: string): string | undefined {
    return this.warnings.get(`${namespace}/${pod}`);
  }

  private rememberWarning(event: CoreV1Event): void {
    const { namespace, name } = event.involvedObject;
    if (!namespace || !name) return;
    const key = `${namespace}/${name}`;
    this.warnings.delete(key);
    this.warnings.set(key, `${event.reason ?? 'Warning'}: ${event.message ?? ''}`.slice(0, 512));
    if (this.warnings.size > MAX_REMEMBERED_WARNINGS) {
      const oldest = this.warnings.keys().next().value;
      if (oldest !== undefined) this.warnings.delete(oldest);
    }
  }

  private track<T extends KubernetesObject>(
    resource: string,
    watch: Watch,
    path: string,
    list: () => Promise<KubernetesListObject<T>>,
    fieldSelector?: string,
  ): Tracked<T> {
    const tracked = { resource, attempt: 0, synced: false } as Tracked<T>;
    const listed = async () => {
      const result = await list();
      tracked.attempt = 0;
      if (!tracked.synced) {
        tracked.synced = true;
        for (const notify of this.syncWaiters.splice(0)) notify();
      }
      return result;
    };
    tracked.informer = new ListWatch(path, watch, listed, false, undefined, fieldSelector);
    tracked.informer.on('error', (error) => this.failed(tracked, error));
    return tracked;
  }

  private launch(tracked: Startable): void {
    if (this.stopped) return;
    tracked.informer.start().catch((error) => this.failed(tracked, error));
  }

  private failed(tracked: Startable, error: unknown): void {
    if (this.stopped) return;
    this.handlers.watchError(tracked.resource);
    const delay = equalJitterDelayMs(tracked.attempt++, this.backoff);
    this.logger.warn('watch failed; restarting it', {
      resource: tracked.resource,
      retryInMs: delay,
      error: describeError(error),
    });
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.launch(tracked);
    }, delay);
    this.timers.add(timer);
  }

  private async synced(trackeds: Startable[]): Promise<void> {
    while (!this.stopped && !trackeds.every((t) => t.synced)) {
      await new Promise<void>((resolve) => this.syncWaiters.push(resolve));
    }
  }
}
