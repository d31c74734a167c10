import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventAnomaly, podInventory, usageAnomaly } from '../../../test/support/planner-fixtures.js';
import { incidentKeyOf } from './correlate.js';
import { evidenceFromBatch } from './evidence.js';

describe('evidence from the batch', () => {
  it('gathers the workload’s pods, its newest replica counts and its pods’ failure events from other incidents', async () => {
    const older = podInventory('checkout-7d9f8b6c5-aaaaa', { ownerReplicas: { desired: 3, ready: 2 } });
    const newer = podInventory('checkout-7d9f8b6c5-bbbbb', { ownerReplicas: { desired: 4, ready: 4 } });
    const memory = usageAnomaly({ inventory: older, detectedAt: '2026-11-21T10:00:00.000Z' });
    // Another incident (a crash loop) of the same workload, and a pod of another workload.
    const crash = eventAnomaly(
      'CrashLoopBackOff',
      { logTail: 'FATAL out of memory' },
      { inventory: newer, detectedAt: '2026-11-21T10:02:00.000Z' },
    );
    const other = eventAnomaly(
      'OOMKilled',
      {},
      {
        inventory: podInventory('search-5c8b7d6f9-ccccc', {
          owner: { kind: 'ReplicaSet', name: 'search-5c8b7d6f9' },
          ownerReplicas: { desired: 9, ready: 9 },
        }),
      },
    );

    const evidence = await evidenceFromBatch([memory, crash, other])(incidentKeyOf(memory));
    assert.deepEqual(
      evidence.facts?.inventory?.map((pod) => pod.pod),
      ['checkout-7d9f8b6c5-bbbbb', 'checkout-7d9f8b6c5-aaaaa'],
    );
    assert.equal(evidence.facts?.replicas, 4);
    assert.equal(evidence.facts?.readyReplicas, 4);
    assert.deepEqual(
      evidence.recentEvents?.map((e) => e.logTail),
      ['FATAL out of memory'],
    );
  });

  it('knows no replica count when the shipper sent none', async () => {
    const anomaly = usageAnomaly();
    const evidence = await evidenceFromBatch([anomaly])(incidentKeyOf(anomaly));
    assert.equal(evidence.facts?.replicas, undefined);
    assert.equal(evidence.recentEvents, undefined);
  });
});
