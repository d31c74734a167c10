// Red team against the real local API server: signed plans the executor must refuse because they reach outside
// their incident, because the cluster moved since they were signed, or because the executor's own plan-level
// rules say no. Each case asserts the refusal, its reason, and that the object was NOT changed. The executor
// runs as its own ServiceAccount with the RBAC as shipped.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ApiextensionsV1Api,
  AppsV1Api,
  AutoscalingV2Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1Deployment,
} from '@kubernetes/client-node';
import { kubeCluster } from '../../functions/executor/adapters/kube-cluster.js';
import { kubernetesAuditTrail } from '../../functions/executor/core/audit.js';
import { type ExecutorDeps, executePlanMessage } from '../../functions/executor/core/execute-plan.js';
import { PlanLedger } from '../../functions/executor/core/ledger.js';
import { rolloutProgress } from '../../functions/executor/core/rollout.js';
import { parsePolicy } from '../../functions/shared/actions/policy.js';
import { ACTION_NAMES } from '../../functions/shared/actions/registry.js';
import type { PlanScope, RemediationAction } from '../../functions/shared/contracts/index.js';
import { keyringOf, signPlan, type UnsignedPlan } from '../../functions/shared/signing.js';
import {
  controlPlaneBlocker,
  ensureControlPlane,
  serviceAccountKubeConfig,
} from '../../local/harness/support/control-plane.js';
import {
  applyObjects,
  kustomizeBuild,
  withExecutorNamespaces,
} from '../../local/harness/support/kustomize.js';
import { eventually } from '../support/eventually.js';
import { quietLogger } from '../support/loggers.js';

const blocker = await controlPlaneBlocker();
const skip = blocker && process.env.CI !== 'true' ? `local control plane cannot be built: ${blocker}` : false;

const CLUSTER_ID = 'local';
const EXECUTOR_NAMESPACE = 'kubepulse';
const suffix = randomBytes(3).toString('hex');
const SHOP = `scope-it-${suffix}`;
const PAYMENTS = `scope-it-pay-${suffix}`;
const LONELY_NODE = `scope-it-${suffix}-lonely`;
const signer = { keyId: 'planner-1', key: randomBytes(32) };

const deploymentOf = (name: string, replicas: number): V1Deployment => ({
  metadata: { name, labels: { app: name } },
  spec: {
    replicas,
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: { containers: [{ name: 'app', image: 'registry.invalid/kubepulse/web:1' }] },
    },
  },
});

describe('red team: the executor on a real API server refuses what its signed scope does not justify', {
  skip,
}, () => {
  let admin: KubeConfig;
  let apps: AppsV1Api;
  let core: CoreV1Api;
  let deps: ExecutorDeps;

  before(async () => {
    ({ kubeConfig: admin } = await ensureControlPlane());
    apps = admin.makeApiClient(AppsV1Api);
    core = admin.makeApiClient(CoreV1Api);
    // Only the executor's identity and RBAC as shipped: the rest (its ConfigMaps, Deployment) is not under test.
    const identity = new Set([
      'Namespace',
      'ServiceAccount',
      'ClusterRole',
      'ClusterRoleBinding',
      'Role',
      'RoleBinding',
    ]);
    for (const name of [SHOP, PAYMENTS]) await core.createNamespace({ body: { metadata: { name } } });
    // Its verbs on workloads are bound per namespace it may act in, as an operator lists them.
    const shipped = withExecutorNamespaces(await kustomizeBuild('infra/kubernetes'), [SHOP, PAYMENTS]);
    await applyObjects(
      admin,
      shipped.filter((o) => identity.has(o.kind ?? '') && JSON.stringify(o).includes('kubepulse-executor')),
    );
    const executorKube = await serviceAccountKubeConfig(
      admin,
      EXECUTOR_NAMESPACE,
      'kubepulse-executor',
      3600,
    );
    // A node nothing of this suite runs on (tainted, so nothing else lands there either).
    await core.createNode({
      body: {
        metadata: {
          name: LONELY_NODE,
          annotations: { 'kwok.x-k8s.io/node': 'fake' },
          labels: { type: 'kwok', 'kubernetes.io/hostname': LONELY_NODE },
        },
        spec: { taints: [{ key: 'kubepulse.io/scope-test', value: suffix, effect: 'NoSchedule' }] },
        status: { allocatable: { cpu: '8', memory: '16Gi', pods: '110' } },
      },
    });
    const cluster = kubeCluster(executorKube);
    const now = () => new Date();
    deps = {
      cluster,
      ledger: new PlanLedger(cluster, EXECUTOR_NAMESPACE, `scope-it-${suffix}`, 60),
      keyring: keyringOf(signer),
      // Everything automatic in the suite's namespaces: only the rules under attack can say no.
      policy: parsePolicy({
        dryRun: false,
        enabledActions: ACTION_NAMES,
        namespaces: { allow: ['scope-it-*'] },
        modes: { low: 'auto', medium: 'auto', high: 'auto' },
        bounds: { cordon: { minSchedulableNodesAfter: 1 } },
      }),
      audit: kubernetesAuditTrail(cluster, quietLogger, `scope-it-${suffix}`, now),
      logger: quietLogger,
      settings: {
        clusterId: CLUSTER_ID,
        cooldownSeconds: 0,
        verifyTimeoutSeconds: 30,
        verifyPollMilliseconds: 250,
        conflictAttempts: 3,
        clockSkewSeconds: 60,
        maxPlanLifetimeSeconds: 3600,
      },
      now,
      sleep: (ms) => sleep(ms),
    };
  });

  after(async () => {
    for (const name of [SHOP, PAYMENTS]) await core?.deleteNamespace({ name }).catch(() => undefined);
    await core?.deleteNode({ name: LONELY_NODE }).catch(() => undefined);
  });

  async function createDeployment(namespace: string, body: V1Deployment): Promise<V1Deployment> {
    await apps.createNamespacedDeployment({ namespace, body });
    const name = body.metadata!.name!;
    return eventually(`deployment ${name} rolled out`, async () => {
      const current = await apps.readNamespacedDeployment({ name, namespace });
      return rolloutProgress('Deployment', current).done ? current : undefined;
    });
  }

  const scopeOf = (workload: string, nodes: string[] = []): PlanScope => ({
    clusterId: CLUSTER_ID,
    namespace: SHOP,
    workload: { kind: 'Deployment', name: workload },
    nodes,
  });

  function plan(scope: PlanScope, actions: RemediationAction[], overrides: Partial<UnsignedPlan> = {}) {
    const now = Date.now();
    return signPlan(
      {
        schemaVersion: 2,
        kind: 'remediation-plan',
        clusterId: CLUSTER_ID,
        planId: `plan-${randomUUID()}`,
        incidentId: `incident-${randomUUID()}`,
        createdAt: new Date(now - 1000).toISOString(),
        expiresAt: new Date(now + 10 * 60_000).toISOString(),
        source: 'llm',
        rationale: 'red team',
        confidence: 0.95,
        dryRun: false,
        scope,
        actions,
        ...overrides,
      },
      signer,
    );
  }

  async function refused(body: unknown, reason: RegExp) {
    const outcome = await executePlanMessage(JSON.stringify(body), deps);
    assert.equal(outcome.kind, 'result');
    if (outcome.kind !== 'result') return;
    assert.equal(outcome.result.status, 'refused', outcome.result.error);
    assert.match(outcome.result.error ?? '', reason);
  }

  const scale = (
    namespace: string,
    name: string,
    replicas: number,
    fromReplicas: number,
  ): RemediationAction => ({
    action: 'scale',
    namespace,
    kind: 'Deployment',
    name,
    replicas,
    fromReplicas,
  });

  it('a signed plan for the checkout incident scaling the unrelated ledger is refused; ledger untouched', async () => {
    await createDeployment(SHOP, deploymentOf('checkout', 1));
    const ledger = await createDeployment(PAYMENTS, deploymentOf('ledger', 2));
    await refused(
      plan(scopeOf('checkout'), [scale(PAYMENTS, 'ledger', 4, 2)]),
      new RegExp(`Deployment/ledger in ${PAYMENTS} is outside the incident's namespace ${SHOP}`),
    );
    const after = await apps.readNamespacedDeployment({ name: 'ledger', namespace: PAYMENTS });
    assert.equal(after.spec?.replicas, 2);
    assert.equal(after.metadata?.resourceVersion, ledger.metadata?.resourceVersion);
  });

  it('an HPA moved the replicas 3 → 8 after signing: the planned 3 → 4 is refused, not run as 8 → 4', async () => {
    await createDeployment(SHOP, deploymentOf('raced', 3));
    const signed = plan(scopeOf('raced'), [scale(SHOP, 'raced', 4, 3)]);
    await apps.patchNamespacedDeployment(
      { name: 'raced', namespace: SHOP, body: { spec: { replicas: 8 } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await refused(signed, /replicas moved since the plan was made: it expects 3, Deployment\/raced has 8/);
    assert.equal((await apps.readNamespacedDeployment({ name: 'raced', namespace: SHOP })).spec?.replicas, 8);
  });

  it('a scale of a Deployment an HPA targets is refused; replicas untouched', async () => {
    const before = await createDeployment(SHOP, deploymentOf('autoscaled', 2));
    await admin.makeApiClient(AutoscalingV2Api).createNamespacedHorizontalPodAutoscaler({
      namespace: SHOP,
      body: {
        metadata: { name: 'autoscaled-hpa' },
        spec: {
          scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'autoscaled' },
          minReplicas: 1,
          maxReplicas: 10,
        },
      },
    });
    await refused(
      plan(scopeOf('autoscaled'), [scale(SHOP, 'autoscaled', 3, 2)]),
      /HorizontalPodAutoscaler autoscaled-hpa owns the replicas of Deployment\/autoscaled/,
    );
    const after = await apps.readNamespacedDeployment({ name: 'autoscaled', namespace: SHOP });
    assert.equal(after.metadata?.annotations?.['kubepulse.io/last-remediation'], undefined);
    assert.equal(after.metadata?.generation, before.metadata?.generation);
  });

  describe('a VerticalPodAutoscaler owns the resources it sets', () => {
    const VPA_CRD = 'verticalpodautoscalers.autoscaling.k8s.io';
    const MIB = 1024 * 1024;
    let createdCrd = false;

    before(async () => {
      // The VPA's API as the autoscaler installs it (schema left open: only targetRef and updatePolicy are read).
      const extensions = admin.makeApiClient(ApiextensionsV1Api);
      try {
        await extensions.createCustomResourceDefinition({
          body: {
            // *.k8s.io groups need this annotation; the autoscaler's own CRD carries it the same way.
            metadata: {
              name: VPA_CRD,
              annotations: {
                'api-approved.kubernetes.io': 'https://github.com/kubernetes/kubernetes/pull/63797',
              },
            },
            spec: {
              group: 'autoscaling.k8s.io',
              scope: 'Namespaced',
              names: {
                plural: 'verticalpodautoscalers',
                singular: 'verticalpodautoscaler',
                kind: 'VerticalPodAutoscaler',
                shortNames: ['vpa'],
              },
              versions: [
                {
                  name: 'v1',
                  served: true,
                  storage: true,
                  schema: {
                    openAPIV3Schema: { type: 'object', x_kubernetes_preserve_unknown_fields: true },
                  },
                },
              ],
            },
          },
        });
        createdCrd = true;
      } catch (error) {
        if ((error as { code?: number }).code !== 409) throw error;
      }
      await eventually('the VPA API served', async () => {
        const crd = await extensions.readCustomResourceDefinition({ name: VPA_CRD });
        return (
          crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') || undefined
        );
      });
    });
    after(async () => {
      // Other suites' executors should meet a cluster without the VPA API, as most are.
      if (createdCrd) {
        await admin
          .makeApiClient(ApiextensionsV1Api)
          .deleteCustomResourceDefinition({ name: VPA_CRD })
          .catch(() => undefined);
      }
    });

    const sized = (name: string): V1Deployment => {
      const body = deploymentOf(name, 1);
      body.spec!.template.spec!.containers[0]!.resources = { limits: { memory: '256Mi' } };
      return body;
    };
    const vpa = (name: string, target: string, updateMode: string) =>
      eventually(`VPA ${name} created`, async () => {
        await admin.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
          group: 'autoscaling.k8s.io',
          version: 'v1',
          namespace: SHOP,
          plural: 'verticalpodautoscalers',
          body: {
            apiVersion: 'autoscaling.k8s.io/v1',
            kind: 'VerticalPodAutoscaler',
            metadata: { name },
            spec: {
              targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: target },
              updatePolicy: { updateMode },
            },
          },
        });
        return true;
      });
    const raise = (name: string): RemediationAction => ({
      action: 'set-resources',
      namespace: SHOP,
      kind: 'Deployment',
      name,
      container: 'app',
      limits: { memoryBytes: 384 * MIB },
      fromLimits: { memoryBytes: 256 * MIB },
    });

    it('a raised memory limit on a Deployment a VPA sets (Auto) is refused; the template untouched', async () => {
      const before = await createDeployment(SHOP, sized('vpa-auto'));
      await vpa('vpa-auto-vpa', 'vpa-auto', 'Auto');
      await refused(
        plan(scopeOf('vpa-auto'), [raise('vpa-auto')]),
        /VerticalPodAutoscaler vpa-auto-vpa owns the resources of Deployment\/vpa-auto/,
      );
      const after = await apps.readNamespacedDeployment({ name: 'vpa-auto', namespace: SHOP });
      assert.equal(after.metadata?.generation, before.metadata?.generation);
    });

    it('a VPA in Initial mode owns them too (it rewrites every new pod); refused', async () => {
      await createDeployment(SHOP, sized('vpa-initial'));
      await vpa('vpa-initial-vpa', 'vpa-initial', 'Initial');
      await refused(
        plan(scopeOf('vpa-initial'), [raise('vpa-initial')]),
        /VerticalPodAutoscaler vpa-initial-vpa owns the resources/,
      );
    });

    it('a VPA in Off mode only recommends: the raise is not refused for it', async () => {
      await createDeployment(SHOP, sized('vpa-off'));
      await vpa('vpa-off-vpa', 'vpa-off', 'Off');
      const outcome = await executePlanMessage(
        JSON.stringify(plan(scopeOf('vpa-off'), [raise('vpa-off')])),
        deps,
      );
      assert.equal(outcome.kind, 'result');
      if (outcome.kind !== 'result') return;
      assert.doesNotMatch(outcome.result.error ?? '', /VerticalPodAutoscaler/);
      const after = await apps.readNamespacedDeployment({ name: 'vpa-off', namespace: SHOP });
      assert.equal(after.spec?.template.spec?.containers[0]?.resources?.limits?.memory, String(384 * MIB));
    });
  });

  it('a signed plan with confidence 0.05 is refused by the executor; nothing restarted', async () => {
    const before = await createDeployment(SHOP, deploymentOf('unsure', 1));
    await refused(
      plan(
        scopeOf('unsure'),
        [{ action: 'rollout-restart', namespace: SHOP, kind: 'Deployment', name: 'unsure' }],
        {
          confidence: 0.05,
        },
      ),
      /confidence 0.05 is below the threshold of 0.75/,
    );
    const after = await apps.readNamespacedDeployment({ name: 'unsure', namespace: SHOP });
    assert.equal(after.metadata?.generation, before.metadata?.generation);
  });

  it('an injected "halve it" signed as an automatic plan (4 → 2) is refused by the executor', async () => {
    await createDeployment(SHOP, deploymentOf('halved', 4));
    await refused(
      plan(scopeOf('halved'), [scale(SHOP, 'halved', 2, 4)]),
      /scaling in \(4 → 2\) is never automatic/,
    );
    assert.equal(
      (await apps.readNamespacedDeployment({ name: 'halved', namespace: SHOP })).spec?.replicas,
      4,
    );
  });

  it('a cordon of a node in the scope that the workload’s pods do not run on is refused; node schedulable', async () => {
    await createDeployment(SHOP, deploymentOf('placed', 1));
    await refused(
      plan(scopeOf('placed', [LONELY_NODE]), [{ action: 'cordon', node: LONELY_NODE }]),
      new RegExp(`node ${LONELY_NODE} is in the plan's scope but no pod of Deployment/placed runs on it now`),
    );
    assert.notEqual((await core.readNode({ name: LONELY_NODE })).spec?.unschedulable, true);
  });

  it('a plan whose signed scope names another cluster is refused untouched', async () => {
    const before = await createDeployment(SHOP, deploymentOf('elsewhere', 1));
    await refused(
      plan({ ...scopeOf('elsewhere'), clusterId: 'prod-us-1' }, [scale(SHOP, 'elsewhere', 2, 1)]),
      /plan's scope is cluster prod-us-1, but the plan is for local/,
    );
    const after = await apps.readNamespacedDeployment({ name: 'elsewhere', namespace: SHOP });
    assert.equal(after.metadata?.resourceVersion, before.metadata?.resourceVersion);
  });

  it('a plan of the old schema (version 1, no scope) is not a plan this executor runs', async () => {
    const before = await createDeployment(SHOP, deploymentOf('legacy', 1));
    const { scope: _scope, ...legacy } = plan(scopeOf('legacy'), [scale(SHOP, 'legacy', 2, 1)]);
    const outcome = await executePlanMessage(JSON.stringify({ ...legacy, schemaVersion: 1 }), deps);
    assert.equal(outcome.kind, 'malformed');
    if (outcome.kind === 'malformed') assert.match(outcome.error.message, /not a remediation plan/);
    const after = await apps.readNamespacedDeployment({ name: 'legacy', namespace: SHOP });
    assert.equal(after.metadata?.resourceVersion, before.metadata?.resourceVersion);
  });
});
