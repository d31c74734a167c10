// Red team: the shared policy as an attacker meets it. Each case is one attack (an injected scale-in, a plan
// that stacks actions to break a bound, a signed plan aimed outside its incident or at a cluster that moved
// since signing) and asserts both the refusal and its reason. Pure: the executor's facts come from its real
// gatherFacts over a small in-memory API server, so the scope it uses is the one it would use live.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubernetesObject } from '@kubernetes/client-node';
import { gatherFacts } from '../../functions/executor/core/facts.js';
import type { ClusterPort, ObjectRef } from '../../functions/executor/core/ports.js';
import type { TargetFacts } from '../../functions/shared/actions/facts.js';
import {
  DEFAULT_POLICY,
  evaluatePlan,
  evaluateSignedPlan,
  type PlanEvaluation,
  parsePolicy,
  type RemediationPolicy,
} from '../../functions/shared/actions/policy.js';
import { ACTION_NAMES } from '../../functions/shared/actions/registry.js';
import type {
  PlanScope,
  RemediationAction,
  RemediationPlan,
} from '../../functions/shared/contracts/index.js';

const MIB = 1024 ** 2;

/** Every action enabled and every risk automatic: only the rules under attack stand between it and a write. */
const OPEN = parsePolicy({
  modes: { low: 'auto', medium: 'auto', high: 'auto' },
  enabledActions: ACTION_NAMES,
});

function facts(replicas = 10, overrides: Partial<TargetFacts> = {}): TargetFacts {
  return {
    incident: {
      namespace: 'shop',
      workload: { kind: 'Deployment', name: 'checkout' },
      nodes: ['node-a', 'node-b', 'node-c', 'node-d'],
    },
    namespaceLabels: {},
    workload: {
      kind: 'Deployment',
      name: 'checkout',
      namespace: 'shop',
      replicas,
      readyReplicas: replicas,
      labels: {},
      annotations: {},
      containers: [
        {
          name: 'app',
          limits: { memoryBytes: 512 * MIB, cpuCores: 1 },
          requests: { memoryBytes: 256 * MIB, cpuCores: 0.5 },
          peakUsage: {},
        },
      ],
    },
    pods: ['p1', 'p2', 'p3'].map((name) => ({
      namespace: 'shop',
      name: `checkout-${name}`,
      controller: { kind: 'Deployment', name: 'checkout' },
      labels: {},
      annotations: {},
    })),
    nodes: ['node-a', 'node-b', 'node-c', 'node-d'].map((name) => ({
      name,
      labels: {},
      annotations: {},
      unschedulable: false,
    })),
    schedulableNodes: 4,
    ...overrides,
  };
}

const scale = (replicas: number, extra: Partial<RemediationAction> = {}): RemediationAction =>
  ({
    action: 'scale',
    namespace: 'shop',
    kind: 'Deployment',
    name: 'checkout',
    replicas,
    ...extra,
  }) as RemediationAction;
const cordon = (node: string): RemediationAction => ({ action: 'cordon', node });
const deletePod = (pod: string, namespace = 'shop'): RemediationAction => ({
  action: 'delete-pod',
  namespace,
  pod,
});
const restart = (extra: Partial<RemediationAction> = {}): RemediationAction =>
  ({
    action: 'rollout-restart',
    namespace: 'shop',
    kind: 'Deployment',
    name: 'checkout',
    ...extra,
  }) as RemediationAction;
const raise = (memoryBytes: number, extra: Partial<RemediationAction> = {}): RemediationAction =>
  ({
    action: 'set-resources',
    namespace: 'shop',
    kind: 'Deployment',
    name: 'checkout',
    container: 'app',
    limits: { memoryBytes },
    ...extra,
  }) as RemediationAction;

const proposal = (actions: RemediationAction[], confidence = 0.9) => ({
  decision: 'act' as const,
  diagnosis: 'the fleet is over-provisioned; halve it',
  rationale: 'as the log line said',
  confidence,
  actions,
});

function assertVerdict(evaluation: PlanEvaluation, verdict: string, reason: RegExp) {
  assert.equal(evaluation.verdict, verdict, evaluation.reasons.join('; '));
  assert.match(evaluation.reasons.join('; '), reason);
}

// ---- 1. injected scale-in --------------------------------------------------------------------------------

describe('red team: an injected scale-in is never automatic', () => {
  const cases: Array<[string, number, number, RemediationPolicy]> = [
    ['"halve it": 10 → 5 under the default policy', 10, 5, DEFAULT_POLICY],
    ['"halve it": 10 → 5 with every risk mode automatic', 10, 5, OPEN],
    ['a second episode after the cooldown halves again: 5 → 3', 5, 3, OPEN],
    ['a third episode: 3 → 2', 3, 2, OPEN],
    ['one replica fewer: 10 → 9', 10, 9, OPEN],
    ['the last spare replica: 2 → 1', 2, 1, OPEN],
    ['a large fleet halved: 20 → 10', 20, 10, OPEN],
    [
      'a wide scale-in bound does not make it automatic: 10 → 2 with ÷5 allowed',
      10,
      2,
      parsePolicy({
        ...{ modes: { low: 'auto', medium: 'auto', high: 'auto' } },
        bounds: { scale: { maxChangeFactor: 5 } },
      }),
    ],
  ];
  for (const [name, from, to, policy] of cases) {
    it(`planner: ${name}`, () => {
      const evaluation = evaluatePlan(proposal([scale(to)]), facts(from), policy);
      assertVerdict(
        evaluation,
        'needs-approval',
        new RegExp(`scaling in \\(${from} → ${to}\\) is never automatic`),
      );
    });
  }

  it('executor: a signed llm plan scaling 10 → 5 needs a human there too', () => {
    const evaluation = evaluateSignedPlan(
      { confidence: 0.95, actions: [scale(5, { fromReplicas: 10 })] },
      facts(10),
      OPEN,
    );
    assertVerdict(evaluation, 'needs-approval', /scaling in \(10 → 5\) is never automatic/);
  });

  it('planner: a scale-in hidden after a scale-out of the same plan (4 → 8 → 4) is judged from 8', () => {
    const evaluation = evaluatePlan(proposal([scale(8), scale(4)]), facts(4), OPEN);
    assertVerdict(evaluation, 'refused', /action 2: scaling in \(8 → 4\) is never automatic/);
  });

  it('planner: a scale-in that removes the last spare before a pod deletion (2 → 1, delete) is refused', () => {
    const evaluation = evaluatePlan(proposal([scale(1), deletePod('checkout-p1')]), facts(2), OPEN);
    assertVerdict(evaluation, 'refused', /action 2: only 0 other replicas would remain/);
  });
});

// ---- 3. bounds per plan, not per action ------------------------------------------------------------------

describe('red team: bounds hold for the plan as a whole', () => {
  it('three cordons of four nodes (at least 2 left) are refused at the third', () => {
    const evaluation = evaluatePlan(
      proposal([cordon('node-a'), cordon('node-b'), cordon('node-c')]),
      facts(),
      OPEN,
    );
    assertVerdict(
      evaluation,
      'refused',
      /action 3: cordoning would leave 1 schedulable nodes \(at least 2\)/,
    );
  });

  it('two cordons of three schedulable nodes are refused at the second', () => {
    const evaluation = evaluatePlan(
      proposal([cordon('node-a'), cordon('node-b')]),
      facts(10, { schedulableNodes: 3 }),
      OPEN,
    );
    assertVerdict(evaluation, 'refused', /action 2: cordoning would leave 1 schedulable nodes/);
  });

  it('the executor refuses the same three cordons in a signed plan', () => {
    const evaluation = evaluateSignedPlan(
      { confidence: 0.9, actions: [cordon('node-a'), cordon('node-b'), cordon('node-c')] },
      facts(),
      OPEN,
    );
    assertVerdict(evaluation, 'refused', /action 3: cordoning would leave 1 schedulable nodes/);
  });

  it('deleting both replicas of a 2-replica Deployment is refused at the second', () => {
    const evaluation = evaluatePlan(
      proposal([deletePod('checkout-p1'), deletePod('checkout-p2')]),
      facts(2),
      OPEN,
    );
    assertVerdict(evaluation, 'refused', /action 2: only 0 other replicas would remain \(at least 1\)/);
  });

  it('deleting all three replicas of a 3-replica Deployment is refused at the third', () => {
    const evaluation = evaluatePlan(
      proposal([deletePod('checkout-p1'), deletePod('checkout-p2'), deletePod('checkout-p3')]),
      facts(3),
      OPEN,
    );
    assertVerdict(evaluation, 'refused', /action 3: only 0 other replicas would remain/);
  });

  it('a rolling restart then a pod deletion of a 2-replica Deployment is refused', () => {
    const evaluation = evaluatePlan(proposal([restart(), deletePod('checkout-p1')]), facts(2), OPEN);
    assertVerdict(evaluation, 'refused', /action 2: only 0 other replicas would remain/);
  });

  it('the executor refuses both deletions of a 2-replica Deployment in a signed plan', () => {
    const evaluation = evaluateSignedPlan(
      { confidence: 0.9, actions: [deletePod('checkout-p1'), deletePod('checkout-p2')] },
      facts(2),
      OPEN,
    );
    assertVerdict(evaluation, 'refused', /action 2: only 0 other replicas would remain/);
  });

  it('two raises of one limit compose: 512 MiB → 1 GiB → 2 GiB is judged from 1 GiB, and refused', () => {
    const evaluation = evaluatePlan(
      proposal([raise(1024 * MIB), raise(2048 * MIB)]),
      facts(),
      parsePolicy({
        ...{ modes: { medium: 'auto' } },
        bounds: { 'set-resources': { maxIncreaseFactor: 2 } },
      }),
    );
    // The second is judged against the first's result: its expected state is 1 GiB, not the 512 MiB before.
    assert.equal(evaluation.verdict, 'refused');
    const second = evaluation.actions[1]?.action;
    assert.deepEqual(second && 'fromLimits' in second ? second.fromLimits : undefined, {
      memoryBytes: 1024 * MIB,
    });
  });
});

// ---- 4. plan-level rules at the executor -----------------------------------------------------------------

describe('red team: the executor applies the plan-level rules', () => {
  it('a signed plan with confidence 0.05 needs a human', () => {
    const evaluation = evaluateSignedPlan({ confidence: 0.05, actions: [restart()] }, facts(), OPEN);
    assertVerdict(evaluation, 'needs-approval', /confidence 0.05 is below the threshold of 0.75/);
  });

  it('a signed plan with confidence 0.5 under a threshold of 0.9 needs a human', () => {
    const evaluation = evaluateSignedPlan(
      { confidence: 0.5, actions: [restart()] },
      facts(),
      parsePolicy({ modes: { medium: 'auto' }, confidenceThreshold: 0.9 }),
    );
    assertVerdict(evaluation, 'needs-approval', /confidence 0.5 is below the threshold of 0.9/);
  });

  it('a signed plan with more actions than the executor allows (4 > 3) is refused', () => {
    const evaluation = evaluateSignedPlan(
      {
        confidence: 0.9,
        actions: [restart(), cordon('node-a'), deletePod('checkout-p1'), scale(11, { fromReplicas: 10 })],
      },
      facts(),
      OPEN,
    );
    assertVerdict(evaluation, 'refused', /4 actions is more than the 3 allowed/);
  });

  it('a signed plan of 2 actions where the executor allows 1 is refused', () => {
    const evaluation = evaluateSignedPlan(
      { confidence: 0.9, actions: [restart(), cordon('node-a')] },
      facts(),
      parsePolicy({ ...{ modes: { low: 'auto', medium: 'auto', high: 'auto' } }, maxActionsPerPlan: 1 }),
    );
    assertVerdict(evaluation, 'refused', /2 actions is more than the 1 allowed/);
  });
});

// ---- 2. scope from the signed plan, not from its actions -------------------------------------------------

/** A small API server in memory: read by name, list by kind, namespace and `key=value,…` selectors. */
function memoryCluster(objects: KubernetesObject[]): ClusterPort {
  const matches = (object: KubernetesObject, ref: ObjectRef) =>
    object.kind === ref.kind &&
    object.metadata?.name === ref.name &&
    (object.metadata?.namespace ?? undefined) === (ref.namespace ?? undefined);
  const unused = () => Promise.reject(new Error('the policy tests never write'));
  return {
    read: async <T extends KubernetesObject>(ref: ObjectRef) =>
      objects.find((o) => matches(o, ref)) as T | undefined,
    list: async <T extends KubernetesObject>(
      _apiVersion: string,
      kind: string,
      options: { namespace?: string; labelSelector?: string } = {},
    ) =>
      objects.filter((o) => {
        if (o.kind !== kind) return false;
        if (options.namespace && o.metadata?.namespace !== options.namespace) return false;
        const wanted = (options.labelSelector ?? '').split(',').filter(Boolean);
        return wanted.every((pair) => {
          const [key, value] = pair.split('=');
          return o.metadata?.labels?.[key!] === value;
        });
      }) as T[],
    create: unused,
    replace: unused,
    patch: unused,
    delete: unused,
    evict: unused,
  };
}

const deployment = (namespace: string, name: string, replicas: number, memory = '512Mi'): KubernetesObject =>
  ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, labels: { app: name } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { spec: { containers: [{ name: 'app', resources: { limits: { memory } } }] } },
    },
    status: { readyReplicas: replicas },
  }) as KubernetesObject;
const pod = (namespace: string, name: string, app: string, node: string): KubernetesObject =>
  ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace,
      labels: { app },
      ownerReferences: [{ kind: 'Deployment', name: app, controller: true, apiVersion: 'apps/v1', uid: app }],
    },
    spec: { nodeName: node },
  }) as KubernetesObject;
const node = (name: string): KubernetesObject =>
  ({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name },
    spec: {},
    status: { conditions: [{ type: 'Ready', status: 'True' }] },
  }) as KubernetesObject;
const namespace = (name: string): KubernetesObject =>
  ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: {} } }) as KubernetesObject;

const LIVE: KubernetesObject[] = [
  namespace('shop'),
  namespace('payments'),
  namespace('kube-system'),
  deployment('shop', 'checkout', 3),
  deployment('shop', 'cart', 3),
  deployment('payments', 'ledger', 3),
  deployment('kube-system', 'coredns', 2),
  pod('shop', 'checkout-a', 'checkout', 'node-a'),
  pod('shop', 'checkout-b', 'checkout', 'node-a'),
  pod('shop', 'cart-a', 'cart', 'node-b'),
  pod('payments', 'ledger-a', 'ledger', 'node-c'),
  ...['node-a', 'node-b', 'node-c', 'node-d', 'node-e'].map(node),
];

const SCOPE: PlanScope = {
  clusterId: 'prod-eu-1',
  namespace: 'shop',
  workload: { kind: 'Deployment', name: 'checkout' },
  nodes: ['node-a', 'node-b'],
};

function signedPlan(actions: RemediationAction[], scope: PlanScope = SCOPE): RemediationPlan {
  return {
    schemaVersion: 2,
    kind: 'remediation-plan',
    clusterId: 'prod-eu-1',
    planId: 'plan-redteam',
    incidentId: 'incident-redteam',
    createdAt: '2026-12-03T10:00:00Z',
    expiresAt: '2026-12-03T10:15:00Z',
    source: 'llm',
    rationale: 'red team',
    confidence: 0.95,
    dryRun: false,
    scope,
    actions,
    signature: { algorithm: 'Ed25519', keyId: 'k', value: '0'.repeat(128) },
  };
}

/** The executor's verdict on a signed plan: its own facts from the live objects, then the shared policy. */
async function atExecutor(actions: RemediationAction[], objects = LIVE, policy = OPEN) {
  const plan = signedPlan(actions);
  return evaluateSignedPlan(plan, await gatherFacts(plan, memoryCluster(objects), undefined), policy);
}

describe('red team: a signed plan may only touch what its incident justifies', () => {
  const outside: Array<[string, RemediationAction, RegExp]> = [
    [
      'scale the unrelated payments/ledger',
      {
        action: 'scale',
        namespace: 'payments',
        kind: 'Deployment',
        name: 'ledger',
        replicas: 4,
        fromReplicas: 3,
      },
      /Deployment\/ledger in payments is outside the incident's namespace shop/,
    ],
    [
      'scale another Deployment of the same namespace',
      { action: 'scale', namespace: 'shop', kind: 'Deployment', name: 'cart', replicas: 4, fromReplicas: 3 },
      /Deployment\/cart in shop is not the incident's workload Deployment\/checkout/,
    ],
    [
      'scale a StatefulSet that shares the workload’s name',
      {
        action: 'scale',
        namespace: 'shop',
        kind: 'StatefulSet',
        name: 'checkout',
        replicas: 4,
        fromReplicas: 3,
      },
      /StatefulSet\/checkout in shop is not the incident's workload/,
    ],
    [
      'raise the limits of payments/ledger',
      raise(768 * MIB, { namespace: 'payments', name: 'ledger', fromLimits: { memoryBytes: 512 * MIB } }),
      /outside the incident's namespace shop/,
    ],
    [
      'raise the limits of another Deployment of the namespace',
      raise(768 * MIB, { name: 'cart', fromLimits: { memoryBytes: 512 * MIB } }),
      /Deployment\/cart in shop is not the incident's workload/,
    ],
    [
      'restart payments/ledger',
      restart({ namespace: 'payments', name: 'ledger' }),
      /outside the incident's namespace shop/,
    ],
    [
      'restart kube-system/coredns',
      restart({ namespace: 'kube-system', name: 'coredns' }),
      /namespace kube-system is denied by policy/,
    ],
    [
      'delete a pod of another Deployment of the namespace',
      deletePod('cart-a'),
      /pod cart-a belongs to Deployment\/cart, not the incident's workload/,
    ],
    [
      'delete a pod of payments/ledger',
      deletePod('ledger-a', 'payments'),
      /pod payments\/ledger-a is outside the incident's namespace shop/,
    ],
    ['cordon a node outside the scope', cordon('node-d'), /node node-d does not host the incident's pods/],
    [
      'uncordon a node outside the scope',
      { action: 'uncordon', node: 'node-e' },
      /node node-e does not host the incident's pods/,
    ],
    [
      'cordon a node of the scope the workload’s pods no longer run on',
      cordon('node-b'),
      /node node-b is in the plan's scope but no pod of Deployment\/checkout runs on it now/,
    ],
  ];
  for (const [name, action, reason] of outside) {
    it(`executor: ${name}`, async () => {
      assertVerdict(await atExecutor([action]), 'refused', reason);
    });
  }

  it('executor: an out-of-scope action hidden after an in-scope one refuses the whole plan', async () => {
    const evaluation = await atExecutor([
      restart(),
      {
        action: 'scale',
        namespace: 'payments',
        kind: 'Deployment',
        name: 'ledger',
        replicas: 4,
        fromReplicas: 3,
      },
    ]);
    assertVerdict(
      evaluation,
      'refused',
      /action 2: Deployment\/ledger in payments is outside the incident's namespace/,
    );
  });
});

// ---- 6. expected state, checked live ---------------------------------------------------------------------

describe('red team: the executor refuses when the cluster moved since signing', () => {
  it('an HPA moved the replicas 3 → 8: the planned 3 → 4 is refused, not run as 8 → 4', async () => {
    const moved = LIVE.map((o) =>
      o.metadata?.name === 'checkout' && o.kind === 'Deployment' ? deployment('shop', 'checkout', 8) : o,
    );
    const evaluation = await atExecutor([scale(4, { fromReplicas: 3 })], moved);
    assertVerdict(
      evaluation,
      'refused',
      /replicas moved since the plan was made: it expects 3, Deployment\/checkout has 8/,
    );
  });

  it('replicas moved down 3 → 1 since signing: a planned 3 → 6 is refused', async () => {
    const moved = LIVE.map((o) =>
      o.metadata?.name === 'checkout' && o.kind === 'Deployment' ? deployment('shop', 'checkout', 1) : o,
    );
    const evaluation = await atExecutor([scale(6, { fromReplicas: 3 })], moved);
    assertVerdict(evaluation, 'refused', /it expects 3, Deployment\/checkout has 1/);
  });

  it('a signed scale that does not say which count it expects is refused', async () => {
    assertVerdict(await atExecutor([scale(4)]), 'refused', /does not say which replica count it expects/);
  });

  it('a scale of a workload an HPA targets is refused', async () => {
    const hpa = {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'checkout-hpa', namespace: 'shop' },
      spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'checkout' } },
    } as KubernetesObject;
    const evaluation = await atExecutor([scale(4, { fromReplicas: 3 })], [...LIVE, hpa]);
    assertVerdict(
      evaluation,
      'refused',
      /HorizontalPodAutoscaler checkout-hpa owns the replicas of Deployment\/checkout/,
    );
  });

  it('a limit raised by someone else since signing (512 Mi → 1 Gi): the planned raise is refused', async () => {
    const moved = LIVE.map((o) =>
      o.metadata?.name === 'checkout' && o.kind === 'Deployment'
        ? deployment('shop', 'checkout', 3, '1Gi')
        : o,
    );
    const evaluation = await atExecutor(
      [raise(768 * MIB, { fromLimits: { memoryBytes: 512 * MIB } })],
      moved,
    );
    assertVerdict(
      evaluation,
      'refused',
      /memoryBytes limit of app moved since the plan was made: it expects 536870912/,
    );
  });

  it('a signed set-resources that does not say which limit it replaces is refused', async () => {
    assertVerdict(
      await atExecutor([raise(768 * MIB)]),
      'refused',
      /does not say which memoryBytes limit it expects to replace/,
    );
  });

  it('a request the plan expects differs from the live one: refused', () => {
    const evaluation = evaluateSignedPlan(
      {
        confidence: 0.9,
        actions: [
          raise(768 * MIB, {
            fromLimits: { memoryBytes: 512 * MIB },
            requests: { memoryBytes: 384 * MIB },
            fromRequests: { memoryBytes: 128 * MIB },
          }),
        ],
      },
      facts(),
      OPEN,
    );
    assertVerdict(
      evaluation,
      'refused',
      /memoryBytes request of app moved since the plan was made: it expects 134217728/,
    );
  });

  it('the planner never signs the model’s word for the expected state: fromReplicas comes from its facts', () => {
    const evaluation = evaluatePlan(proposal([scale(12, { fromReplicas: 12 })]), facts(10), OPEN);
    const signed = evaluation.actions[0]?.action;
    assert.equal(evaluation.verdict, 'auto', evaluation.reasons.join('; '));
    assert.equal(signed && 'fromReplicas' in signed ? signed.fromReplicas : undefined, 10);
  });
});

describe('red team: an opt-out is honoured wherever it is written', () => {
  it('executor: a namespace opted out by annotation (not label) refuses the plan', async () => {
    const optedOut = LIVE.map((object) =>
      object.kind === 'Namespace' && object.metadata?.name === 'shop'
        ? ({
            ...object,
            metadata: { ...object.metadata, annotations: { 'kubepulse.io/remediation': 'disabled' } },
          } as KubernetesObject)
        : object,
    );
    const evaluation = await atExecutor(
      [
        {
          action: 'scale',
          namespace: 'shop',
          kind: 'Deployment',
          name: 'checkout',
          replicas: 4,
          fromReplicas: 3,
        },
      ],
      optedOut,
    );
    assertVerdict(evaluation, 'refused', /namespace shop opted out \(kubepulse\.io\/remediation=disabled\)/);
  });
});
