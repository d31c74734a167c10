import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RemediationAction } from '../contracts/index.js';
import {
  ACTION_NAMES,
  ACTIONS,
  type ActionName,
  type ActionOf,
  actionLabel,
  describeAction,
  targetOf,
} from './registry.js';

/** One of each action, with what humans read about it and the object it changes. */
const EXAMPLES: { [Name in ActionName]: { action: ActionOf<Name>; described: string; label: string } } = {
  scale: {
    action: { action: 'scale', namespace: 'shop', kind: 'Deployment', name: 'checkout', replicas: 4 },
    described: 'scale shop/Deployment/checkout to 4',
    label: 'scale shop/Deployment/checkout',
  },
  'rollout-restart': {
    action: { action: 'rollout-restart', namespace: 'shop', kind: 'StatefulSet', name: 'db' },
    described: 'restart shop/StatefulSet/db',
    label: 'rollout-restart shop/StatefulSet/db',
  },
  'set-resources': {
    action: {
      action: 'set-resources',
      namespace: 'shop',
      kind: 'Deployment',
      name: 'checkout',
      container: 'app',
      limits: { memoryBytes: 805306368 },
    },
    described: 'set app of shop/Deployment/checkout limits {"memoryBytes":805306368}',
    label: 'set-resources shop/Deployment/checkout',
  },
  'delete-pod': {
    action: { action: 'delete-pod', namespace: 'shop', pod: 'checkout-7d9f8b6c5-x2x4z' },
    described: 'delete pod shop/checkout-7d9f8b6c5-x2x4z',
    label: 'delete-pod shop/Pod/checkout-7d9f8b6c5-x2x4z',
  },
  cordon: {
    action: { action: 'cordon', node: 'node-a' },
    described: 'cordon node node-a',
    label: 'cordon node/node-a',
  },
  uncordon: {
    action: { action: 'uncordon', node: 'node-a' },
    described: 'uncordon node node-a',
    label: 'uncordon node/node-a',
  },
};

describe('the action registry', () => {
  it('words every action once, for every place that shows it to humans', () => {
    for (const { action, described, label } of Object.values(EXAMPLES)) {
      assert.equal(describeAction(action), described);
      assert.equal(actionLabel(action), label);
    }
  });

  it('names the object each action changes as the API server does', () => {
    assert.deepEqual(targetOf(EXAMPLES.scale.action), {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: 'checkout',
      namespace: 'shop',
    });
    assert.deepEqual(targetOf(EXAMPLES['delete-pod'].action), {
      apiVersion: 'v1',
      kind: 'Pod',
      name: 'checkout-7d9f8b6c5-x2x4z',
      namespace: 'shop',
    });
    assert.deepEqual(targetOf(EXAMPLES.cordon.action), { apiVersion: 'v1', kind: 'Node', name: 'node-a' });
  });

  it('is the wire contract: one variant per action, in the registry order, each parsing its own examples', () => {
    assert.deepEqual(
      RemediationAction.options.map((option) => option.shape.action.value),
      ACTION_NAMES,
    );
    for (const name of ACTION_NAMES) {
      assert.equal(ACTIONS[name].params.shape.action.value, name);
      assert.deepEqual(RemediationAction.parse(EXAMPLES[name].action), EXAMPLES[name].action);
    }
  });
});
