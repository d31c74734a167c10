import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ExecutionResult } from '../../shared/contracts/index.js';
import { Alert } from '../../shared/contracts/index.js';
import { alertForResult } from './result-alert.js';

const result = (status: ExecutionResult['status']): ExecutionResult => ({
  schemaVersion: 1,
  kind: 'execution-result',
  clusterId: 'prod-eu-1',
  planId: 'plan-1',
  incidentId: 'fp-1',
  status,
  steps: [
    {
      action: { action: 'scale', namespace: 'shop', kind: 'Deployment', name: 'checkout', replicas: 4 },
      status: status === 'verified' ? 'applied' : 'rolled-back',
      detail: 'cpu still saturated',
    },
  ],
  startedAt: '2026-11-21T10:00:00.000Z',
  finishedAt: '2026-11-21T10:03:00.000Z',
});

describe('alerts for execution results', () => {
  it('pages on what went wrong and resolves the incident when the fix is verified', () => {
    const alerts = (['failed', 'rolled-back', 'refused', 'applied-unverified', 'verified'] as const).map(
      (status) => Alert.parse(alertForResult(result(status))),
    );
    assert.deepEqual(
      alerts.map((a) => [a.severity, a.status]),
      [
        ['critical', 'firing'],
        ['warning', 'firing'],
        ['warning', 'firing'],
        ['warning', 'firing'],
        ['info', 'resolved'],
      ],
    );
    for (const alert of alerts) assert.equal(alert.dedupKey, 'fp-1');
    assert.equal(alerts[1]!.title, 'Remediation rolled back: scale shop/Deployment/checkout');
    assert.match(
      alerts[1]!.summary,
      /- scale shop\/Deployment\/checkout: rolled-back \(cpu still saturated\)/,
    );
    assert.equal(new Set(alerts.map((a) => a.alertId)).size, 5);
  });

  it('makes the same alert for a redelivered result', () => {
    assert.deepEqual(alertForResult(result('failed')), alertForResult(result('failed')));
  });
});
