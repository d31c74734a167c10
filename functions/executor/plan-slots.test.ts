import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeMessageBody } from '../shared/contracts/index.js';
import { PlanSlots, planKeysOf } from './plan-slots.js';

const planBody = (workload: string, extra: object[] = []) =>
  encodeMessageBody({
    schemaVersion: 2,
    kind: 'remediation-plan',
    clusterId: 'prod',
    planId: `plan-${workload}`,
    incidentId: `inc-${workload}`,
    createdAt: '2026-11-21T10:00:00Z',
    expiresAt: '2026-11-21T10:15:00Z',
    source: 'runbook',
    rationale: 'memory grows towards the limit',
    confidence: 0.9,
    dryRun: false,
    scope: {
      clusterId: 'prod',
      namespace: 'shop',
      workload: { kind: 'Deployment', name: workload },
      nodes: [],
    },
    actions: [
      { action: 'scale', namespace: 'shop', kind: 'Deployment', name: workload, replicas: 3 },
      ...extra,
    ],
    signature: { algorithm: 'Ed25519', keyId: 'k1', value: '0'.repeat(128) },
  });

/** A task that records when it ran and finishes when told. */
function gate(log: string[], name: string) {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return {
    task: async () => {
      log.push(`start ${name}`);
      await opened;
      log.push(`end ${name}`);
    },
    open: () => open(),
  };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('planKeysOf', () => {
  it('names every action target and the incident workload', () => {
    const keys = planKeysOf(
      planBody('checkout', [{ action: 'delete-pod', namespace: 'shop', pod: 'checkout-7d9f8-abcde' }]),
    );
    assert.notEqual(keys, 'exclusive');
    assert.deepEqual([...(keys as string[])].sort(), [
      'shop/Deployment/checkout',
      'shop/Pod/checkout-7d9f8-abcde',
    ]);
  });

  it('runs a body that is not a readable plan alone', () => {
    assert.equal(planKeysOf('not json'), 'exclusive');
    assert.equal(planKeysOf(encodeMessageBody({ kind: 'remediation-plan' })), 'exclusive');
  });
});

describe('PlanSlots', () => {
  it('runs plans on different workloads side by side', async () => {
    const log: string[] = [];
    const slots = new PlanSlots(4);
    const a = gate(log, 'a');
    const b = gate(log, 'b');
    const runs = [slots.run(['shop/Deployment/a'], a.task), slots.run(['shop/Deployment/b'], b.task)];
    await tick();
    assert.deepEqual(log, ['start a', 'start b'], 'b did not wait for a');
    b.open();
    a.open();
    await Promise.all(runs);
    assert.equal(slots.size, 0);
  });

  it('runs plans sharing an object one after the other, in the order received', async () => {
    const log: string[] = [];
    const slots = new PlanSlots(4);
    const first = gate(log, 'first');
    const second = gate(log, 'second');
    const third = gate(log, 'third');
    const runs = [
      slots.run(['shop/Deployment/a', 'shop/Pod/a-1'], first.task),
      slots.run(['shop/Pod/a-1'], second.task),
      slots.run(['shop/Deployment/a', 'shop/Pod/a-1'], third.task),
    ];
    await tick();
    assert.deepEqual(log, ['start first']);
    first.open();
    await tick();
    await tick();
    assert.deepEqual(log, ['start first', 'end first', 'start second'], 'third waits for second too');
    second.open();
    third.open();
    await Promise.all(runs);
    assert.deepEqual(log.slice(3), ['end second', 'start third', 'end third']);
  });

  it('runs an exclusive body alone', async () => {
    const log: string[] = [];
    const slots = new PlanSlots(4);
    const a = gate(log, 'a');
    const x = gate(log, 'x');
    const runs = [slots.run(['shop/Deployment/a'], a.task), slots.run('exclusive', x.task)];
    await tick();
    assert.deepEqual(log, ['start a']);
    a.open();
    x.open();
    await Promise.all(runs);
    assert.deepEqual(log, ['start a', 'end a', 'start x', 'end x']);
  });

  it('counts waiting plans against the limit, frees a slot when a plan fails, and says when one is free', async () => {
    const log: string[] = [];
    const slots = new PlanSlots(2);
    const a = gate(log, 'a');
    const running = slots.run(['k'], a.task);
    const failing = slots.run(['other'], async () => {
      throw new Error('refused');
    });
    assert.equal(slots.free, 0);
    await assert.rejects(failing, /refused/);
    assert.equal(slots.free, 1);
    const waiting = slots.run(['k'], async () => {});
    assert.equal(slots.free, 0);
    let freed = false;
    const free = slots.whenFree().then(() => (freed = true));
    await tick();
    assert.equal(freed, false);
    a.open();
    await free;
    await Promise.all([running, waiting, slots.idle()]);
    assert.equal(slots.size, 0);
  });

  it('refuses a limit that is not a positive integer', () => {
    assert.throws(() => new PlanSlots(0), RangeError);
  });
});
