import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventAnomaly, podInventory, usageAnomaly } from '../../../test/support/planner-fixtures.js';
import { groupByIncident, incidentKeyOf, owningWorkloadOf, problemClassOf } from './correlate.js';

describe('incident correlation', () => {
  it('gives every replica of one Deployment with the same problem one fingerprint', () => {
    const replicas = ['checkout-7d9f8b6c5-x2x4z', 'checkout-7d9f8b6c5-abcde', 'checkout-5f6c7d8e9-qwert'];
    const anomalies = [
      ...replicas.map((pod) => usageAnomaly({ inventory: podInventory(pod) })),
      ...replicas.map((pod) => eventAnomaly('OOMKilled', {}, { inventory: podInventory(pod) })),
    ];
    const incidents = groupByIncident(anomalies);
    assert.equal(incidents.length, 1);
    assert.equal(incidents[0]!.anomalies.length, 6);
    assert.deepEqual(incidents[0]!.key.subject, { kind: 'Deployment', name: 'checkout' });
    assert.equal(incidents[0]!.key.problem, 'memory-exhaustion');
  });

  it('separates problems, workloads, namespaces and clusters', () => {
    const base = usageAnomaly();
    const variants = [
      usageAnomaly({ signal: 'cpu', metric: 'cpu_usage_cores' }),
      usageAnomaly({
        inventory: podInventory('payments-6b7c8d9f0-zzzzz', {
          owner: { kind: 'ReplicaSet', name: 'payments-6b7c8d9f0' },
        }),
      }),
      usageAnomaly({ clusterId: 'prod-us-1' }),
      usageAnomaly({ target: { ...base.target, namespace: 'billing' } }),
    ];
    const fingerprints = new Set([base, ...variants].map((a) => incidentKeyOf(a).fingerprint));
    assert.equal(fingerprints.size, 5);
  });

  it('classifies problems from usage signals and event reasons', () => {
    assert.equal(problemClassOf(usageAnomaly()), 'memory-exhaustion');
    assert.equal(
      problemClassOf(usageAnomaly({ signal: 'cpu', metric: 'cpu_usage_cores' })),
      'cpu-saturation',
    );
    assert.equal(problemClassOf(eventAnomaly('OOMKilled')), 'memory-exhaustion');
    assert.equal(problemClassOf(eventAnomaly('CrashLoopBackOff')), 'crash-loop');
    assert.equal(problemClassOf(eventAnomaly('ImagePullBackOff')), 'image-pull');
    assert.equal(
      problemClassOf(eventAnomaly('Evicted', { message: 'Pod ephemeral storage usage exceeds the limit' })),
      'eviction',
    );
    assert.equal(
      problemClassOf(eventAnomaly('Evicted', { message: 'The node was low on resource: memory.' })),
      'node-pressure',
    );
    assert.equal(problemClassOf(eventAnomaly('Pending')), 'pending');
    const unusual = usageAnomaly({
      reasons: [],
      problem: 'unusual-behaviour',
      unusual: { severity: 'warning', score: 0.93 },
    });
    assert.equal(problemClassOf(unusual), 'unusual-behaviour');
    // Its own incident, apart from the same workload's exhaustion.
    assert.notEqual(incidentKeyOf(unusual).fingerprint, incidentKeyOf(usageAnomaly()).fingerprint);
  });

  it('treats a crash loop of OOMKilled restarts as memory exhaustion', () => {
    const inventory = podInventory();
    inventory.containers[0]!.state = {
      state: 'waiting',
      reason: 'CrashLoopBackOff',
      lastTerminationReason: 'OOMKilled',
    };
    assert.equal(problemClassOf(eventAnomaly('CrashLoopBackOff', {}, { inventory })), 'memory-exhaustion');
  });

  it('groups node pressure by node, across workloads and namespaces', () => {
    const message = 'The node was low on resource: memory.';
    const a = eventAnomaly('Evicted', { message });
    const b = eventAnomaly(
      'Evicted',
      { message, namespace: 'billing' },
      {
        inventory: podInventory('payments-6b7c8d9f0-zzzzz', {
          namespace: 'billing',
          owner: { kind: 'ReplicaSet', name: 'payments-6b7c8d9f0' },
        }),
      },
    );
    const incidents = groupByIncident([a, b]);
    assert.equal(incidents.length, 1);
    assert.deepEqual(incidents[0]!.key.subject, { kind: 'Node', name: 'node-a' });
  });

  it('names the owning workload, falling back to the pod', () => {
    assert.deepEqual(owningWorkloadOf(usageAnomaly()), { kind: 'Deployment', name: 'checkout' });
    const statefulSet = podInventory('db-0', { owner: { kind: 'StatefulSet', name: 'db' } });
    assert.deepEqual(owningWorkloadOf(usageAnomaly({ inventory: statefulSet })), {
      kind: 'StatefulSet',
      name: 'db',
    });
    const job = podInventory('report-29012345-abcde', { owner: { kind: 'Job', name: 'report-29012345' } });
    assert.deepEqual(owningWorkloadOf(usageAnomaly({ inventory: job })), { kind: 'CronJob', name: 'report' });
    const bare = podInventory('debug-shell', { owner: undefined });
    delete bare.owner;
    assert.deepEqual(owningWorkloadOf(usageAnomaly({ inventory: bare })), {
      kind: 'Pod',
      name: 'debug-shell',
    });
  });
});
