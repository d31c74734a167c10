import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PlanProposal, RemediationAction } from '../contracts/index.js';
import type { TargetFacts } from './facts.js';
import {
  DEFAULT_POLICY,
  evaluateAction,
  evaluatePlan,
  namespaceMatches,
  PolicyInvalidError,
  parsePolicy,
  type RemediationPolicyDocument,
} from './policy.js';
import { ACTION_NAMES, describeActions } from './registry.js';

const MIB = 1024 ** 2;

function facts(overrides: Partial<TargetFacts> = {}): TargetFacts {
  return {
    incident: { namespace: 'shop', workload: { kind: 'Deployment', name: 'checkout' }, nodes: ['node-a'] },
    namespaceLabels: {},
    workload: {
      kind: 'Deployment',
      name: 'checkout',
      namespace: 'shop',
      replicas: 4,
      readyReplicas: 4,
      labels: { app: 'checkout' },
      annotations: {},
      containers: [
        {
          name: 'app',
          limits: { memoryBytes: 512 * MIB, cpuCores: 1 },
          requests: { memoryBytes: 256 * MIB, cpuCores: 0.5 },
          peakUsage: { memoryBytes: 500 * MIB, cpuCores: 0.9 },
        },
      ],
    },
    pods: [
      {
        namespace: 'shop',
        name: 'checkout-7d9f-abcde',
        controller: { kind: 'Deployment', name: 'checkout' },
        labels: {},
        annotations: {},
      },
      {
        namespace: 'shop',
        name: 'payments-5c6d-fghij',
        controller: { kind: 'Deployment', name: 'payments' },
        labels: {},
        annotations: {},
      },
      { namespace: 'shop', name: 'debug-shell', controller: null, labels: {}, annotations: {} },
    ],
    nodes: [
      { name: 'node-a', labels: {}, annotations: {}, unschedulable: false },
      { name: 'node-b', labels: {}, annotations: {}, unschedulable: false },
    ],
    schedulableNodes: 5,
    ...overrides,
  };
}

const open = parsePolicy({
  modes: { low: 'auto', medium: 'auto', high: 'auto' },
  enabledActions: ACTION_NAMES,
});

const scale = (replicas: number, target: Partial<RemediationAction> = {}): RemediationAction =>
  ({
    action: 'scale',
    namespace: 'shop',
    kind: 'Deployment',
    name: 'checkout',
    replicas,
    ...target,
  }) as RemediationAction;
const memoryLimit = (memoryBytes: number): RemediationAction => ({
  action: 'set-resources',
  namespace: 'shop',
  kind: 'Deployment',
  name: 'checkout',
  container: 'app',
  limits: { memoryBytes },
});
const verdictOf = (action: unknown, f = facts(), policy = open) => evaluateAction(action, f, policy).verdict;

describe('action registry', () => {
  it('describes only enabled actions to the LLM, with their risk', () => {
    const described = describeActions(['scale', 'cordon']);
    assert.deepEqual(
      described.map((d) => d.name),
      ['scale', 'cordon'],
    );
    assert.match(described[1]!.description, /risk: high/);
  });
});

describe('evaluateAction: deny by default', () => {
  it('refuses actions that are not in the registry, whatever they look like', () => {
    const hostile = [
      { action: 'exec', namespace: 'shop', pod: 'checkout-7d9f-abcde', command: 'rm -rf /' },
      { action: 'delete-namespace', namespace: 'shop' },
      { action: 'constructor' },
      { action: '__proto__' },
      { action: 'SCALE', namespace: 'shop', kind: 'Deployment', name: 'checkout', replicas: 5 },
      {},
      null,
      'scale',
    ];
    for (const action of hostile) {
      const result = evaluateAction(action, facts(), open);
      assert.equal(result.verdict, 'refused', JSON.stringify(action));
      assert.match(result.reasons[0]!, /unknown action/);
    }
  });

  it('refuses registered actions with invalid or extra-wide parameters', () => {
    assert.equal(verdictOf({ ...scale(5), replicas: 5.5 }), 'refused');
    assert.equal(verdictOf({ ...scale(5), kind: 'DaemonSet' }), 'refused');
    assert.equal(verdictOf({ ...scale(5), namespace: '../kube-system' }), 'refused');
  });

  it('refuses actions the policy has not enabled', () => {
    const policy = parsePolicy({ enabledActions: ['rollout-restart'], modes: { low: 'auto' } });
    const result = evaluateAction(scale(5), facts(), policy);
    assert.equal(result.verdict, 'refused');
    assert.match(result.reasons.join(), /not enabled/);
  });

  it('refuses the default-denied system namespaces even with everything else open', () => {
    for (const namespace of ['kube-system', 'kube-public', 'kube-node-lease', 'kubepulse']) {
      const f = facts({
        incident: { namespace, workload: { kind: 'Deployment', name: 'checkout' }, nodes: [] },
      });
      f.workload = { ...f.workload!, namespace };
      const result = evaluateAction(scale(5, { namespace }), f, open);
      assert.equal(result.verdict, 'refused', namespace);
      assert.match(result.reasons.join(), /denied by policy/);
    }
  });

  it('lets deny win over allow, and refuses namespaces not allowed', () => {
    const both = parsePolicy({ namespaces: { allow: ['shop'], deny: ['sh*'] }, modes: { low: 'auto' } });
    assert.equal(verdictOf(scale(5), facts(), both), 'refused');
    const elsewhere = parsePolicy({ namespaces: { allow: ['payments'], deny: [] }, modes: { low: 'auto' } });
    assert.match(evaluateAction(scale(5), facts(), elsewhere).reasons.join(), /not allowed/);
    const allowed = parsePolicy({ namespaces: { allow: ['sh*'], deny: [] }, modes: { low: 'auto' } });
    assert.equal(verdictOf(scale(5), facts(), allowed), 'auto');
  });

  it('matches namespace globs exactly, not as substrings or regular expressions', () => {
    assert.equal(namespaceMatches('kube-system', 'kube-*'), true);
    assert.equal(namespaceMatches('my-kube-system', 'kube-*'), false);
    assert.equal(namespaceMatches('shop', 'sho'), false);
    assert.equal(namespaceMatches('shop-eu', '*-eu'), true);
  });

  it('refuses anything on a target carrying the opt-out label or annotation', () => {
    const optOut = { 'kubepulse.io/remediation': 'disabled' };
    const base = facts();
    const cases: Array<[string, RemediationAction, TargetFacts]> = [
      ['namespace label', scale(5), facts({ namespaceLabels: optOut })],
      ['namespace annotation', scale(5), facts({ namespaceAnnotations: optOut })],
      ['workload label', scale(5), facts({ workload: { ...base.workload!, labels: optOut } })],
      [
        'workload annotation',
        memoryLimit(600 * MIB),
        facts({ workload: { ...base.workload!, annotations: optOut } }),
      ],
      [
        'pod label',
        { action: 'delete-pod', namespace: 'shop', pod: 'checkout-7d9f-abcde' },
        facts({ pods: [{ ...base.pods![0]!, labels: optOut }] }),
      ],
      [
        'node annotation',
        { action: 'cordon', node: 'node-a' },
        facts({ nodes: [{ ...base.nodes![0]!, annotations: optOut }] }),
      ],
    ];
    for (const [where, action, f] of cases) {
      assert.equal(verdictOf(action, base), 'auto', `${where}: allowed without the label`);
      const result = evaluateAction(action, f, open);
      assert.equal(result.verdict, 'refused', where);
      assert.match(result.reasons.join(), /opted out/, where);
    }
    const otherValue = facts({
      workload: { ...base.workload!, labels: { 'kubepulse.io/remediation': 'enabled' } },
    });
    assert.equal(verdictOf(scale(5), otherValue), 'auto');
  });

  it('maps risk tiers to modes, conservatively by default', () => {
    assert.equal(verdictOf(scale(5), facts(), DEFAULT_POLICY), 'auto');
    assert.equal(verdictOf(memoryLimit(600 * MIB), facts(), DEFAULT_POLICY), 'needs-approval');
    assert.equal(verdictOf({ action: 'cordon', node: 'node-a' }, facts(), DEFAULT_POLICY), 'needs-approval');
    assert.equal(verdictOf({ action: 'uncordon', node: 'node-a' }, facts(), DEFAULT_POLICY), 'refused');
    const noAuto = parsePolicy({ modes: { low: 'needs-approval', high: 'refused' } });
    assert.equal(verdictOf(scale(5), facts(), noAuto), 'needs-approval');
    assert.equal(verdictOf({ action: 'cordon', node: 'node-a' }, facts(), noAuto), 'refused');
    assert.equal(DEFAULT_POLICY.dryRun, true);
  });
});

describe('evaluateAction: staying on the incident', () => {
  it('refuses workload actions on another workload, kind or namespace', () => {
    const others = [
      scale(5, { name: 'payments' }),
      scale(5, { kind: 'StatefulSet' }),
      scale(5, { namespace: 'billing' }),
      { action: 'rollout-restart', namespace: 'shop', kind: 'Deployment', name: 'payments' },
    ];
    for (const action of others) assert.equal(verdictOf(action), 'refused', JSON.stringify(action));
  });

  it('refuses workload actions when the incident is about a bare pod', () => {
    const f = facts({ incident: { namespace: 'shop', workload: null, nodes: ['node-a'] } });
    assert.match(evaluateAction(scale(5), f, open).reasons.join(), /no owning workload/);
  });

  it('deletes only known pods of the incident workload that have a controller', () => {
    const del = (pod: string, namespace = 'shop') => ({ action: 'delete-pod', namespace, pod });
    assert.equal(verdictOf(del('checkout-7d9f-abcde')), 'auto');
    assert.match(evaluateAction(del('payments-5c6d-fghij'), facts(), open).reasons.join(), /payments/);
    assert.match(evaluateAction(del('debug-shell'), facts(), open).reasons.join(), /no controller/);
    assert.match(evaluateAction(del('ghost'), facts(), open).reasons.join(), /unknown/);
    assert.equal(verdictOf(del('checkout-7d9f-abcde', 'billing')), 'refused');
  });

  it('keeps other replicas running while a pod is deleted', () => {
    const single = facts();
    single.workload = { ...single.workload!, replicas: 1, readyReplicas: 1 };
    assert.match(
      evaluateAction(
        { action: 'delete-pod', namespace: 'shop', pod: 'checkout-7d9f-abcde' },
        single,
        open,
      ).reasons.join(),
      /0 other replicas/,
    );
  });

  it('cordons only nodes hosting the incident, and never below the schedulable minimum', () => {
    assert.equal(verdictOf({ action: 'cordon', node: 'node-b' }), 'refused');
    assert.equal(verdictOf({ action: 'cordon', node: 'node-a' }, facts({ schedulableNodes: 3 })), 'auto');
    assert.equal(verdictOf({ action: 'cordon', node: 'node-a' }, facts({ schedulableNodes: 2 })), 'refused');
    assert.equal(
      verdictOf({ action: 'cordon', node: 'node-a' }, facts({ schedulableNodes: undefined })),
      'refused',
    );
  });
});

describe('evaluateAction: bounds at their edges', () => {
  it('scales within ×2 / ÷2 of the current count, between 1 and 20, never to zero', () => {
    // current = 4, factor 2 → [2, 8]; fewer than 4 is a scale-in, which a human approves
    const expected: Array<[number, string]> = [
      [0, 'refused'],
      [1, 'refused'],
      [2, 'needs-approval'],
      [3, 'needs-approval'],
      [4, 'auto'],
      [8, 'auto'],
      [9, 'refused'],
    ];
    for (const [replicas, verdict] of expected)
      assert.equal(verdictOf(scale(replicas)), verdict, `${replicas}`);
    const big = facts();
    big.workload = { ...big.workload!, replicas: 15 };
    assert.equal(verdictOf(scale(20), big), 'auto');
    assert.equal(verdictOf(scale(21), big), 'refused');
  });

  it('property: every scale target inside all bounds is auto, or needs approval when it scales in', () => {
    for (let current = 1; current <= 25; current++) {
      const f = facts();
      f.workload = { ...f.workload!, replicas: current };
      for (let replicas = 0; replicas <= 60; replicas++) {
        const inside =
          replicas >= 1 &&
          replicas <= 20 &&
          replicas <= Math.ceil(current * 2) &&
          replicas >= Math.floor(current / 2);
        const verdict = !inside ? 'refused' : replicas < current ? 'needs-approval' : 'auto';
        assert.equal(verdictOf(scale(replicas), f), verdict, `${current} → ${replicas}`);
      }
    }
  });

  it('refuses to scale when the current count is unknown or zero', () => {
    for (const replicas of [undefined, 0]) {
      const f = facts();
      f.workload = { ...f.workload!, replicas };
      assert.equal(verdictOf(scale(2), f), 'refused');
    }
  });

  it('raises a memory limit by at most ×2, never lowers it, never under usage, never over the cap', () => {
    assert.equal(verdictOf(memoryLimit(1024 * MIB)), 'auto');
    assert.equal(verdictOf(memoryLimit(1024 * MIB + 1)), 'refused');
    assert.equal(verdictOf(memoryLimit(512 * MIB)), 'auto');
    assert.equal(verdictOf(memoryLimit(511 * MIB)), 'refused');
    const capped = parsePolicy({
      ...openDocument(),
      bounds: { 'set-resources': { maxMemoryBytes: 768 * MIB } },
    });
    assert.equal(verdictOf(memoryLimit(768 * MIB), facts(), capped), 'auto');
    assert.match(evaluateAction(memoryLimit(769 * MIB), facts(), capped).reasons.join(), /above the cap/);
    const hot = facts();
    hot.workload!.containers[0]!.peakUsage.memoryBytes = 700 * MIB;
    assert.match(evaluateAction(memoryLimit(600 * MIB), hot, open).reasons.join(), /below observed usage/);
  });

  it('property: a memory limit is auto exactly inside [current, current × factor] under the cap', () => {
    for (const factor of [1, 1.5, 2, 3]) {
      const policy = parsePolicy({
        ...openDocument(),
        bounds: { 'set-resources': { maxIncreaseFactor: factor } },
      });
      for (let step = 0; step <= 80; step++) {
        const proposed = Math.round(256 * MIB + step * 24 * MIB);
        const inside = proposed >= 512 * MIB && proposed <= 512 * MIB * factor && proposed <= 8 * 1024 * MIB;
        assert.equal(
          verdictOf(memoryLimit(proposed), facts(), policy),
          inside ? 'auto' : 'refused',
          `${factor}: ${proposed}`,
        );
      }
    }
  });

  it('refuses resource changes for unknown containers, unknown limits, or requests above limits', () => {
    const action = memoryLimit(600 * MIB) as Extract<RemediationAction, { action: 'set-resources' }>;
    assert.equal(verdictOf({ ...action, container: 'sidecar' }), 'refused');
    const noLimit = facts();
    noLimit.workload!.containers[0]!.limits = {};
    assert.match(evaluateAction(action, noLimit, open).reasons.join(), /unknown/);
    assert.equal(verdictOf({ ...action, requests: { memoryBytes: 512 * MIB } }), 'auto');
    assert.equal(verdictOf({ ...action, requests: { memoryBytes: 601 * MIB } }), 'refused');
    assert.equal(verdictOf({ ...action, limits: {} }), 'refused');
    assert.equal(verdictOf({ ...action, limits: { cpuCores: 2 } }), 'auto');
    assert.equal(verdictOf({ ...action, limits: { cpuCores: 2.01 } }), 'refused');
  });

  it('refuses policy documents that loosen bounds past their hard ceilings or have typos', () => {
    const bad: unknown[] = [
      { bounds: { scale: { minReplicas: 0 } } },
      { bounds: { scale: { minReplicas: 30, maxReplicas: 10 } } },
      { bounds: { 'set-resources': { maxIncreaseFactor: 10 } } },
      { bounds: { exec: {} } },
      { enabledActions: ['exec'] },
      { enabledAction: ['scale'] },
      { namespaces: { deny: ['kube-system/'] } },
      { modes: { low: 'yolo' } },
    ];
    for (const document of bad)
      assert.throws(() => parsePolicy(document), PolicyInvalidError, JSON.stringify(document));
  });
});

describe('evaluatePlan', () => {
  const proposal = (actions: RemediationAction[], confidence = 0.9): PlanProposal => ({
    decision: 'act',
    diagnosis: 'memory leak',
    rationale: 'raise the limit and restart',
    confidence,
    actions,
  });
  const restart: RemediationAction = {
    action: 'rollout-restart',
    namespace: 'shop',
    kind: 'Deployment',
    name: 'checkout',
  };

  it('is auto only when every action is auto and the proposal is confident', () => {
    assert.equal(evaluatePlan(proposal([memoryLimit(768 * MIB), restart]), facts(), open).verdict, 'auto');
    const unsure = evaluatePlan(proposal([scale(5)], 0.5), facts(), open);
    assert.equal(unsure.verdict, 'needs-approval');
    assert.match(unsure.reasons.join(), /confidence/);
  });

  it('takes the strictest verdict of its actions', () => {
    const mixed = evaluatePlan(proposal([scale(5), memoryLimit(768 * MIB)]), facts(), DEFAULT_POLICY);
    assert.equal(mixed.verdict, 'needs-approval');
    assert.deepEqual(
      mixed.actions.map((a) => a.verdict),
      ['auto', 'needs-approval'],
    );
  });

  it('refuses the whole plan when one action reaches into another namespace or workload', () => {
    for (const stray of [scale(5, { namespace: 'billing' }), scale(5, { name: 'payments' })]) {
      const result = evaluatePlan(proposal([restart, stray]), facts(), open);
      assert.equal(result.verdict, 'refused');
      assert.match(result.reasons.join(), /action 2:/);
    }
  });

  it('refuses too many actions, repeated targets, non-acting and malformed proposals', () => {
    const tooMany = [
      restart,
      scale(5),
      memoryLimit(600 * MIB),
      { action: 'cordon', node: 'node-a' } as RemediationAction,
    ];
    assert.match(evaluatePlan(proposal(tooMany), facts(), open).reasons.join(), /more than the 3/);
    assert.match(
      evaluatePlan(proposal([scale(5), scale(6)]), facts(), open).reasons.join(),
      /more than one scale/,
    );
    assert.equal(evaluatePlan({ ...proposal([]), decision: 'escalate' }, facts(), open).verdict, 'refused');
    assert.equal(evaluatePlan(proposal([]), facts(), open).verdict, 'refused');
    assert.equal(evaluatePlan({ decision: 'act', actions: [restart] }, facts(), open).verdict, 'refused');
  });

  it('carries the policy’s dry-run flag', () => {
    assert.equal(evaluatePlan(proposal([restart]), facts(), DEFAULT_POLICY).dryRun, true);
    assert.equal(evaluatePlan(proposal([restart]), facts(), parsePolicy({ dryRun: false })).dryRun, false);
  });
});

function openDocument(): RemediationPolicyDocument {
  return { modes: { low: 'auto', medium: 'auto', high: 'auto' }, enabledActions: ACTION_NAMES };
}
