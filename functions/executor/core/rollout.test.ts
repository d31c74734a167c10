import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1DaemonSet, V1Deployment, V1StatefulSet } from '@kubernetes/client-node';
import { rolloutProgress } from './rollout.js';

const deployment = (status: V1Deployment['status'], generation = 2, replicas = 3): V1Deployment => ({
  metadata: { generation },
  spec: { replicas, selector: {}, template: {} },
  status,
});

describe('rollout progress, by the rules of kubectl rollout status', () => {
  it('waits until the controller has seen the latest generation', () => {
    const progress = rolloutProgress('Deployment', deployment({ observedGeneration: 1, updatedReplicas: 3 }));
    assert.equal(progress.done, false);
    assert.match(progress.detail, /generation 2/);
  });

  it('waits for updated, then for old replicas to go, then for availability', () => {
    const steps: V1Deployment['status'][] = [
      { observedGeneration: 2, updatedReplicas: 1, replicas: 4, availableReplicas: 3 },
      { observedGeneration: 2, updatedReplicas: 3, replicas: 4, availableReplicas: 3 },
      { observedGeneration: 2, updatedReplicas: 3, replicas: 3, availableReplicas: 2 },
    ];
    for (const status of steps) assert.equal(rolloutProgress('Deployment', deployment(status)).done, false);
    const done = rolloutProgress(
      'Deployment',
      deployment({ observedGeneration: 2, updatedReplicas: 3, replicas: 3, availableReplicas: 3 }),
    );
    assert.equal(done.done, true);
  });

  it('gives up at once when the deployment exceeded its progress deadline', () => {
    const progress = rolloutProgress(
      'Deployment',
      deployment({
        observedGeneration: 2,
        conditions: [
          { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'stuck' },
        ],
      }),
    );
    assert.equal(progress.failed, true);
  });

  it('requires a StatefulSet to reach its update revision with every replica ready', () => {
    const statefulSet = (status: V1StatefulSet['status']): V1StatefulSet => ({
      metadata: { generation: 1 },
      spec: { replicas: 2, selector: {}, serviceName: 's', template: {} },
      status,
    });
    const base = { observedGeneration: 1, replicas: 2, readyReplicas: 2 };
    assert.equal(
      rolloutProgress('StatefulSet', statefulSet({ ...base, currentRevision: 'a', updateRevision: 'b' }))
        .done,
      false,
    );
    assert.equal(
      rolloutProgress('StatefulSet', statefulSet({ ...base, currentRevision: 'b', updateRevision: 'b' }))
        .done,
      true,
    );
  });

  it('requires every scheduled DaemonSet pod to be updated and available', () => {
    const daemonSet = (available: number): V1DaemonSet => ({
      metadata: { generation: 1 },
      status: {
        observedGeneration: 1,
        desiredNumberScheduled: 2,
        updatedNumberScheduled: 2,
        numberAvailable: available,
        currentNumberScheduled: 2,
        numberMisscheduled: 0,
        numberReady: available,
      },
    });
    assert.equal(rolloutProgress('DaemonSet', daemonSet(1)).done, false);
    assert.equal(rolloutProgress('DaemonSet', daemonSet(2)).done, true);
  });
});
