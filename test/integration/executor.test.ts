import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import {
  ApiException,
  AppsV1Api,
  CoreV1Api,
  type KubeConfig,
  type KubernetesObject,
  type V1Container,
  type V1Deployment,
  type V1Node,
  type V1StatefulSet,
} from '@kubernetes/client-node';
import { kubeCluster } from '../../functions/executor/adapters/kube-cluster.js';
import { prometheusUsageProbe } from '../../functions/executor/adapters/prometheus-usage.js';
import { readExecutorConfig } from '../../functions/executor/config.js';
import { ANNOTATIONS } from '../../functions/executor/core/appliers/applier.js';
import { RESTARTED_AT } from '../../functions/executor/core/appliers/rollout-restart.js';
import { EVENT_REASONS } from '../../functions/executor/core/audit.js';
import type { ExecutorDeps } from '../../functions/executor/core/execute-plan.js';
import { PlanLedger } from '../../functions/executor/core/ledger.js';
import type { ClusterPort, UsageProbe } from '../../functions/executor/core/ports.js';
import { rolloutProgress } from '../../functions/executor/core/rollout.js';
import { type PollerDeps, pollOnce } from '../../functions/executor/poller.js';
import { createExecutorRuntime } from '../../functions/executor/runtime.js';
import { parsePolicy } from '../../functions/shared/actions/policy.js';
import {
  decodeMessageBody,
  ExecutionResult,
  type PlanScope,
  type RemediationAction,
  type RemediationPlan,
} from '../../functions/shared/contracts/index.js';
import { DependencyUnavailableError } from '../../functions/shared/errors.js';
import { QUARANTINE_ATTRIBUTES } from '../../functions/shared/lambda/sqs-records.js';
import { publicKeyEntryOf, signPlan, type UnsignedPlan } from '../../functions/shared/signing.js';
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
import { localSqsClient } from '../../local/standins/sqs/client.js';
import { type SqsEmulator, startSqsEmulator } from '../../local/standins/sqs/emulator.js';
import { eventually } from '../support/eventually.js';
import { RecordingLogger } from '../support/loggers.js';
import { scopeOfActions } from '../support/plan-scope.js';

const blocker = await controlPlaneBlocker();
const skip = blocker && process.env.CI !== 'true' ? `local control plane cannot be built: ${blocker}` : false;

const CLUSTER_ID = 'local';
const EXECUTOR_NAMESPACE = 'kubepulse';
const EXECUTOR_ACCOUNT = 'kubepulse-executor';
const GiB = 2 ** 30;
const MiB = 2 ** 20;
const suffix = randomBytes(3).toString('hex');
const NAMESPACE = `executor-it-${suffix}`;
// Extra kwok nodes, tainted so that nothing but this suite's pods lands on them.
const NODE_TAINT = { key: 'kubepulse.io/executor-test', value: suffix, effect: 'NoSchedule' };
const NODES = {
  cordon: `executor-it-${suffix}-a`,
  uncordon: `executor-it-${suffix}-b`,
  small: `executor-it-${suffix}-c`,
};

// The executor's own policy in this suite: every action, automatically, in the suite's namespaces only.
const testPolicy = {
  dryRun: false,
  enabledActions: ['scale', 'rollout-restart', 'set-resources', 'delete-pod', 'cordon', 'uncordon'],
  namespaces: { allow: ['executor-it-*'] },
  modes: { medium: 'auto', high: 'auto' },
  bounds: {
    'set-resources': { maxIncreaseFactor: 2, maxMemoryBytes: 64 * GiB },
    cordon: { minSchedulableNodesAfter: 1 },
  },
} as const;

const signer = { keyId: 'planner-1', key: randomBytes(32) };
const forger = { keyId: 'planner-1', key: randomBytes(32) };

function container(resources: V1Container['resources'] = {}): V1Container {
  return { name: 'app', image: 'registry.invalid/kubepulse/web:1', resources };
}

function deploymentOf(
  name: string,
  replicas: number,
  options: { resources?: V1Container['resources']; node?: string } = {},
): V1Deployment {
  const labels = { app: name };
  return {
    metadata: { name, labels },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          containers: [container(options.resources)],
          ...(options.node
            ? {
                nodeSelector: { 'kubernetes.io/hostname': options.node },
                tolerations: [{ ...NODE_TAINT, operator: 'Equal' }],
              }
            : {}),
        },
      },
    },
  };
}

function fakeNode(name: string, memory: string, unschedulable = false): V1Node {
  return {
    metadata: {
      name,
      annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
      labels: { 'kubernetes.io/hostname': name, type: 'kwok', 'kubepulse.io/executor-test': suffix },
    },
    spec: { taints: [NODE_TAINT], unschedulable },
    status: {
      capacity: { cpu: '8', memory, pods: '110' },
      allocatable: { cpu: '8', memory, pods: '110' },
    },
  };
}

/** The API server accepts a Deployment write; the executor "dies" before it hears back. */
function crashingAfterWrite(cluster: ClusterPort): ClusterPort {
  return {
    ...cluster,
    async patch(body, kind, options) {
      const written = await cluster.patch(body, kind, options);
      if (!options?.dryRun && body.kind === 'Deployment') {
        throw new DependencyUnavailableError('kubernetes', 'connection reset (simulated crash)');
      }
      return written;
    },
  };
}

describe('executor on a real API server and the SQS emulator', { skip }, () => {
  let admin: KubeConfig;
  let apps: AppsV1Api;
  let core: CoreV1Api;
  let emulator: SqsEmulator;
  let sqs: SQSClient;
  let executorKube: KubeConfig;
  let poller: PollerDeps;
  let deps: ExecutorDeps;
  let executorEnv: Record<string, string | undefined>;
  const logger = new RecordingLogger();

  before(async () => {
    ({ kubeConfig: admin } = await ensureControlPlane());
    apps = admin.makeApiClient(AppsV1Api);
    core = admin.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: NAMESPACE } } });
    // The executor's ServiceAccount, roles, admission policies and Deployment exactly as shipped, its
    // per-namespace RoleBinding in this suite's namespace.
    await applyObjects(admin, withExecutorNamespaces(await kustomizeBuild('infra/kubernetes'), [NAMESPACE]));
    executorKube = await serviceAccountKubeConfig(admin, EXECUTOR_NAMESPACE, EXECUTOR_ACCOUNT, 3600);
    for (const [name, memory, unschedulable] of [
      [NODES.cordon, '16Gi', false],
      [NODES.uncordon, '16Gi', true],
      [NODES.small, '32Gi', false],
    ] as const) {
      await core.createNode({ body: fakeNode(name, memory, unschedulable) });
    }

    // Results not meant for the current test become visible again at once.
    emulator = await startSqsEmulator({
      prefix: `executor-it-${suffix}`,
      overrides: { results: { visibilityTimeoutSeconds: 1 } },
    });
    sqs = localSqsClient(emulator.endpoint);
    executorEnv = {
      CLUSTER_ID,
      REMEDIATIONS_QUEUE_URL: emulator.queueUrls.remediations,
      REMEDIATIONS_DLQ_URL: emulator.dlqUrls.remediations,
      RESULTS_QUEUE_URL: emulator.queueUrls.results,
      SQS_ENDPOINT_URL: emulator.endpoint,
      PLAN_PUBLIC_KEYS: publicKeyEntryOf(signer),
      EXECUTOR_POLICY: JSON.stringify(testPolicy),
      EXECUTOR_NAMESPACE,
      EXECUTOR_INSTANCE: 'executor-it',
      COOLDOWN_SECONDS: '3600',
      VERIFY_TIMEOUT_SECONDS: '90',
      VERIFY_POLL_MS: '250',
      LEASE_SECONDS: '60',
      WAIT_TIME_SECONDS: '1',
      RETRY_DELAY_SECONDS: '0',
      // The write budget and circuit breaker are one Lease per cluster, and every suite shares this API server:
      // lifted here so that other suites' writes and rollbacks cannot refuse this one's plans (their own red-team
      // cases run in a namespace of their own).
      EXECUTOR_MAX_WRITES_PER_HOUR: '10000',
      EXECUTOR_MAX_ROLLBACKS_PER_HOUR: '1000',
    };
    const config = readExecutorConfig(executorEnv);
    const runtime = createExecutorRuntime(config, logger, { kubeConfig: executorKube, sqs });
    poller = runtime.poller;
    deps = poller.executor;
  });

  after(async () => {
    await core?.deleteNamespace({ name: NAMESPACE }).catch(() => undefined);
    for (const name of Object.values(NODES)) await core?.deleteNode({ name }).catch(() => undefined);
    await core
      ?.deleteCollectionNamespacedConfigMap({
        namespace: EXECUTOR_NAMESPACE,
        labelSelector: 'kubepulse.io/ledger=plan',
      })
      .catch(() => undefined);
    sqs?.destroy();
    await emulator?.close();
  });

  // ---- helpers -------------------------------------------------------------------------------------------

  const scopeOf = (actions: RemediationAction[]): PlanScope => scopeOfActions(CLUSTER_ID, NAMESPACE, actions);

  function plan(actions: RemediationAction[], overrides: Partial<UnsignedPlan> = {}): UnsignedPlan {
    const now = Date.now();
    return {
      schemaVersion: 2,
      kind: 'remediation-plan',
      clusterId: CLUSTER_ID,
      planId: `plan-${randomUUID()}`,
      incidentId: `incident-${randomUUID()}`,
      createdAt: new Date(now - 1000).toISOString(),
      expiresAt: new Date(now + 10 * 60_000).toISOString(),
      source: 'llm',
      rationale: 'integration test',
      confidence: 0.9,
      dryRun: false,
      scope: scopeOf(actions),
      actions,
      ...overrides,
    };
  }

  async function send(
    body: RemediationPlan | string,
    group = 'workload',
    dedup = randomUUID(),
  ): Promise<void> {
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: emulator.queueUrls.remediations,
        MessageBody: typeof body === 'string' ? body : JSON.stringify(body),
        MessageGroupId: group,
        MessageDeduplicationId: dedup,
      }),
    );
  }

  /** Polls until one message was handled, with the given executor dependencies. */
  async function handleNext(executor: ExecutorDeps = deps): Promise<void> {
    await eventually('a message delivered', async () =>
      (await pollOnce({ ...poller, executor })) === 1 ? true : undefined,
    );
  }

  async function resultOf(planId: string): Promise<ExecutionResult> {
    return eventually(`result of ${planId}`, async () => {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: emulator.queueUrls.results,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 1,
        }),
      );
      let found: ExecutionResult | undefined;
      for (const message of Messages) {
        const result = ExecutionResult.parse(decodeMessageBody(message.Body ?? ''));
        if (result.planId !== planId) continue;
        found = result;
        await sqs.send(
          new DeleteMessageCommand({
            QueueUrl: emulator.queueUrls.results,
            ReceiptHandle: message.ReceiptHandle,
          }),
        );
      }
      return found;
    });
  }

  async function execute(unsigned: UnsignedPlan, executor: ExecutorDeps = deps): Promise<ExecutionResult> {
    const signed = signPlan(unsigned, signer);
    await send(signed);
    await handleNext(executor);
    return resultOf(signed.planId);
  }

  async function createDeployment(body: V1Deployment): Promise<V1Deployment> {
    await apps.createNamespacedDeployment({ namespace: NAMESPACE, body });
    return settled(body.metadata!.name!);
  }

  /** Waits until the Deployment's rollout is complete (kwok runs its pods). */
  async function settled(name: string): Promise<V1Deployment> {
    return eventually(`deployment ${name} rolled out`, async () => {
      const current = await apps.readNamespacedDeployment({ name, namespace: NAMESPACE });
      return rolloutProgress('Deployment', current).done ? current : undefined;
    });
  }

  const readDeployment = (name: string) => apps.readNamespacedDeployment({ name, namespace: NAMESPACE });

  async function eventsFor(name: string): Promise<string[]> {
    const { items } = await core.listNamespacedEvent({
      namespace: NAMESPACE,
      fieldSelector: `involvedObject.name=${name}`,
    });
    return items.map((event) => event.reason ?? '');
  }

  const ledgerEntry = (planId: string) =>
    new PlanLedger(kubeCluster(admin), EXECUTOR_NAMESPACE, 'observer', 60).find(planId);

  // ---- every action, applied and verified ------------------------------------------------------------------

  it('scales a Deployment, verifies the rollout, and leaves an audit trail', async () => {
    await createDeployment(deploymentOf('scale-me', 2));
    const unsigned = plan([
      {
        action: 'scale',
        namespace: NAMESPACE,
        kind: 'Deployment',
        name: 'scale-me',
        replicas: 3,
        fromReplicas: 2,
      },
    ]);
    const result = await execute(unsigned);

    assert.equal(result.status, 'verified', result.error);
    assert.equal(result.steps[0]?.status, 'applied');
    const deployment = await readDeployment('scale-me');
    assert.equal(deployment.spec?.replicas, 3);
    assert.equal(deployment.status?.availableReplicas, 3);
    assert.equal(deployment.metadata?.annotations?.[ANNOTATIONS.lastRemediation], unsigned.planId);
    assert.ok((await eventsFor('scale-me')).includes(EVENT_REASONS.applied));
    assert.ok(
      logger.lines.some((l) => l.fields.audit === true && l.fields.planId === unsigned.planId),
      'a structured audit log line',
    );
    assert.equal((await ledgerEntry(unsigned.planId))?.phase, 'done');
  });

  it('re-sends the result of a plan delivered again after success, without acting again', async () => {
    await createDeployment(deploymentOf('redelivered', 1));
    const signed = signPlan(
      plan([{ action: 'rollout-restart', namespace: NAMESPACE, kind: 'Deployment', name: 'redelivered' }]),
      signer,
    );
    await send(signed);
    await handleNext();
    assert.equal((await resultOf(signed.planId)).status, 'verified');
    const generation = (await readDeployment('redelivered')).metadata?.generation;

    await send(signed, 'workload', randomUUID()); // a duplicate outside SQS's deduplication window
    await handleNext();
    const replayed = await resultOf(signed.planId);
    assert.equal(replayed.status, 'verified');
    assert.equal(
      (await readDeployment('redelivered')).metadata?.generation,
      generation,
      'not restarted twice',
    );
    assert.ok(
      logger.lines.some((l) => l.message.includes('re-sending') && l.fields.planId === signed.planId),
    );
  });

  it('restarts a Deployment through its pod template', async () => {
    const before = await createDeployment(deploymentOf('restart-me', 2));
    const result = await execute(
      plan([{ action: 'rollout-restart', namespace: NAMESPACE, kind: 'Deployment', name: 'restart-me' }]),
    );
    assert.equal(result.status, 'verified', result.error);
    const after = await readDeployment('restart-me');
    assert.ok(after.spec?.template.metadata?.annotations?.[RESTARTED_AT]);
    assert.equal(after.metadata?.generation, (before.metadata?.generation ?? 0) + 1);
    assert.equal(after.status?.updatedReplicas, 2);
  });

  it('raises a container limit by strategic merge, keeping the other resources', async () => {
    await createDeployment(
      deploymentOf('resize-me', 1, {
        resources: { limits: { memory: '64Mi', cpu: '200m' }, requests: { memory: '32Mi' } },
      }),
    );
    const result = await execute(
      plan([
        {
          action: 'set-resources',
          namespace: NAMESPACE,
          kind: 'Deployment',
          name: 'resize-me',
          container: 'app',
          limits: { memoryBytes: 128 * MiB },
          fromLimits: { memoryBytes: 64 * MiB },
        },
      ]),
    );
    assert.equal(result.status, 'verified', result.error);
    const resources = (await readDeployment('resize-me')).spec?.template.spec?.containers[0]?.resources;
    assert.equal(resources?.limits?.memory, String(128 * MiB));
    assert.equal(resources?.limits?.cpu, '200m');
    assert.equal(resources?.requests?.memory, '32Mi');
  });

  it('scales a StatefulSet', async () => {
    const labels = { app: 'stateful' };
    const body: V1StatefulSet = {
      metadata: { name: 'stateful' },
      spec: {
        replicas: 1,
        serviceName: 'stateful',
        selector: { matchLabels: labels },
        template: { metadata: { labels }, spec: { containers: [container()] } },
      },
    };
    await apps.createNamespacedStatefulSet({ namespace: NAMESPACE, body });
    await eventually('statefulset ready', async () => {
      const current = await apps.readNamespacedStatefulSet({ name: 'stateful', namespace: NAMESPACE });
      return rolloutProgress('StatefulSet', current).done ? true : undefined;
    });
    const result = await execute(
      plan([
        {
          action: 'scale',
          namespace: NAMESPACE,
          kind: 'StatefulSet',
          name: 'stateful',
          replicas: 2,
          fromReplicas: 1,
        },
      ]),
    );
    assert.equal(result.status, 'verified', result.error);
    const after = await apps.readNamespacedStatefulSet({ name: 'stateful', namespace: NAMESPACE });
    assert.equal(after.status?.readyReplicas, 2);
  });

  it('restarts a DaemonSet', async () => {
    const labels = { app: 'per-node' };
    await apps.createNamespacedDaemonSet({
      namespace: NAMESPACE,
      body: {
        metadata: { name: 'per-node' },
        spec: {
          selector: { matchLabels: labels },
          template: { metadata: { labels }, spec: { containers: [container()] } },
        },
      },
    });
    const ready = () =>
      eventually('daemonset rolled out', async () => {
        const current = await apps.readNamespacedDaemonSet({ name: 'per-node', namespace: NAMESPACE });
        return (current.status?.desiredNumberScheduled ?? 0) > 0 && rolloutProgress('DaemonSet', current).done
          ? current
          : undefined;
      });
    const before = await ready();
    const result = await execute(
      plan([{ action: 'rollout-restart', namespace: NAMESPACE, kind: 'DaemonSet', name: 'per-node' }]),
    );
    assert.equal(result.status, 'verified', result.error);
    const after = await apps.readNamespacedDaemonSet({ name: 'per-node', namespace: NAMESPACE });
    assert.ok(after.spec?.template.metadata?.annotations?.[RESTARTED_AT]);
    assert.equal(after.metadata?.generation, (before.metadata?.generation ?? 0) + 1);
  });

  it('deletes one pod of a Deployment and waits for its replacement', async () => {
    await createDeployment(deploymentOf('delete-one', 2));
    const { items } = await core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: 'app=delete-one' });
    const victim = items[0]!;
    const result = await execute(
      plan([{ action: 'delete-pod', namespace: NAMESPACE, pod: victim.metadata!.name! }], {
        scope: { ...scopeOf([]), workload: { kind: 'Deployment', name: 'delete-one' } },
      }),
    );
    assert.equal(result.status, 'verified', result.error);
    const { items: now } = await core.listNamespacedPod({
      namespace: NAMESPACE,
      labelSelector: 'app=delete-one',
    });
    assert.ok(!now.some((pod) => pod.metadata?.uid === victim.metadata?.uid), 'the old pod is gone');
    assert.equal((await readDeployment('delete-one')).status?.readyReplicas, 2);
  });

  it('cordons a node and uncordons another', async () => {
    // A plan that touches only nodes belongs to no namespace: it passes only a policy that allows every one.
    const everyNamespace = {
      ...deps,
      policy: parsePolicy({ ...testPolicy, namespaces: { allow: ['*'] } }),
    };
    // A node plan is in its incident's namespace: one the executor's policy does not allow refuses it.
    const restricted = await execute(
      plan([{ action: 'cordon', node: NODES.cordon }], {
        scope: { ...scopeOf([{ action: 'cordon', node: NODES.cordon }]), namespace: 'default' },
      }),
    );
    assert.equal(restricted.status, 'refused');
    const cordoned = await execute(plan([{ action: 'cordon', node: NODES.cordon }]), everyNamespace);
    assert.equal(cordoned.status, 'verified', cordoned.error);
    assert.equal((await core.readNode({ name: NODES.cordon })).spec?.unschedulable, true);

    const uncordoned = await execute(plan([{ action: 'uncordon', node: NODES.uncordon }]), everyNamespace);
    assert.equal(uncordoned.status, 'verified', uncordoned.error);
    assert.notEqual((await core.readNode({ name: NODES.uncordon })).spec?.unschedulable, true);
  });

  // ---- verification failures roll back ---------------------------------------------------------------------

  it('rolls back a resource change whose rollout cannot complete in time', async () => {
    // 20 GiB limits (and so requests) fit the 32 GiB node; 40 GiB cannot be scheduled anywhere it may go.
    await createDeployment(
      deploymentOf('too-big', 1, { resources: { limits: { memory: '20Gi' } }, node: NODES.small }),
    );
    const quick = { ...deps, settings: { ...deps.settings, verifyTimeoutSeconds: 6 } };
    const result = await execute(
      plan([
        {
          action: 'set-resources',
          namespace: NAMESPACE,
          kind: 'Deployment',
          name: 'too-big',
          container: 'app',
          limits: { memoryBytes: 40 * GiB },
          fromLimits: { memoryBytes: 20 * GiB },
        },
      ]),
      quick,
    );
    assert.equal(result.status, 'rolled-back');
    assert.equal(result.steps[0]?.status, 'rolled-back');
    assert.match(result.error ?? '', /not settled within 6 s/);
    const restored = await readDeployment('too-big');
    assert.equal(restored.spec?.template.spec?.containers[0]?.resources?.limits?.memory, '20Gi');
    assert.ok((await eventsFor('too-big')).includes(EVENT_REASONS.rolledBack));
    await settled('too-big'); // and the workload recovers on the old template
  });

  it('rolls back when the usage probe says the change did not help', async () => {
    await createDeployment(deploymentOf('unhelped', 2));
    const failingUsage: UsageProbe = {
      peakUsage: async () => ({}),
      check: async () => ({ healthy: false, detail: 'CPU still saturated (injected)' }),
    };
    const result = await execute(
      plan([
        {
          action: 'scale',
          namespace: NAMESPACE,
          kind: 'Deployment',
          name: 'unhelped',
          replicas: 3,
          fromReplicas: 2,
        },
      ]),
      { ...deps, usage: failingUsage },
    );
    assert.equal(result.status, 'rolled-back');
    assert.match(result.error ?? '', /injected/);
    assert.equal((await readDeployment('unhelped')).spec?.replicas, 2);
  });

  // ---- refusals: nothing changes ---------------------------------------------------------------------------

  // A plan signed by an unknown key is no longer refused but retried (test/redteam/signing.test.ts).
  it('refuses forged, tampered and expired plans without touching anything', async () => {
    const before = await createDeployment(deploymentOf('guarded', 1));
    const scaleGuarded = (): RemediationAction => ({
      action: 'scale',
      namespace: NAMESPACE,
      kind: 'Deployment',
      name: 'guarded',
      replicas: 2,
      fromReplicas: 1,
    });
    const forged = signPlan(plan([scaleGuarded()]), forger);
    const genuine = signPlan(plan([scaleGuarded()]), signer);
    const tampered = { ...genuine, actions: [{ ...scaleGuarded(), replicas: 3 }] } as RemediationPlan;
    const expired = signPlan(
      plan([scaleGuarded()], {
        createdAt: new Date(Date.now() - 3_600_000).toISOString(),
        expiresAt: new Date(Date.now() - 60_000).toISOString(),
      }),
      signer,
    );
    const cases: Array<[RemediationPlan, RegExp]> = [
      [forged, /bad-signature/],
      [tampered, /bad-signature/],
      [expired, /expired/],
    ];
    for (const [candidate, reason] of cases) {
      await send(candidate);
      await handleNext();
      const result = await resultOf(candidate.planId);
      assert.equal(result.status, 'refused');
      assert.match(result.error ?? '', reason);
      assert.equal(
        await ledgerEntry(candidate.planId),
        undefined,
        'no ledger entry for an unauthenticated plan',
      );
      assert.ok(
        logger.lines.some(
          (l) => l.level === 'error' && l.fields.security === true && l.fields.planId === candidate.planId,
        ),
      );
    }
    const after = await readDeployment('guarded');
    assert.equal(after.spec?.replicas, 1);
    assert.equal(after.metadata?.resourceVersion, before.metadata?.resourceVersion);
  });

  it('refuses actions outside the allowed namespaces or the allowlist, whatever the plan says', async () => {
    await createDeployment(deploymentOf('not-allowed', 1));
    const denied = await execute(
      plan([
        {
          action: 'scale',
          namespace: 'kube-system',
          kind: 'Deployment',
          name: 'coredns',
          replicas: 3,
          fromReplicas: 2,
        },
      ]),
    );
    assert.equal(denied.status, 'refused');
    assert.match(denied.error ?? '', /namespace kube-system is denied/);

    const elsewhere = await execute(
      plan([
        {
          action: 'scale',
          namespace: 'default',
          kind: 'Deployment',
          name: 'web',
          replicas: 3,
          fromReplicas: 2,
        },
      ]),
    );
    assert.equal(elsewhere.status, 'refused');
    assert.match(elsewhere.error ?? '', /namespace default is not allowed/);

    const scaleOnly = { ...deps, policy: parsePolicy({ dryRun: false, enabledActions: ['scale'] }) };
    const restart = await execute(
      plan([{ action: 'rollout-restart', namespace: NAMESPACE, kind: 'Deployment', name: 'not-allowed' }]),
      scaleOnly,
    );
    assert.equal(restart.status, 'refused');
    assert.match(restart.error ?? '', /rollout-restart is not enabled/);
    assert.equal((await readDeployment('not-allowed')).metadata?.generation, 1);
  });

  it('refuses a whole plan when one of its actions breaks a bound, applying none of it', async () => {
    await createDeployment(deploymentOf('half-plan', 2, { resources: { limits: { memory: '64Mi' } } }));
    const result = await execute(
      plan([
        { action: 'rollout-restart', namespace: NAMESPACE, kind: 'Deployment', name: 'half-plan' },
        {
          action: 'set-resources',
          namespace: NAMESPACE,
          kind: 'Deployment',
          name: 'half-plan',
          container: 'app',
          limits: { memoryBytes: GiB }, // 64 MiB to 1 GiB is far more than the ×2 allowed
          fromLimits: { memoryBytes: 64 * MiB },
        },
      ]),
    );
    assert.equal(result.status, 'refused');
    assert.match(result.error ?? '', /exceeds ×2/);
    assert.deepEqual(
      result.steps.map((s) => s.status),
      ['refused', 'refused'],
    );
    assert.equal((await readDeployment('half-plan')).metadata?.generation, 1);
  });

  it('refuses a second plan on a target still cooling down', async () => {
    const result = await execute(
      plan([
        {
          action: 'scale',
          namespace: NAMESPACE,
          kind: 'Deployment',
          name: 'scale-me',
          replicas: 4,
          fromReplicas: 3,
        },
      ]),
    );
    assert.equal(result.status, 'refused');
    assert.match(result.error ?? '', /cooling down/);
    assert.equal((await readDeployment('scale-me')).spec?.replicas, 3);
  });

  it('only dry-runs a plan marked dry-run', async () => {
    await createDeployment(deploymentOf('dry', 2));
    const { items } = await core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: 'app=dry' });
    const pod = items[0]!.metadata!;
    const result = await execute(
      plan(
        [
          {
            action: 'scale',
            namespace: NAMESPACE,
            kind: 'Deployment',
            name: 'dry',
            replicas: 3,
            fromReplicas: 2,
          },
          { action: 'delete-pod', namespace: NAMESPACE, pod: pod.name! },
        ],
        { dryRun: true },
      ),
    );
    assert.equal(result.status, 'applied-unverified', result.error);
    assert.match(result.steps[0]?.detail ?? '', /dry run/);
    assert.equal((await readDeployment('dry')).spec?.replicas, 2);
    const still = await core.readNamespacedPod({ name: pod.name!, namespace: NAMESPACE });
    assert.equal(still.metadata?.uid, pod.uid, 'the pod survived its dry-run deletion');
    assert.equal(still.metadata?.deletionTimestamp, undefined);
  });

  it('moves a body that is not a plan to the dead-letter queue with its reason', async () => {
    await send('{"kind":"remediation-plan","actions":"all of them"}', 'garbage');
    await handleNext();
    const parked = await eventually('dead-lettered message', async () => {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: emulator.dlqUrls.remediations,
          MessageAttributeNames: ['All'],
          WaitTimeSeconds: 1,
        }),
      );
      return Messages[0] as Message | undefined;
    });
    assert.equal(parked.MessageAttributes?.[QUARANTINE_ATTRIBUTES.code]?.StringValue, 'malformed-message');
    assert.match(
      parked.MessageAttributes?.[QUARANTINE_ATTRIBUTES.reason]?.StringValue ?? '',
      /not a remediation plan/,
    );
    assert.equal(await pollOnce(poller), 0, 'nothing left in the remediations queue');
  });

  // ---- crashes: exactly once ------------------------------------------------------------------------------

  it('applies a plan once when the executor died between claiming it and applying it', async () => {
    const before = await createDeployment(deploymentOf('claimed-then-crashed', 1));
    const signed = signPlan(
      plan([
        { action: 'rollout-restart', namespace: NAMESPACE, kind: 'Deployment', name: 'claimed-then-crashed' },
      ]),
      signer,
    );
    // A previous executor pod claimed the plan and died before writing anything; its lease ran out long ago.
    const deadExecutor = new PlanLedger(kubeCluster(executorKube), EXECUTOR_NAMESPACE, 'executor-dead', 60);
    const claim = await deadExecutor.claim(signed, [], false, new Date(Date.now() - 3_600_000));
    assert.equal(claim.fresh, true);

    await send(signed);
    await handleNext();
    const result = await resultOf(signed.planId);
    assert.equal(result.status, 'verified', result.error);
    assert.equal(
      (await readDeployment('claimed-then-crashed')).metadata?.generation,
      (before.metadata?.generation ?? 0) + 1,
    );
  });

  it('does not apply a step twice when the executor died after the write but before recording it', async () => {
    const before = await createDeployment(deploymentOf('written-then-crashed', 1));
    const signed = signPlan(
      plan([
        { action: 'rollout-restart', namespace: NAMESPACE, kind: 'Deployment', name: 'written-then-crashed' },
      ]),
      signer,
    );
    await send(signed);
    await handleNext({ ...deps, cluster: crashingAfterWrite(deps.cluster) });
    const restartedAt = (await readDeployment('written-then-crashed')).spec?.template.metadata?.annotations?.[
      RESTARTED_AT
    ];
    assert.ok(restartedAt, 'the first delivery wrote');
    assert.equal((await ledgerEntry(signed.planId))?.steps[0]?.state, 'started');

    await handleNext(); // the redelivery, to a healthy executor
    const result = await resultOf(signed.planId);
    assert.equal(result.status, 'verified', result.error);
    const after = await readDeployment('written-then-crashed');
    assert.equal(
      after.spec?.template.metadata?.annotations?.[RESTARTED_AT],
      restartedAt,
      'not restarted again',
    );
    assert.equal(after.metadata?.generation, (before.metadata?.generation ?? 0) + 1);
  });

  it('finishes an interrupted rollback on redelivery instead of resuming the plan', async () => {
    await createDeployment(deploymentOf('rollback-crash', 1));
    const failingUsage: UsageProbe = {
      peakUsage: async () => ({}),
      check: async () => ({ healthy: false, detail: 'still saturated (injected)' }),
    };
    // The rollback's write reaches the API server, and the executor dies before it hears back.
    const crashOnRollback: ClusterPort = {
      ...deps.cluster,
      async patch(body, kind, options) {
        const written = await deps.cluster.patch(body, kind, options);
        if (!options?.dryRun && body.metadata?.annotations?.[ANNOTATIONS.lastRollback]) {
          throw new DependencyUnavailableError('kubernetes', 'connection reset (simulated crash)');
        }
        return written;
      },
    };
    const signed = signPlan(
      plan([
        {
          action: 'scale',
          namespace: NAMESPACE,
          kind: 'Deployment',
          name: 'rollback-crash',
          replicas: 2,
          fromReplicas: 1,
        },
      ]),
      signer,
    );
    await send(signed);
    await handleNext({ ...deps, cluster: crashOnRollback, usage: failingUsage });
    assert.equal((await ledgerEntry(signed.planId))?.phase, 'rolling-back');

    await handleNext(); // healthy again, and the usage probe no longer consulted
    const result = await resultOf(signed.planId);
    assert.equal(result.status, 'rolled-back');
    assert.equal(result.steps[0]?.status, 'rolled-back', result.steps[0]?.detail);
    assert.equal((await readDeployment('rollback-crash')).spec?.replicas, 1);
  });

  it('rolls back what a plan wrote when it expires before a redelivery can finish it', async () => {
    await createDeployment(deploymentOf('expires-midway', 1));
    // Far enough ahead that a slow first attempt still starts the plan; the redelivery then runs on a clock past it.
    const expiresAt = Date.now() + 60_000;
    const signed = signPlan(
      plan(
        [{ action: 'rollout-restart', namespace: NAMESPACE, kind: 'Deployment', name: 'expires-midway' }],
        {
          expiresAt: new Date(expiresAt).toISOString(),
        },
      ),
      signer,
    );
    await send(signed);
    await handleNext({ ...deps, cluster: crashingAfterWrite(deps.cluster) });
    assert.ok((await readDeployment('expires-midway')).spec?.template.metadata?.annotations?.[RESTARTED_AT]);

    await handleNext({ ...deps, now: () => new Date(expiresAt + 1000) });
    const result = await resultOf(signed.planId);
    assert.equal(result.status, 'rolled-back');
    assert.match(result.error ?? '', /expired/);
    const after = await readDeployment('expires-midway');
    assert.equal(after.spec?.template.metadata?.annotations?.[RESTARTED_AT], undefined, 'restart undone');
  });

  it('finishes the plan in progress on SIGTERM, then exits (the real entry point)', async () => {
    const body = deploymentOf('graceful', 2);
    body.spec!.minReadySeconds = 3; // keeps the plan in verification long enough to be interrupted
    await createDeployment(body);
    const dir = mkdtempSync(join(tmpdir(), 'kubepulse-executor-'));
    const kubeconfigPath = join(dir, 'kubeconfig');
    writeFileSync(kubeconfigPath, executorKube.exportConfig(), { mode: 0o600 });
    const child = spawn(process.execPath, ['--import', 'tsx', 'functions/executor/main.ts'], {
      env: {
        ...process.env,
        ...executorEnv,
        KUBECONFIG: kubeconfigPath,
        HTTP_PORT: '0',
        EXECUTOR_INSTANCE: 'executor-process',
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'local',
        POWERTOOLS_LOG_LEVEL: 'INFO',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const port = await eventually(
        'executor listening',
        async () => {
          if (child.exitCode !== null) throw new Error(`executor exited ${child.exitCode}`);
          return /"port":(\d+)/.exec(output)?.[1];
        },
        60_000,
      ).catch((error: Error) => {
        throw new Error(`${error.message}; its output:\n${output.slice(-3000)}`, { cause: error.cause });
      });
      const base = `http://127.0.0.1:${port}`;
      assert.equal((await fetch(`${base}/healthz`)).status, 200);
      assert.match(
        await (await fetch(`${base}/metrics`)).text(),
        /kubepulse_executor_last_poll_timestamp_seconds/,
      );

      const signed = signPlan(
        plan([{ action: 'rollout-restart', namespace: NAMESPACE, kind: 'Deployment', name: 'graceful' }]),
        signer,
      );
      await send(signed);
      await eventually('plan in verification', async () =>
        (await ledgerEntry(signed.planId))?.phase === 'verifying' ? true : undefined,
      );
      child.kill('SIGTERM');
      assert.equal(await exited, 0, output.slice(-2000));
      const result = await resultOf(signed.planId);
      assert.equal(result.status, 'verified', result.error);
      assert.match(output, /stopping: finishing the current plan/);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // ---- least privilege -------------------------------------------------------------------------------------

  it('runs as a ServiceAccount the API server refuses anything beyond its actions', async () => {
    const asExecutor = executorKube.makeApiClient(AppsV1Api);
    const coreAsExecutor = executorKube.makeApiClient(CoreV1Api);
    const forbidden = async (what: string, call: () => Promise<unknown>) => {
      await assert.rejects(
        call,
        (error: unknown) => error instanceof ApiException && error.code === 403,
        what,
      );
    };
    await forbidden('delete a deployment', () =>
      asExecutor.deleteNamespacedDeployment({ name: 'scale-me', namespace: NAMESPACE }),
    );
    await forbidden('create a deployment', () =>
      asExecutor.createNamespacedDeployment({ namespace: NAMESPACE, body: deploymentOf('intruder', 1) }),
    );
    await forbidden('read secrets', () =>
      coreAsExecutor.listNamespacedSecret({ namespace: EXECUTOR_NAMESPACE }),
    );
    // Listing pods is allowed since plans carry a scope: a cordon is checked against the nodes the incident
    // workload's pods run on now. Watching them stays forbidden.
    await forbidden('watch pods', () =>
      coreAsExecutor.listNamespacedPod({ namespace: NAMESPACE, watch: true, timeoutSeconds: 1 }),
    );
    await forbidden('write configmaps outside its namespace', () =>
      coreAsExecutor.createNamespacedConfigMap({ namespace: NAMESPACE, body: { metadata: { name: 'x' } } }),
    );
    // …while what its actions need is allowed.
    const readable = await asExecutor.readNamespacedDeployment({ name: 'scale-me', namespace: NAMESPACE });
    assert.equal(readable.metadata?.name, 'scale-me');
    await coreAsExecutor.listNamespacedPod({ namespace: NAMESPACE, labelSelector: 'app=scale-me' });
    const objects: KubernetesObject[] = await kustomizeBuild('infra/kubernetes');
    assert.ok(objects.some((o) => o.kind === 'NetworkPolicy' && o.metadata?.name === EXECUTOR_ACCOUNT));
    // Its own Deployment passes the namespace's restricted Pod Security admission and runs (on kwok).
    await eventually('executor deployment available', async () => {
      const own = await apps.readNamespacedDeployment({
        name: EXECUTOR_ACCOUNT,
        namespace: EXECUTOR_NAMESPACE,
      });
      return rolloutProgress('Deployment', own).done ? true : undefined;
    });
  });
});

describe('usage probe over a real Prometheus', { skip: prometheusMissing() }, () => {
  const MEMORY = 900 * MiB;
  let exporter: Server;
  let prometheus: ChildProcess;
  let dir: string;
  let probe: UsageProbe;

  before(async () => {
    // A scrape target in cAdvisor's format: one container of Deployment web in namespace shop.
    exporter = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      response.end(
        `container_memory_working_set_bytes{namespace="shop",pod="web-6d4cf56db6-x2k9p",container="app"} ${MEMORY}\n` +
          `container_memory_working_set_bytes{namespace="shop",pod="other-5c7d8-abcde",container="app"} ${4 * GiB}\n`,
      );
    });
    await new Promise<void>((resolve) => exporter.listen(0, '127.0.0.1', resolve));
    const exporterPort = (exporter.address() as AddressInfo).port;
    const port = await freePort();
    dir = mkdtempSync(join(tmpdir(), 'kubepulse-prometheus-'));
    const config = join(dir, 'prometheus.yml');
    writeFileSync(
      config,
      [
        'global: { scrape_interval: 1s, evaluation_interval: 1s }',
        'scrape_configs:',
        '  - job_name: cadvisor',
        '    honor_labels: true',
        `    static_configs: [{ targets: ['127.0.0.1:${exporterPort}'] }]`,
        '',
      ].join('\n'),
    );
    prometheus = spawn(
      'prometheus',
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: 'ignore' },
    );
    const url = `http://127.0.0.1:${port}`;
    await eventually('series scraped', async () => {
      const response = await fetch(`${url}/api/v1/query?query=container_memory_working_set_bytes`);
      const body = (await response.json()) as { data?: { result?: unknown[] } };
      return (body.data?.result?.length ?? 0) > 0 ? true : undefined;
    });
    probe = prometheusUsageProbe(url, new RecordingLogger());
  });

  after(async () => {
    prometheus?.kill('SIGTERM');
    await new Promise<void>((resolve) =>
      prometheus?.exitCode !== null ? resolve() : prometheus.once('exit', () => resolve()),
    );
    exporter?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('reads the peak memory of a workload’s container, not of other workloads', async () => {
    const peak = await probe.peakUsage('shop', { kind: 'Deployment', name: 'web' }, 'app');
    assert.equal(peak.memoryBytes, MEMORY);
  });

  it('judges a raised memory limit by how much of it is in use', async () => {
    const raise = (limit: number): RemediationAction => ({
      action: 'set-resources',
      namespace: 'shop',
      kind: 'Deployment',
      name: 'web',
      container: 'app',
      limits: { memoryBytes: limit },
    });
    assert.equal((await probe.check(raise(2 * GiB)))?.healthy, true);
    const tight = await probe.check(raise(950 * MiB));
    assert.equal(tight?.healthy, false);
    assert.match(tight?.detail ?? '', /95% of the new limit/);
    assert.equal(await probe.check({ action: 'cordon', node: 'n' }), undefined, 'no opinion on a cordon');
  });

  it('leaves usage unknown for a workload it has no series for', async () => {
    assert.deepEqual(await probe.peakUsage('shop', { kind: 'Deployment', name: 'absent' }, 'app'), {});
  });
});

function prometheusMissing(): string | false {
  return spawnSync('prometheus', ['--version']).status === 0 ? false : 'prometheus is not installed';
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createNetServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
