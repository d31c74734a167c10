import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { incidentKeyOf } from '../../../functions/planner/core/correlate.js';
import type { Alert, ExecutionResult } from '../../../functions/shared/contracts/index.js';
import { podInventory, usageAnomaly } from '../../../test/support/planner-fixtures.js';
import { CRASH_LOOP, MEMORY_LEAK } from './faults.js';
import { LoopObserver } from './loop-observer.js';
import { summariseFault } from './timeline.js';

const escalation = (namespace: string, pod: string, owner?: string): Alert => ({
  schemaVersion: 1,
  kind: 'alert',
  clusterId: 'local',
  alertId: `a-${namespace}-${pod}`,
  dedupKey: `${namespace}/${pod}`,
  severity: 'critical',
  status: 'firing',
  title: `Needs a human: ${namespace}/${pod}`,
  summary: 'CrashLoopBackOff',
  createdAt: new Date(0).toISOString(),
  target: { namespace, pod, ...(owner ? { owner: { kind: 'Deployment', name: owner } } : {}) },
  links: [],
});

describe('summariseFault on a control plane shared with other runs', () => {
  const outcome = (alerts: Alert[]) => {
    const observer = new LoopObserver();
    observer.alerts.push(...alerts);
    return summariseFault(CRASH_LOOP, 'demo', 0, observer);
  };

  it("does not take another namespace's, or a similarly named workload's, escalation for the fault's", () => {
    const elsewhere = outcome([
      escalation('bench', 'payments-a-76bc655758-vjvsx', 'payments-a'),
      escalation('bench', 'payments-7d9f8c6b5-x2x4q'),
      escalation('demo', 'payments-a-76bc655758-vjvsx'),
    ]);
    assert.equal(elsewhere.escalated, false);
    assert.equal(elsewhere.done, false);
  });

  it("counts the fault's own escalation, by owner or by its Deployment's pod names", () => {
    assert.equal(outcome([escalation('demo', 'payments-5fdf689946-dbpzv', 'payments')]).escalated, true);
    assert.equal(outcome([escalation('demo', 'payments-5fdf689946-dbpzv')]).escalated, true);
  });
});

describe('where the time of the first applied plan went', () => {
  const inventory = podInventory('cart-5d9c7b8f6-k2x4q', {
    namespace: 'bench',
    owner: { kind: 'Deployment', name: 'cart' },
  });
  const target = { namespace: 'bench', pod: inventory.pod, container: 'app', owner: inventory.owner! };
  const memory = (anomalyId: string) =>
    usageAnomaly({ inventory, target, anomalyId, detectedAt: '2026-12-01T10:00:00.000Z' });
  const cpu = usageAnomaly({
    inventory,
    target,
    anomalyId: 'cpu:opened',
    signal: 'cpu',
    metric: 'cpu_usage_cores',
  });
  const timing = (sentAt: number) => ({
    sentAt,
    firstReceivedAt: sentAt + 10,
    invokedAt: sentAt + 20,
    plannedAt: sentAt + 100,
  });
  const applied: ExecutionResult = {
    schemaVersion: 1,
    kind: 'execution-result',
    clusterId: 'prod-eu-1',
    planId: 'plan-1',
    incidentId: incidentKeyOf(memory('m1:opened')).fingerprint,
    status: 'verified',
    steps: [
      {
        action: { action: 'scale', namespace: 'bench', kind: 'Deployment', name: 'cart', replicas: 2 },
        status: 'applied',
        detail: '',
      },
    ],
    startedAt: new Date(5_000).toISOString(),
    finishedAt: new Date(20_000).toISOString(),
  };
  const observerWith = () => {
    const observer = new LoopObserver();
    observer.anomalies.push(cpu, memory('m2:opened'), memory('m1:opened'));
    observer.anomalyTimings.set('cpu:opened', timing(500));
    observer.anomalyTimings.set('m1:opened', timing(1_000));
    observer.anomalyTimings.set('m2:opened', timing(3_000));
    observer.results.push(applied);
    return observer;
  };

  it("starts at the plan's incident's first detection, not another incident's of the same workload", () => {
    const outcome = summariseFault(MEMORY_LEAK, 'bench', 0, observerWith(), new Map([['plan-1', 5_400]]));
    assert.deepEqual(outcome.stages, {
      sampledAt: Date.parse('2026-12-01T10:00:00.000Z'),
      detectedAt: 1_000,
      plannerReceivedAt: 1_010,
      plannerInvokedAt: 1_020,
      plannedAt: 1_100,
      executorStartedAt: 5_000,
      appliedAt: 5_400,
      verifiedAt: 20_000,
    });
  });

  it('has no applied moment when the watch never saw the change, and no stages without a watch', () => {
    assert.equal(summariseFault(MEMORY_LEAK, 'bench', 0, observerWith(), new Map())?.stages?.appliedAt, null);
    assert.equal(summariseFault(MEMORY_LEAK, 'bench', 0, observerWith()).stages, null);
  });
});
