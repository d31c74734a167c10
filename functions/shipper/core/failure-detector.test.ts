import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { detectFailures } from './failure-detector.js';

const started = new Date('2026-11-21T09:00:00Z');

function pod(statuses: V1ContainerStatus[], status: V1Pod['status'] = {}): V1Pod {
  return {
    metadata: { namespace: 'shop', name: 'cart-7d9f-abcde', uid: 'uid-1' },
    spec: { containers: [{ name: 'app', image: 'cart:1' }] },
    status: { phase: 'Running', ...status, containerStatuses: statuses },
  };
}

const base: V1ContainerStatus = { name: 'app', image: 'cart:1', imageID: '', ready: true, restartCount: 0 };

describe('failures in a pod status', () => {
  it('keys an OOM kill by the run that was killed, whether seen as state or as lastState', () => {
    const killed = detectFailures(
      pod([{ ...base, state: { terminated: { reason: 'OOMKilled', exitCode: 137, startedAt: started } } }]),
    );
    const restarted = detectFailures(
      pod([
        {
          ...base,
          restartCount: 1,
          state: { running: { startedAt: started } },
          lastState: { terminated: { reason: 'OOMKilled', exitCode: 137 } },
        },
      ]),
    );
    assert.equal(killed.length, 1);
    assert.equal(killed[0]!.reason, 'OOMKilled');
    assert.equal(killed[0]!.dedupeKey, restarted[0]!.dedupeKey);
    assert.equal(restarted[0]!.previousLog, true);
  });

  it('sees the next OOM kill as a new occurrence', () => {
    const second = detectFailures(
      pod([{ ...base, restartCount: 2, lastState: { terminated: { reason: 'OOMKilled', exitCode: 137 } } }]),
    );
    assert.equal(second[0]!.dedupeKey, 'uid-1/app/OOMKilled/1');
  });

  it('reports CrashLoopBackOff once per restart, with the waiting message', () => {
    const found = detectFailures(
      pod([
        {
          ...base,
          ready: false,
          restartCount: 3,
          state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s' } },
          lastState: { terminated: { reason: 'Error', exitCode: 1 } },
        },
      ]),
    );
    assert.deepEqual(
      found.map((f) => [f.reason, f.dedupeKey, f.message]),
      [['CrashLoopBackOff', 'uid-1/app/CrashLoopBackOff/3', 'back-off 40s']],
    );
  });

  it('treats ErrImagePull and ImagePullBackOff as one occurrence per container', () => {
    const err = detectFailures(
      pod([{ ...base, ready: false, state: { waiting: { reason: 'ErrImagePull' } } }]),
    );
    const backoff = detectFailures(
      pod([{ ...base, ready: false, state: { waiting: { reason: 'ImagePullBackOff' } } }]),
    );
    assert.equal(err[0]!.reason, 'ImagePullBackOff');
    assert.equal(err[0]!.dedupeKey, backoff[0]!.dedupeKey);
  });

  it('reports eviction and unschedulable pods without a container', () => {
    const evicted = detectFailures(pod([], { phase: 'Failed', reason: 'Evicted', message: 'low on memory' }));
    const pending = detectFailures(
      pod([], {
        phase: 'Pending',
        conditions: [
          { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes' },
        ],
      }),
    );
    assert.deepEqual(
      [...evicted, ...pending].map((f) => [f.reason, f.container, f.message]),
      [
        ['Evicted', undefined, 'low on memory'],
        ['Pending', undefined, '0/3 nodes'],
      ],
    );
  });

  it('finds nothing in a healthy pod', () => {
    assert.deepEqual(detectFailures(pod([{ ...base, state: { running: { startedAt: started } } }])), []);
  });
});
