import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { namespaceMatches } from '../../shared/actions/policy.js';
import {
  type FailureEvent,
  type FailureEventBatch,
  type InventorySnapshot,
  MAX_LOG_TAIL_BYTES,
  NamespaceName,
  ObjectName,
  type PodInventory,
  SCHEMA_VERSION,
} from '../../shared/contracts/index.js';
import { describeError } from '../../shared/errors.js';
import { shortId } from '../../shared/ids.js';
import type { LoggerPort } from '../../shared/logger.js';
import { createRedactor, type Redactor } from '../../shared/redaction/redact.js';
import type { ShipperMetrics } from '../metrics.js';
import { detectFailures, type FailureOccurrence } from './failure-detector.js';
import { nodeInventory, podInventory } from './inventory.js';
import type { Outbox } from './outbox.js';
import type { ReplicaSetOwnerLookup, ReplicaSetReplicasLookup } from './owner.js';
import type { LogSource } from './ports.js';

/** What the informers hold, read when a snapshot is taken. */
export interface ClusterCache {
  pods(): readonly V1Pod[];
  nodes(): readonly V1Node[];
  replicaSetOwner: ReplicaSetOwnerLookup;
  /** Absent: inventories carry no replica counts (the planner then escalates instead of scaling). */
  replicaSetReplicas?: ReplicaSetReplicasLookup;
  /** The newest Warning event about a pod, to explain a failure its status does not describe. */
  latestPodWarning(namespace: string, pod: string): string | undefined;
}

export interface ClusterReporterDeps {
  clusterId: string;
  cache: ClusterCache;
  outbox: Pick<Outbox, 'enqueue'>;
  /** Absent: failure events carry no log tail. */
  logs?: LogSource;
  /** Where a log tail may be read at all (deny wins); unset: everywhere. */
  logTailScope?: { allow: readonly string[]; deny: readonly string[] };
  metrics: ShipperMetrics;
  logger: LoggerPort;
  now: () => Date;
  /** Pods per snapshot message; a larger cluster is sent as several partial snapshots. */
  podsPerSnapshot: number;
  /** Dedupe keys remembered; the oldest are forgotten beyond this. */
  maxRememberedFailures: number;
  /** Removes secrets from event messages and log tails before they leave the cluster; the built-in rules by default. */
  redactor?: Redactor;
}

const BUILT_IN_REDACTOR = createRedactor();

/**
 * Turns what the informers see into messages: inventory snapshots (complete ones periodically, partial ones for
 * pods that changed) and failure events, each occurrence once per process. Event ids are derived from the
 * dedupe key, so the occurrences a restarted shipper sees again carry the same id and consumers drop them.
 */
export class ClusterReporter {
  private readonly changedPods = new Map<string, V1Pod>();
  private readonly reported = new Set<string>();
  private sequence = 0;

  constructor(private readonly deps: ClusterReporterDeps) {}

  /** Informer add/update: remembered for the next partial snapshot, checked for failures at once. */
  async podChanged(pod: V1Pod): Promise<void> {
    this.changedPods.set(`${pod.metadata?.namespace}/${pod.metadata?.name}`, pod);
    await this.reportFailures(pod);
  }

  podDeleted(pod: V1Pod): void {
    this.changedPods.delete(`${pod.metadata?.namespace}/${pod.metadata?.name}`);
  }

  /** Queues a partial snapshot of the pods that changed since the last one; false when none did. */
  sendChanges(): boolean {
    if (this.changedPods.size === 0) return false;
    const pods = [...this.changedPods.values()];
    this.changedPods.clear();
    this.sendSnapshots(this.inventoryOf(pods), [], false);
    return true;
  }

  /** Queues the whole picture: every pod and node. */
  sendComplete(): void {
    this.changedPods.clear();
    const nodes = this.deps.cache
      .nodes()
      .map(nodeInventory)
      .filter((n) => n !== undefined);
    this.sendSnapshots(this.inventoryOf(this.deps.cache.pods()), nodes, true);
  }

  private inventoryOf(pods: readonly V1Pod[]): PodInventory[] {
    return pods
      .map((pod) => podInventory(pod, this.deps.cache.replicaSetOwner, this.deps.cache.replicaSetReplicas))
      .filter((p) => p !== undefined);
  }

  private sendSnapshots(pods: PodInventory[], nodes: InventorySnapshot['nodes'], complete: boolean): void {
    const { clusterId, podsPerSnapshot, metrics, now } = this.deps;
    const chunks: PodInventory[][] = [];
    for (let i = 0; i < pods.length; i += podsPerSnapshot) chunks.push(pods.slice(i, i + podsPerSnapshot));
    if (chunks.length === 0) chunks.push([]);
    // A complete snapshot replaces what the consumer knows; one split over several messages cannot say that.
    const wholeInOne = complete && chunks.length === 1;
    const takenAt = now().toISOString();
    chunks.forEach((chunk, index) => {
      const snapshot: InventorySnapshot = {
        schemaVersion: SCHEMA_VERSION,
        kind: 'inventory-snapshot',
        clusterId,
        snapshotId: `inventory-${Date.parse(takenAt)}-${++this.sequence}`,
        takenAt,
        complete: wholeInOne,
        pods: chunk,
        nodes: index === 0 ? nodes : [],
      };
      this.deps.outbox.enqueue(snapshot);
      metrics.inventorySnapshots.inc({ complete: String(wholeInOne) });
    });
  }

  private async reportFailures(pod: V1Pod): Promise<void> {
    const namespace = NamespaceName.safeParse(pod.metadata?.namespace);
    const name = ObjectName.safeParse(pod.metadata?.name);
    if (!namespace.success || !name.success) return;
    for (const occurrence of detectFailures(pod)) {
      if (this.reported.has(occurrence.dedupeKey)) continue;
      this.remember(occurrence.dedupeKey);
      const event = await this.failureEvent(pod, namespace.data, name.data, occurrence);
      const batch: FailureEventBatch = {
        schemaVersion: SCHEMA_VERSION,
        kind: 'failure-events',
        clusterId: this.deps.clusterId,
        batchId: `failure-${event.eventId}`,
        sentAt: this.deps.now().toISOString(),
        events: [event],
      };
      this.deps.outbox.enqueue(batch);
      this.deps.metrics.failureEvents.inc({ reason: event.reason });
      this.deps.logger.info('failure detected', {
        reason: event.reason,
        namespace: event.namespace,
        pod: event.pod,
        container: event.container,
        eventId: event.eventId,
      });
    }
  }

  private async failureEvent(
    pod: V1Pod,
    namespace: string,
    name: string,
    occurrence: FailureOccurrence,
  ): Promise<FailureEvent> {
    const inventory = podInventory(pod, this.deps.cache.replicaSetOwner, this.deps.cache.replicaSetReplicas);
    const warning = this.deps.cache.latestPodWarning(namespace, name);
    // Redacted whole before it is cut, so a cut cannot separate a secret from the key that gives it away.
    const message = this.redact([occurrence.message, warning].filter(Boolean).join(' | ')).slice(0, 1024);
    const logTail = occurrence.container ? await this.logTail(namespace, name, occurrence) : undefined;
    return {
      eventId: `fe-${shortId(`${this.deps.clusterId}|${occurrence.dedupeKey}`, 32)}`,
      reason: occurrence.reason,
      observedAt: this.deps.now().toISOString(),
      namespace,
      pod: name,
      ...(occurrence.container ? { container: occurrence.container } : {}),
      ...(inventory?.owner ? { owner: inventory.owner } : {}),
      ...(inventory?.node ? { node: inventory.node } : {}),
      message,
      count: 1,
      ...(logTail ? { logTail } : {}),
    };
  }

  private async logTail(
    namespace: string,
    pod: string,
    occurrence: FailureOccurrence,
  ): Promise<string | undefined> {
    const { logs, logger, logTailScope } = this.deps;
    if (!logs || !occurrence.container) return undefined;
    // Not read, so it cannot leave the cluster: the event still reports what happened, without the log.
    if (logTailScope && !logTailAllowed(namespace, logTailScope)) return undefined;
    try {
      const text = await logs.tail({
        namespace,
        pod,
        container: occurrence.container,
        previous: occurrence.previousLog,
        reason: occurrence.reason,
      });
      return text ? redactedTail(text, MAX_LOG_TAIL_BYTES, (t) => this.redact(t)) : undefined;
    } catch (error) {
      logger.debug('no log tail for a failure event', { namespace, pod, error: describeError(error) });
      return undefined;
    }
  }

  private redact(text: string): string {
    return (this.deps.redactor ?? BUILT_IN_REDACTOR).redact(text).text;
  }

  private remember(key: string): void {
    this.reported.add(key);
    if (this.reported.size > this.deps.maxRememberedFailures) {
      const oldest = this.reported.values().next().value;
      if (oldest !== undefined) this.reported.delete(oldest);
    }
  }
}

/**
 * The end of a log within maxBytes, with nothing secret in it: the whole text is redacted before the cut (a key
 * block whose BEGIN line the cut would drop is recognised while it is whole), the partial first line a cut leaves
 * is dropped (it may be a secret's value without its key; in a single long line, up to its first blank), and what remains is redacted again, for text that
 * arrived already cut (the API server's own byte limit).
 */
export function redactedTail(text: string, maxBytes: number, redact: (text: string) => string): string {
  const whole = redact(text);
  const tail = lastBytes(whole, maxBytes);
  if (tail === whole) return whole;
  // One long line has no line to drop: drop up to its first blank instead.
  const boundary = tail.search(/\n/) >= 0 ? tail.indexOf('\n') : tail.search(/\s/);
  return redact(boundary >= 0 ? tail.slice(boundary + 1) : '');
}

/** The end of a text within maxBytes of UTF-8, never starting in the middle of a character. */
export function lastBytes(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  let start = bytes.length - maxBytes;
  while (start < bytes.length && (bytes[start]! & 0xc0) === 0x80) start++;
  return bytes.subarray(start).toString('utf8');
}

/** Deny wins; then the namespace must match an allowed name or glob. */
export function logTailAllowed(
  namespace: string,
  scope: { allow: readonly string[]; deny: readonly string[] },
): boolean {
  if (scope.deny.some((pattern) => namespaceMatches(namespace, pattern))) return false;
  return scope.allow.some((pattern) => namespaceMatches(namespace, pattern));
}
