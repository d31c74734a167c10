import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RemediationAction, RemediationPlan } from '../../shared/contracts/index.js';
import { messageGroupOf } from './sqs-outputs.js';

const planWith = (...actions: RemediationAction[]) =>
  ({ clusterId: 'prod-eu-1', incidentId: 'fp-1', actions }) as RemediationPlan;

describe('message groups of plans', () => {
  it('is the target workload, else the pod, else the node', () => {
    assert.equal(
      messageGroupOf(
        planWith(
          { action: 'delete-pod', namespace: 'shop', pod: 'checkout-7d9f8b6c5-x2x4z' },
          { action: 'rollout-restart', namespace: 'shop', kind: 'Deployment', name: 'checkout' },
        ),
      ),
      'prod-eu-1/shop/Deployment/checkout',
    );
    assert.equal(
      messageGroupOf(planWith({ action: 'delete-pod', namespace: 'shop', pod: 'checkout-7d9f8b6c5-x2x4z' })),
      'prod-eu-1/shop/Pod/checkout-7d9f8b6c5-x2x4z',
    );
    assert.equal(messageGroupOf(planWith({ action: 'cordon', node: 'node-a' })), 'prod-eu-1/node/node-a');
  });

  it('stays within the 128 characters SQS allows, and unique', () => {
    const long = (name: string) =>
      messageGroupOf(planWith({ action: 'rollout-restart', namespace: 'shop', kind: 'Deployment', name }));
    const a = long(`${'a'.repeat(200)}-one`);
    const b = long(`${'a'.repeat(200)}-two`);
    assert.ok(a.length <= 128 && b.length <= 128);
    assert.notEqual(a, b);
  });
});
