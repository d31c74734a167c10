import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubernetesObject } from '@kubernetes/client-node';
import { KubernetesConflictError, SafetyLimitError } from './errors.js';
import type { ClusterPort, ObjectRef } from './ports.js';
import { SAFETY_ANNOTATIONS, SAFETY_LEASE, SafetyLedger } from './safety.js';

/** One object store with resourceVersions, as the API server keeps them; `conflicts` fails that many replaces. */
function memoryCluster(options: { conflicts?: number } = {}) {
  const objects = new Map<string, KubernetesObject>();
  let version = 0;
  let conflicts = options.conflicts ?? 0;
  const key = (ref: ObjectRef) => `${ref.kind}/${ref.namespace}/${ref.name}`;
  const refOf = (o: KubernetesObject): ObjectRef => ({
    apiVersion: o.apiVersion ?? '',
    kind: o.kind ?? '',
    name: o.metadata?.name ?? '',
    namespace: o.metadata?.namespace ?? '',
  });
  const stored = <T extends KubernetesObject>(o: KubernetesObject) =>
    structuredClone({ ...o, metadata: { ...o.metadata, resourceVersion: String(++version) } }) as T;
  const unused = () => Promise.reject(new Error('not used'));
  const cluster: ClusterPort = {
    read: async <T extends KubernetesObject>(ref: ObjectRef) =>
      structuredClone(objects.get(key(ref))) as T | undefined,
    list: unused,
    async create<T extends KubernetesObject>(o: T) {
      if (objects.has(key(refOf(o)))) return undefined;
      const saved = stored<T>(o);
      objects.set(key(refOf(o)), saved);
      return structuredClone(saved);
    },
    async replace<T extends KubernetesObject>(o: T) {
      const current = objects.get(key(refOf(o)));
      if (conflicts > 0 || current?.metadata?.resourceVersion !== o.metadata?.resourceVersion) {
        conflicts -= 1;
        throw new KubernetesConflictError('changed since read');
      }
      const saved = stored<T>(o);
      objects.set(key(refOf(o)), saved);
      return structuredClone(saved);
    },
    patch: unused,
    delete: unused,
    evict: unused,
  };
  const lease = () => objects.get(`Lease/kubepulse/${SAFETY_LEASE}`);
  return { cluster, objects, lease };
}

const limits = { maxWritesPerHour: 5, maxRollbacksPerHour: 3 };
const at = (minutes: number) => new Date(Date.UTC(2026, 11, 3, 12, minutes));

describe('the executor’s write budget and circuit breaker', () => {
  it('reserves writes per plan until the hourly budget is spent, then refuses with write-budget', async () => {
    const { cluster } = memoryCluster();
    const safety = new SafetyLedger(cluster, 'kubepulse', limits);
    await safety.reserve('p1', 3, at(0), true);
    await safety.reserve('p1', 3, at(1), true); // a resumed plan: reserved once
    await safety.reserve('p2', 2, at(2), true);
    await assert.rejects(
      safety.reserve('p3', 1, at(3), true),
      (error: unknown) =>
        error instanceof SafetyLimitError &&
        error.code === 'write-budget' &&
        /budget of 5 writes per hour is spent \(5 used, this plan needs 1\)/.test(error.message),
    );
  });

  it('forgets reservations older than an hour', async () => {
    const { cluster } = memoryCluster();
    const safety = new SafetyLedger(cluster, 'kubepulse', limits);
    await safety.reserve('p1', 5, at(0), true);
    await safety.reserve('p2', 5, at(61), true);
  });

  it('opens the breaker on the Nth rollback within an hour and refuses automatic plans with circuit-open', async () => {
    const { cluster, lease } = memoryCluster();
    const safety = new SafetyLedger(cluster, 'kubepulse', limits);
    assert.equal(await safety.recordRollback('p1', 'verification failed', at(0)), undefined);
    assert.equal(await safety.recordRollback('p1', 'counted once', at(1)), undefined);
    assert.equal(await safety.recordRollback('p2', 'verification failed', at(2)), undefined);
    const opened = await safety.recordRollback('p3', 'usage check failed', at(3));
    assert.match(
      opened?.reason ?? '',
      /3 rollbacks within an hour \(plans p1, p2, p3; last: usage check failed\)/,
    );
    assert.ok(lease()?.metadata?.annotations?.[SAFETY_ANNOTATIONS.circuitOpen]);
    await assert.rejects(
      safety.reserve('p4', 1, at(4), true),
      (error: unknown) =>
        error instanceof SafetyLimitError &&
        error.code === 'circuit-open' &&
        /an operator must reset it/.test(error.message),
    );
    // A plan a human approved is that human's call; the budget still applies.
    await safety.reserve('p5', 1, at(5), false);
    // Hours later, still open: only an operator closes it.
    assert.ok(await safety.circuit());
    await assert.rejects(safety.reserve('p6', 1, at(300), true), /circuit-open/);
  });

  it('treats a breaker annotation an operator set by hand, whatever its text, as open', async () => {
    const { cluster, objects } = memoryCluster();
    const safety = new SafetyLedger(cluster, 'kubepulse', limits);
    await safety.reserve('p1', 1, at(0), true);
    const lease = objects.get(`Lease/kubepulse/${SAFETY_LEASE}`)!;
    lease.metadata!.annotations![SAFETY_ANNOTATIONS.circuitOpen] = 'maintenance window';
    assert.match((await safety.circuit())?.reason ?? '', /maintenance window/);
    await assert.rejects(safety.reserve('p2', 1, at(1), true), /circuit-open/);
  });

  it('re-reads and retries when another executor wrote the Lease in between', async () => {
    const { cluster } = memoryCluster({ conflicts: 2 });
    const safety = new SafetyLedger(cluster, 'kubepulse', limits);
    await safety.reserve('p1', 1, at(0), true);
  });
});
