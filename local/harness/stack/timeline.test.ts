import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Alert } from '../../../functions/shared/contracts/index.js';
import { CRASH_LOOP } from './faults.js';
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
