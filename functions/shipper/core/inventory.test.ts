import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { PodInventory } from '../../shared/contracts/index.js';
import { nodeInventory, podInventory } from './inventory.js';
import type { ReplicaSetOwnerLookup } from './owner.js';

const deploymentPod: V1Pod = {
  metadata: {
    namespace: 'shop',
    name: 'cart-5c8d7b6f9-x2x4q',
    uid: 'uid-1',
    labels: { app: 'cart', 'pod-template-hash': '5c8d7b6f9' },
    ownerReferences: [
      { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'cart-5c8d7b6f9', uid: 'rs-1', controller: true },
    ],
  },
  spec: {
    nodeName: 'kwok-node-0',
    containers: [
      {
        name: 'app',
        image: 'cart:1',
        resources: { requests: { cpu: '250m', memory: '64Mi' }, limits: { cpu: '1', memory: '128Mi' } },
      },
      { name: 'sidecar', image: 'envoy:1' },
    ],
  },
  status: {
    phase: 'Running',
    containerStatuses: [
      {
        name: 'app',
        image: 'cart:1',
        imageID: '',
        ready: true,
        restartCount: 2,
        state: { running: { startedAt: new Date() } },
        lastState: { terminated: { reason: 'OOMKilled', exitCode: 137 } },
      },
    ],
  },
};

describe('pod inventory', () => {
  it('names the Deployment behind the ReplicaSet, with requests, limits, restarts and states', () => {
    const lookup: ReplicaSetOwnerLookup = (namespace, name) =>
      namespace === 'shop' && name === 'cart-5c8d7b6f9'
        ? { apiVersion: 'apps/v1', kind: 'Deployment', name: 'cart', uid: 'd-1', controller: true }
        : undefined;
    const inventory = podInventory(deploymentPod, lookup);
    assert.ok(inventory);
    assert.deepEqual(PodInventory.parse(inventory), inventory);
    assert.deepEqual(inventory.owner, { kind: 'Deployment', name: 'cart' });
    assert.equal(inventory.node, 'kwok-node-0');
    assert.deepEqual(inventory.containers[0], {
      name: 'app',
      image: 'cart:1',
      requests: { memoryBytes: 64 * 2 ** 20, cpuCores: 0.25 },
      limits: { memoryBytes: 128 * 2 ** 20, cpuCores: 1 },
      restartCount: 2,
      state: { state: 'running', lastTerminationReason: 'OOMKilled' },
    });
    assert.deepEqual(inventory.containers[1], {
      name: 'sidecar',
      image: 'envoy:1',
      requests: {},
      limits: {},
      restartCount: 0,
    });
  });

  it('falls back to the pod-template-hash while the ReplicaSet is not cached yet', () => {
    assert.deepEqual(podInventory(deploymentPod, () => undefined)?.owner, {
      kind: 'Deployment',
      name: 'cart',
    });
  });

  it("carries the Deployment's replica counts from its ReplicaSet, and none for other owners", () => {
    const replicas = (namespace: string, name: string) =>
      namespace === 'shop' && name === 'cart-5c8d7b6f9' ? { desired: 3, ready: 2 } : undefined;
    assert.deepEqual(podInventory(deploymentPod, () => undefined, replicas)?.ownerReplicas, {
      desired: 3,
      ready: 2,
    });
    assert.equal(podInventory(deploymentPod, () => null, replicas)?.ownerReplicas, undefined);
    assert.equal(podInventory(deploymentPod, () => undefined)?.ownerReplicas, undefined);
  });

  it('keeps a bare ReplicaSet as the owner', () => {
    assert.deepEqual(podInventory(deploymentPod, () => null)?.owner, {
      kind: 'ReplicaSet',
      name: 'cart-5c8d7b6f9',
    });
  });
});

describe('node inventory', () => {
  it('carries allocatable resources, cordoning and conditions', () => {
    const node: V1Node = {
      metadata: { name: 'kwok-node-0' },
      spec: { unschedulable: true },
      status: {
        allocatable: { cpu: '32', memory: '256Gi', pods: '110' },
        conditions: [{ type: 'Ready', status: 'True' }],
      },
    };
    assert.deepEqual(nodeInventory(node), {
      name: 'kwok-node-0',
      allocatable: { cpuCores: 32, memoryBytes: 256 * 2 ** 30 },
      unschedulable: true,
      conditions: [{ type: 'Ready', status: 'True' }],
    });
  });
});
