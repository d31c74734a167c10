import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubernetesObject } from '@kubernetes/client-node';
import { ConcurrentUpdateError } from '../../../shared/errors.js';
import { KubernetesConflictError } from '../errors.js';
import type { ClusterPort } from '../ports.js';
import { conflictBackoffMs, type StepContext } from './applier.js';
import { scaleApplier } from './scale.js';

const action = {
  action: 'scale',
  namespace: 'shop',
  kind: 'Deployment',
  name: 'checkout',
  replicas: 3,
} as const;

/** A Deployment whose status the controller keeps rewriting: the first `conflicts` writes find it changed. */
function rollingDeployment(conflicts: number) {
  let resourceVersion = 1;
  const writes: string[] = [];
  const cluster = {
    read: async () =>
      ({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'checkout', namespace: 'shop', resourceVersion: String(resourceVersion) },
        spec: { replicas: 1 },
      }) as KubernetesObject,
    patch: async (body: KubernetesObject, _kind: unknown, options?: { dryRun?: boolean }) => {
      if (options?.dryRun) return body;
      if (writes.filter((w) => w === 'conflict').length < conflicts) {
        resourceVersion += 1;
        writes.push('conflict');
        throw new KubernetesConflictError('the object has been modified');
      }
      writes.push(`written at ${body.metadata?.resourceVersion}`);
      return body;
    },
  } as unknown as ClusterPort;
  return { cluster, writes };
}

const context = (cluster: ClusterPort, waits: number[], conflictAttempts = 5): StepContext => ({
  cluster,
  planId: 'plan-1',
  stepIndex: 0,
  now: () => new Date('2026-12-01T10:00:00Z'),
  conflictAttempts,
  sleep: async (milliseconds) => {
    waits.push(milliseconds);
  },
});

describe('a write that finds its target changed (HTTP 409)', () => {
  it('reads again and writes after a growing pause, until it lands', async () => {
    const { cluster, writes } = rollingDeployment(3);
    const waits: number[] = [];
    await scaleApplier.apply(action, context(cluster, waits), async () => {});
    assert.deepEqual(writes, ['conflict', 'conflict', 'conflict', 'written at 4']);
    assert.equal(waits.length, 3);
    assert.ok(waits[0]! < waits[2]!, `${waits}`);
  });

  it('gives up with a retryable error after its attempts, without a pause after the last', async () => {
    const { cluster, writes } = rollingDeployment(10);
    const waits: number[] = [];
    await assert.rejects(
      scaleApplier.apply(action, context(cluster, waits, 3), async () => {}),
      (error: unknown) => error instanceof ConcurrentUpdateError && error.retryable,
    );
    assert.equal(writes.length, 3);
    assert.equal(waits.length, 2);
  });

  it('pauses 100 ms doubling per attempt, jittered by ±50 %', () => {
    assert.equal(
      conflictBackoffMs(1, () => 0.5),
      100,
    );
    assert.equal(
      conflictBackoffMs(3, () => 0.5),
      400,
    );
    assert.equal(
      conflictBackoffMs(2, () => 0),
      100,
    );
    assert.equal(
      conflictBackoffMs(2, () => 0.999),
      300,
    );
  });
});
