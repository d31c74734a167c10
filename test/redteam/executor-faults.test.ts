// Red team: faults and runaway loops against the executor, on the real local API server and the SQS emulator.
// Outages must never park a claimed (possibly half-applied) plan in the dead-letter queue; a crash mid-plan must
// be settled by the sweeper; pods are evicted (PodDisruptionBudgets honoured), never deleted; and the executor
// stops on its own hourly write budget and after repeated rollbacks, refusals that name their reason and that
// deleting the ledger does not reset. One test per attack.
//
// The executor runs with the admin's credentials, each case with an executor namespace of its own: the budget
// and the breaker are one Lease per executor namespace, and this suite's must not refuse other suites' plans on
// the shared API server (the ServiceAccount's limits on that Lease are the last case).
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import {
  AppsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  type KubeConfig,
  PolicyV1Api,
  type V1Deployment,
} from '@kubernetes/client-node';
import { readExecutorConfig } from '../../functions/executor/config.js';
import { RESTARTED_AT } from '../../functions/executor/core/appliers/rollout-restart.js';
import { type ExecutorDeps, executePlanMessage } from '../../functions/executor/core/execute-plan.js';
import { PlanLedger } from '../../functions/executor/core/ledger.js';
import type { ClusterPort, UsageProbe } from '../../functions/executor/core/ports.js';
import { rolloutProgress } from '../../functions/executor/core/rollout.js';
import { SAFETY_ANNOTATIONS, SAFETY_LEASE, SafetyLedger } from '../../functions/executor/core/safety.js';
import { type PollerDeps, pollOnce, sweepOnce } from '../../functions/executor/poller.js';
import { createExecutorRuntime, type ExecutorRuntime } from '../../functions/executor/runtime.js';
import {
  decodeMessageBody,
  ExecutionResult,
  type RemediationAction,
  type RemediationPlan,
} from '../../functions/shared/contracts/index.js';
import { DependencyUnavailableError } from '../../functions/shared/errors.js';
import { publicKeyEntryOf, signPlan, type UnsignedPlan } from '../../functions/shared/signing.js';
import {
  controlPlaneBlocker,
  ensureControlPlane,
  serviceAccountKubeConfig,
} from '../../local/harness/support/control-plane.js';
import { applyObjects, kustomizeBuild } from '../../local/harness/support/kustomize.js';
import { localSqsClient } from '../../local/standins/sqs/client.js';
import { type SqsEmulator, startSqsEmulator } from '../../local/standins/sqs/emulator.js';
import { eventually } from '../support/eventually.js';
import { RecordingLogger } from '../support/loggers.js';
import { scopeOfActions } from '../support/plan-scope.js';

const blocker = await controlPlaneBlocker();
const skip = blocker && process.env.CI !== 'true' ? `local control plane cannot be built: ${blocker}` : false;

const CLUSTER_ID = 'local';
const suffix = randomBytes(3).toString('hex');
const NAMESPACE = `faults-it-${suffix}`;
/** The queue's maxReceiveCount as it was before: outages longer than this many deliveries are the attack. */
const OLD_MAX_RECEIVES = 3;
const signer = { keyId: 'planner-1', key: randomBytes(32) };

/** An API server that goes away and comes back: while `down`, every call fails as an outage would. */
function outageCluster(real: ClusterPort) {
  const state = { down: false, downAfterNextWrite: false };
  const guard = async <T>(call: () => Promise<T>): Promise<T> => {
    if (state.down)
      throw new DependencyUnavailableError('kubernetes', 'connect ECONNREFUSED (simulated outage)');
    return call();
  };
  const cluster: ClusterPort = {
    read: (ref) => guard(() => real.read(ref)),
    list: (apiVersion, kind, options) => guard(() => real.list(apiVersion, kind, options)),
    create: (object, options) => guard(() => real.create(object, options)),
    replace: (object) => guard(() => real.replace(object)),
    async patch(body, kind, options) {
      const written = await guard(() => real.patch(body, kind, options));
      // The outage starts right after the plan's first real write: claimed, written, not yet recorded.
      if (state.downAfterNextWrite && !options?.dryRun) {
        state.downAfterNextWrite = false;
        state.down = true;
      }
      return written;
    },
    delete: (ref, options) => guard(() => real.delete(ref, options)),
    evict: (ref, options) => guard(() => real.evict(ref, options)),
  };
  return { state, cluster };
}

/** The executor dies right after the API server accepted a Deployment write (before the ledger heard of it). */
function crashingAfterWrite(real: ClusterPort): ClusterPort {
  return {
    ...real,
    async patch(body, kind, options) {
      const written = await real.patch(body, kind, options);
      if (!options?.dryRun && body.kind === 'Deployment') {
        throw new DependencyUnavailableError('kubernetes', 'connection reset (simulated crash)');
      }
      return written;
    },
  };
}

const unhealthy: UsageProbe = {
  peakUsage: async () => ({}),
  check: async () => ({ healthy: false, detail: 'still saturated (injected)' }),
};

describe('red team: faults and runaway loops cannot make the executor lose, repeat or pile up writes', {
  skip,
}, () => {
  let admin: KubeConfig;
  let apps: AppsV1Api;
  let core: CoreV1Api;
  let emulator: SqsEmulator;
  let sqs: SQSClient;
  const logger = new RecordingLogger();
  const runtimes: ExecutorRuntime[] = [];
  const executorNamespaces: string[] = [];
  const results = new Map<string, ExecutionResult>();

  before(async () => {
    ({ kubeConfig: admin } = await ensureControlPlane());
    apps = admin.makeApiClient(AppsV1Api);
    core = admin.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: NAMESPACE } } });
    emulator = await startSqsEmulator({
      prefix: `faults-it-${suffix}`,
      overrides: {
        remediations: { visibilityTimeoutSeconds: 30, maxReceiveCount: OLD_MAX_RECEIVES },
        results: { visibilityTimeoutSeconds: 1 },
      },
    });
    sqs = localSqsClient(emulator.endpoint);
  });

  after(async () => {
    for (const runtime of runtimes) runtime.close();
    for (const name of [NAMESPACE, ...executorNamespaces]) {
      await core?.deleteNamespace({ name }).catch(() => undefined);
    }
    sqs?.destroy();
    await emulator?.close();
  });

  // ---- helpers -------------------------------------------------------------------------------------------

  /** An executor as its configuration builds it, with an executor namespace (ledger, safety Lease) of its own. */
  async function executor(env: Record<string, string> = {}): Promise<{
    poller: PollerDeps;
    runtime: ExecutorRuntime;
    namespace: string;
  }> {
    const namespace = `faults-exec-${suffix}-${executorNamespaces.length}`;
    executorNamespaces.push(namespace);
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    const config = readExecutorConfig({
      CLUSTER_ID,
      REMEDIATIONS_QUEUE_URL: emulator.queueUrls.remediations,
      REMEDIATIONS_DLQ_URL: emulator.dlqUrls.remediations,
      RESULTS_QUEUE_URL: emulator.queueUrls.results,
      SQS_ENDPOINT_URL: emulator.endpoint,
      PLAN_PUBLIC_KEYS: publicKeyEntryOf(signer),
      REMEDIATIONS_MAX_RECEIVES: String(OLD_MAX_RECEIVES),
      EXECUTOR_POLICY: JSON.stringify({
        dryRun: false,
        enabledActions: ['scale', 'rollout-restart', 'delete-pod'],
        namespaces: { allow: ['faults-it-*'] },
        modes: { low: 'auto', medium: 'auto', high: 'auto' },
      }),
      EXECUTOR_NAMESPACE: namespace,
      EXECUTOR_INSTANCE: `faults-${suffix}`,
      COOLDOWN_SECONDS: '0',
      VERIFY_TIMEOUT_SECONDS: '60',
      VERIFY_POLL_MS: '250',
      LEASE_SECONDS: '30',
      SWEEP_AFTER_SECONDS: '600',
      WAIT_TIME_SECONDS: '0',
      RETRY_DELAY_SECONDS: '0',
      RETRY_MAX_DELAY_SECONDS: '0',
      ...env,
    });
    const runtime = createExecutorRuntime(config, logger, { kubeConfig: admin, sqs });
    runtimes.push(runtime);
    return { poller: runtime.poller, runtime, namespace };
  }

  /** The same executor over another ClusterPort (ledger and safety Lease included, as an outage hits them too). */
  function over(poller: PollerDeps, namespace: string, cluster: ClusterPort): PollerDeps {
    const executorDeps: ExecutorDeps = {
      ...poller.executor,
      cluster,
      ledger: new PlanLedger(cluster, namespace, poller.executor.ledger.owner, 30),
      safety: new SafetyLedger(cluster, namespace, poller.executor.safety!.limits),
    };
    return { ...poller, executor: executorDeps };
  }

  function plan(actions: RemediationAction[], overrides: Partial<UnsignedPlan> = {}): RemediationPlan {
    const now = Date.now();
    return signPlan(
      {
        schemaVersion: 2,
        kind: 'remediation-plan',
        clusterId: CLUSTER_ID,
        planId: `plan-${randomUUID()}`,
        incidentId: `incident-${randomUUID()}`,
        createdAt: new Date(now - 1000).toISOString(),
        expiresAt: new Date(now + 30 * 60_000).toISOString(),
        source: 'llm',
        rationale: 'red team',
        confidence: 0.95,
        dryRun: false,
        scope: scopeOfActions(CLUSTER_ID, NAMESPACE, actions),
        actions,
        ...overrides,
      },
      signer,
    );
  }

  const restart = (name: string): RemediationAction => ({
    action: 'rollout-restart',
    namespace: NAMESPACE,
    kind: 'Deployment',
    name,
  });

  async function send(signed: RemediationPlan): Promise<void> {
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: emulator.queueUrls.remediations,
        MessageBody: JSON.stringify(signed),
        MessageGroupId: signed.planId,
        MessageDeduplicationId: randomUUID(),
      }),
    );
  }

  /** Takes every result off the queue into `results`. */
  async function drainResults(): Promise<void> {
    for (;;) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: emulator.queueUrls.results,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 0,
        }),
      );
      if (Messages.length === 0) return;
      for (const message of Messages) {
        const result = ExecutionResult.parse(decodeMessageBody(message.Body ?? ''));
        results.set(result.planId, result);
        await sqs.send(
          new DeleteMessageCommand({
            QueueUrl: emulator.queueUrls.results,
            ReceiptHandle: message.ReceiptHandle,
          }),
        );
      }
    }
  }

  async function resultOf(planId: string): Promise<ExecutionResult> {
    return eventually(`result of ${planId}`, async () => {
      await drainResults();
      return results.get(planId);
    });
  }

  /** Delivers the next message `count` times (each fails while the fault lasts), as SQS would redeliver it. */
  async function deliver(poller: PollerDeps, count: number): Promise<void> {
    for (let n = 0; n < count; n += 1) {
      await eventually('a delivery', async () => ((await pollOnce(poller)) === 1 ? true : undefined));
    }
  }

  /** Whether the plan sits in the dead-letter queue (left there for other cases' checks). */
  async function deadLettered(planId: string): Promise<boolean> {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: emulator.dlqUrls.remediations,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 0,
        WaitTimeSeconds: 0,
      }),
    );
    return Messages.some((m) => (m.Body ?? '').includes(planId));
  }

  async function execute(poller: PollerDeps, signed: RemediationPlan): Promise<ExecutionResult> {
    await send(signed);
    await deliver(poller, 1);
    return resultOf(signed.planId);
  }

  async function createDeployment(name: string, replicas = 1): Promise<V1Deployment> {
    const body: V1Deployment = {
      metadata: { name, labels: { app: name } },
      spec: {
        replicas,
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: { containers: [{ name: 'app', image: 'registry.invalid/kubepulse/web:1' }] },
        },
      },
    };
    await apps.createNamespacedDeployment({ namespace: NAMESPACE, body });
    return eventually(`deployment ${name} rolled out`, async () => {
      const current = await apps.readNamespacedDeployment({ name, namespace: NAMESPACE });
      return rolloutProgress('Deployment', current).done ? current : undefined;
    });
  }

  const restartedAt = async (name: string) =>
    (await apps.readNamespacedDeployment({ name, namespace: NAMESPACE })).spec?.template.metadata
      ?.annotations?.[RESTARTED_AT];

  const deleteLedger = (namespace: string) =>
    core.deleteCollectionNamespacedConfigMap({ namespace, labelSelector: 'kubepulse.io/ledger=plan' });

  // ---- point 11: outages never dead-letter a claimed plan ----------------------------------------------------

  it('an API-server outage longer than the old maxReceiveCount before the claim: run after recovery, never dead-lettered', async () => {
    await createDeployment('outage-early');
    const { poller, namespace } = await executor();
    const outage = outageCluster(poller.executor.cluster);
    const faulty = over(poller, namespace, outage.cluster);
    const signed = plan([restart('outage-early')]);
    await send(signed);
    outage.state.down = true;
    await deliver(faulty, OLD_MAX_RECEIVES + 2);
    outage.state.down = false;
    await deliver(faulty, 1);
    const result = await resultOf(signed.planId);
    assert.equal(result.status, 'verified', result.error);
    assert.equal(await deadLettered(signed.planId), false, 'not in the dead-letter queue');
    assert.ok(await restartedAt('outage-early'));
  });

  it('an API-server outage right after a claimed plan wrote: finished on recovery, never dead-lettered', async () => {
    const before = await createDeployment('outage-midway');
    const { poller, namespace } = await executor();
    const outage = outageCluster(poller.executor.cluster);
    const faulty = over(poller, namespace, outage.cluster);
    const signed = plan([restart('outage-midway')]);
    await send(signed);
    outage.state.downAfterNextWrite = true;
    await deliver(faulty, 1); // claims, writes, then loses the API server
    assert.equal(outage.state.down, true, 'the outage began after the write');
    await deliver(faulty, OLD_MAX_RECEIVES + 2);
    outage.state.down = false;
    await deliver(faulty, 1);
    const result = await resultOf(signed.planId);
    assert.equal(result.status, 'verified', result.error);
    assert.equal(await deadLettered(signed.planId), false, 'not in the dead-letter queue');
    const after = await apps.readNamespacedDeployment({ name: 'outage-midway', namespace: NAMESPACE });
    assert.equal(after.metadata?.generation, (before.metadata?.generation ?? 0) + 1, 'written once');
  });

  it('a results-queue outage after the plan finished: result sent on recovery, not dead-lettered, not applied twice', async () => {
    const before = await createDeployment('results-outage');
    const { poller } = await executor();
    let resultsDown = true;
    const flakySqs = {
      send(command: { input: { QueueUrl?: string } }, options?: unknown) {
        if (resultsDown && command.input.QueueUrl === emulator.queueUrls.results) {
          return Promise.reject(new Error('connect ECONNREFUSED (simulated SQS outage)'));
        }
        return (sqs.send as (c: unknown, o?: unknown) => Promise<unknown>)(command, options);
      },
    } as unknown as SQSClient;
    const faulty = { ...poller, sqs: flakySqs };
    const signed = plan([restart('results-outage')]);
    await send(signed);
    await deliver(faulty, OLD_MAX_RECEIVES + 2);
    resultsDown = false;
    await deliver(faulty, 1);
    const result = await resultOf(signed.planId);
    assert.equal(result.status, 'verified', result.error);
    assert.equal(await deadLettered(signed.planId), false, 'not in the dead-letter queue');
    const after = await apps.readNamespacedDeployment({ name: 'results-outage', namespace: NAMESPACE });
    assert.equal(after.metadata?.generation, (before.metadata?.generation ?? 0) + 1, 'written once');
  });

  // ---- point 11: the sweeper settles what a crash left applying ----------------------------------------------

  /** Runs the plan with an executor that dies after its write, so the ledger is left `applying`. */
  async function crashMidPlan(poller: PollerDeps, signed: RemediationPlan): Promise<void> {
    const crashing = { ...poller.executor, cluster: crashingAfterWrite(poller.executor.cluster) };
    await assert.rejects(executePlanMessage(JSON.stringify(signed), crashing), /simulated crash/);
    const entry = await poller.executor.ledger.find(signed.planId);
    assert.equal(entry?.phase, 'applying');
  }

  /** The sweeper as it runs an hour later, when the dead executor's heartbeat is long stale. */
  const anHourLater = (poller: PollerDeps, extra: Partial<ExecutorDeps> = {}): PollerDeps => ({
    ...poller,
    executor: { ...poller.executor, now: () => new Date(Date.now() + 3600_000), ...extra },
  });

  it('a crash mid-plan leaves it applying and its message lost: the sweeper verifies it and reports', async () => {
    await createDeployment('crash-verify');
    const { poller } = await executor();
    const signed = plan([restart('crash-verify')]);
    await crashMidPlan(poller, signed);
    await sweepOnce(anHourLater(poller));
    const result = await resultOf(signed.planId);
    assert.equal(result.status, 'verified', result.error);
    assert.match(result.error ?? '', /verified by the sweeper/);
    assert.equal((await poller.executor.ledger.find(signed.planId))?.phase, 'done');
  });

  it('a crash mid-plan whose change did not help: the sweeper rolls it back and reports', async () => {
    await createDeployment('crash-rollback');
    const { poller } = await executor();
    const signed = plan([restart('crash-rollback')]);
    await crashMidPlan(poller, signed);
    assert.ok(await restartedAt('crash-rollback'), 'the crashed executor wrote');
    await sweepOnce(anHourLater(poller, { usage: unhealthy }));
    const result = await resultOf(signed.planId);
    assert.equal(result.status, 'rolled-back', result.error);
    assert.match(result.error ?? '', /the sweeper found: usage check failed/);
    assert.equal(await restartedAt('crash-rollback'), undefined, 'restart undone');
  });

  it('a crash in the middle of a rollback: the sweeper finishes the rollback and reports', async () => {
    await createDeployment('crash-in-rollback');
    const { poller } = await executor();
    const real = poller.executor.cluster;
    // The rollback's write reaches the API server, and the executor dies before it hears back.
    const crashOnRollback: ClusterPort = {
      ...real,
      async patch(body, kind, options) {
        const written = await real.patch(body, kind, options);
        const annotations = body.metadata?.annotations ?? {};
        if (!options?.dryRun && 'kubepulse.io/last-rollback' in annotations) {
          throw new DependencyUnavailableError('kubernetes', 'connection reset (simulated crash)');
        }
        return written;
      },
    };
    const signed = plan([restart('crash-in-rollback')]);
    await assert.rejects(
      executePlanMessage(JSON.stringify(signed), {
        ...poller.executor,
        cluster: crashOnRollback,
        usage: unhealthy,
      }),
      /simulated crash/,
    );
    assert.equal((await poller.executor.ledger.find(signed.planId))?.phase, 'rolling-back');
    await sweepOnce(anHourLater(poller));
    const result = await resultOf(signed.planId);
    assert.equal(result.status, 'rolled-back', result.error);
    assert.match(result.error ?? '', /rollback finished by the sweeper/);
    assert.equal(await restartedAt('crash-in-rollback'), undefined, 'restart undone');
  });

  it('a plan claimed by an executor that died before writing is closed once expired, not left muted', async () => {
    await createDeployment('claimed-dead');
    const { poller, namespace } = await executor();
    const now = Date.now();
    const signed = plan([restart('claimed-dead')], {
      createdAt: new Date(now - 20 * 60_000).toISOString(),
      expiresAt: new Date(now - 10 * 60_000).toISOString(),
    });
    const dead = new PlanLedger(poller.executor.cluster, namespace, 'executor-dead', 30);
    await dead.claim(signed, [], false, new Date(now - 15 * 60_000));
    await sweepOnce(poller);
    const result = await resultOf(signed.planId);
    assert.equal(result.status, 'failed');
    assert.match(result.error ?? '', /nothing was written; closed by the sweeper/);
    assert.equal(await restartedAt('claimed-dead'), undefined, 'the sweeper applies nothing');
  });

  it('a ledger entry left applying that cannot be settled is reported as an error worth paging on', async () => {
    const { poller, runtime, namespace } = await executor();
    // No plan recorded (an entry written by an older executor, or tampered with): nothing to verify it against.
    await core.createNamespacedConfigMap({
      namespace,
      body: {
        metadata: { name: `kubepulse-plan-orphan-${suffix}`, labels: { 'kubepulse.io/ledger': 'plan' } },
        data: {
          'plan-id': `orphan-${suffix}`,
          phase: 'applying',
          owner: 'executor-dead',
          'heartbeat-at': new Date(Date.now() - 3600_000).toISOString(),
          steps: JSON.stringify([{ state: 'applied' }]),
        },
      },
    });
    await sweepOnce(poller);
    const paged = logger.lines.find(
      (line) =>
        line.level === 'error' &&
        /sweeper could not settle/.test(line.message) &&
        line.fields.planId === `orphan-${suffix}`,
    );
    assert.ok(paged, 'logged as an error');
    assert.equal(paged.fields.page, true);
    assert.match(String(paged.fields.reason), /no readable plan/);
    assert.match(
      await runtime.registry.getSingleMetricAsString('kubepulse_executor_unsettled_plans'),
      /kubepulse_executor_unsettled_plans(\{[^}]*\})? 1$/m,
    );
  });

  // ---- point 12: eviction honours PodDisruptionBudgets -----------------------------------------------------

  it('delete-pod against a PodDisruptionBudget that allows no disruption: refused with its reason, pod kept', async () => {
    await createDeployment('guarded', 2);
    const policy = admin.makeApiClient(PolicyV1Api);
    await policy.createNamespacedPodDisruptionBudget({
      namespace: NAMESPACE,
      body: {
        metadata: { name: 'guarded' },
        spec: { minAvailable: 2, selector: { matchLabels: { app: 'guarded' } } },
      },
    });
    await eventually('the budget counted its pods', async () => {
      const pdb = await policy.readNamespacedPodDisruptionBudget({ name: 'guarded', namespace: NAMESPACE });
      return pdb.status?.currentHealthy === 2 && pdb.status.disruptionsAllowed === 0 ? true : undefined;
    });
    const { items } = await core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: 'app=guarded' });
    const victim = items[0]!;
    const { poller } = await executor();
    const signed = plan([{ action: 'delete-pod', namespace: NAMESPACE, pod: victim.metadata!.name! }], {
      scope: {
        ...scopeOfActions(CLUSTER_ID, NAMESPACE, []),
        workload: { kind: 'Deployment', name: 'guarded' },
      },
    });
    const result = await execute(poller, signed);
    assert.equal(result.status, 'refused', result.error);
    assert.match(result.error ?? '', /eviction-blocked|disruption budget/i);
    const still = await core.readNamespacedPod({ name: victim.metadata!.name!, namespace: NAMESPACE });
    assert.equal(still.metadata?.uid, victim.metadata?.uid, 'the pod was not removed');
    assert.equal(still.metadata?.deletionTimestamp, undefined);
  });

  // ---- point 12: the hourly write budget ---------------------------------------------------------------------

  it('a plan beyond the hourly write budget is refused with write-budget and writes nothing', async () => {
    for (const name of ['budget-a', 'budget-b', 'budget-c']) await createDeployment(name);
    const { poller } = await executor({ EXECUTOR_MAX_WRITES_PER_HOUR: '2' });
    for (const name of ['budget-a', 'budget-b']) {
      const result = await execute(poller, plan([restart(name)]));
      assert.equal(result.status, 'verified', result.error);
    }
    const result = await execute(poller, plan([restart('budget-c')]));
    assert.equal(result.status, 'refused');
    assert.match(result.error ?? '', /^write-budget: .*budget of 2 writes per hour is spent/);
    assert.equal(await restartedAt('budget-c'), undefined, 'nothing written');
  });

  it('deleting the plan ledger does not reset the write budget', async () => {
    for (const name of ['ledger-budget-a', 'ledger-budget-b']) await createDeployment(name);
    const { poller, namespace } = await executor({ EXECUTOR_MAX_WRITES_PER_HOUR: '1' });
    assert.equal((await execute(poller, plan([restart('ledger-budget-a')]))).status, 'verified');
    await deleteLedger(namespace);
    const result = await execute(poller, plan([restart('ledger-budget-b')]));
    assert.equal(result.status, 'refused');
    assert.match(result.error ?? '', /^write-budget/);
    assert.equal(await restartedAt('ledger-budget-b'), undefined);
  });

  // ---- point 12: the circuit breaker after repeated rollbacks ------------------------------------------------

  /** Two plans that roll back (the usage probe says they did not help): the breaker opens on the second. */
  async function tripBreaker(name: string): Promise<{ poller: PollerDeps; namespace: string }> {
    const { poller, namespace } = await executor({ EXECUTOR_MAX_ROLLBACKS_PER_HOUR: '2' });
    const failing = { ...poller, executor: { ...poller.executor, usage: unhealthy } };
    await createDeployment(`${name}-1`);
    await createDeployment(`${name}-2`);
    const first = await execute(failing, plan([restart(`${name}-1`)]));
    assert.equal(first.status, 'rolled-back', first.error);
    const second = await execute(failing, plan([restart(`${name}-2`)]));
    assert.equal(second.status, 'rolled-back', second.error);
    assert.match(second.error ?? '', /circuit-open: 2 rollbacks within an hour/, 'the result pages');
    return { poller, namespace };
  }

  it('after N rollbacks within an hour automatic plans are refused with circuit-open, untouched', async () => {
    const { poller } = await tripBreaker('breaker');
    await createDeployment('breaker-next');
    const result = await execute(poller, plan([restart('breaker-next')]));
    assert.equal(result.status, 'refused');
    assert.match(result.error ?? '', /^circuit-open: .*an operator must reset it/);
    assert.equal(await restartedAt('breaker-next'), undefined, 'nothing written');
    assert.ok(
      logger.lines.some(
        (line) => line.level === 'error' && line.fields.page === true && /circuit-open/.test(line.message),
      ),
      'paged when it opened',
    );
  });

  it('deleting the plan ledger does not close the circuit breaker', async () => {
    const { poller, namespace } = await tripBreaker('breaker-ledger');
    await deleteLedger(namespace);
    await createDeployment('breaker-ledger-next');
    const result = await execute(poller, plan([restart('breaker-ledger-next')]));
    assert.equal(result.status, 'refused');
    assert.match(result.error ?? '', /^circuit-open/);
  });

  it('the breaker stays open hours later until an operator removes it; then plans run again', async () => {
    const { poller, namespace } = await tripBreaker('breaker-time');
    await createDeployment('breaker-time-next');
    const offset = 5 * 3600_000;
    const later = { ...poller, executor: { ...poller.executor, now: () => new Date(Date.now() + offset) } };
    // Signed for that later time, so only the breaker can refuse it.
    const createdAt = new Date(Date.now() + offset - 1000);
    const refused = await execute(
      later,
      plan([restart('breaker-time-next')], {
        createdAt: createdAt.toISOString(),
        expiresAt: new Date(createdAt.getTime() + 30 * 60_000).toISOString(),
      }),
    );
    assert.equal(refused.status, 'refused');
    assert.match(refused.error ?? '', /^circuit-open/);
    // The operator's reset (docs/operations.md): remove the annotation.
    const leases = admin.makeApiClient(CoordinationV1Api);
    const lease = await leases.readNamespacedLease({ name: SAFETY_LEASE, namespace });
    delete lease.metadata!.annotations![SAFETY_ANNOTATIONS.circuitOpen];
    delete lease.metadata!.annotations![SAFETY_ANNOTATIONS.rollbacks];
    await leases.replaceNamespacedLease({ name: SAFETY_LEASE, namespace, body: lease });
    const result = await execute(poller, plan([restart('breaker-time-next')]));
    assert.equal(result.status, 'verified', result.error);
  });

  // ---- the executor's own identity cannot reset its limits ---------------------------------------------------

  it('the executor’s ServiceAccount cannot delete its safety Lease (so it cannot reset the budget or breaker)', async () => {
    const identity = new Set([
      'Namespace',
      'ServiceAccount',
      'ClusterRole',
      'ClusterRoleBinding',
      'Role',
      'RoleBinding',
    ]);
    const shipped = await kustomizeBuild('infra/kubernetes');
    await applyObjects(
      admin,
      shipped.filter((o) => identity.has(o.kind ?? '') && JSON.stringify(o).includes('kubepulse-executor')),
    );
    const asExecutor = (
      await serviceAccountKubeConfig(admin, 'kubepulse', 'kubepulse-executor', 600)
    ).makeApiClient(CoordinationV1Api);
    await assert.rejects(
      asExecutor.deleteNamespacedLease({ name: SAFETY_LEASE, namespace: 'kubepulse', dryRun: 'All' }),
      (error: { code?: number }) => error.code === 403,
    );
    await assert.rejects(
      asExecutor.deleteCollectionNamespacedLease({ namespace: 'kubepulse', dryRun: 'All' }),
      (error: { code?: number }) => error.code === 403,
    );
  });
});
