import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { SQSClient } from '@aws-sdk/client-sqs';
import {
  AppsV1Api,
  CoreV1Api,
  type KubeConfig,
  loadAllYaml,
  RbacAuthorizationV1Api,
  type V1ClusterRole,
  type V1Role,
} from '@kubernetes/client-node';
import type {
  FailureEvent,
  InventorySnapshot,
  ShipperMessage,
} from '../../functions/shared/contracts/index.js';
import { PrometheusHttp } from '../../functions/shipper/adapters/prometheus-http.js';
import { type RunningShipper, startShipper } from '../../functions/shipper/app.js';
import { readShipperConfig, type ShipperConfig } from '../../functions/shipper/config.js';
import { buildSignals } from '../../functions/shipper/core/signals.js';
import { ensureControlPlane, serviceAccountKubeConfig } from '../../local/harness/support/control-plane.js';
import { PrivatePrometheus } from '../../local/scenarios/fault-sim/prometheus.js';
import { FaultSimulator } from '../../local/scenarios/fault-sim/simulator.js';
import { runningPodOf, simulatedDeployment } from '../../local/scenarios/fault-sim/workloads.js';
import { localSqsClient } from '../../local/standins/sqs/client.js';
import { type SqsEmulator, startSqsEmulator } from '../../local/standins/sqs/emulator.js';
import {
  collectMessages,
  eventually,
  recordingLogger,
  timestampsBySeries,
} from '../support/shipper-fixtures.js';

const MiB = 2 ** 20;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const nowSeconds = () => Math.floor(Date.now() / 1000);

/**
 * The shipper end to end on this machine: the real API server (kwok runs the pods, the fault simulator plays their
 * kubelet and cAdvisor), a real Prometheus scraping the simulator, and the SQS emulator. The shipper runs as its
 * service account with exactly the RBAC of infra/kubernetes/shipper/rbac.yaml.
 */
describe('the shipper against the local control plane, Prometheus and SQS', () => {
  const namespace = `shipper-it-${randomBytes(3).toString('hex')}`;
  const bindingName = `kubepulse-shipper-${namespace}`;
  let admin: KubeConfig;
  let core: CoreV1Api;
  let emulator: SqsEmulator;
  let sqs: SQSClient;
  let simulator: FaultSimulator;
  let prometheus: PrivatePrometheus;
  let config: ShipperConfig;
  let shipperKubeConfig: KubeConfig;
  let shipper: RunningShipper | undefined;
  let oomKills = 0;
  let child: { process: ChildProcess; exited: Promise<number | null>; output(): string } | undefined;
  const logger = recordingLogger();
  const received: ShipperMessage[] = [];
  const receive = (done: (m: readonly ShipperMessage[]) => boolean, timeoutMs: number) =>
    collectMessages(sqs, emulator.queueUrls.samples!, received, done, timeoutMs);
  let shipperEnv: Record<string, string>;
  const savedCheckpoint = async () => {
    const map = await core.readNamespacedConfigMap({ namespace, name: config.checkpoint.configMap });
    const value = Number(map.data?.samplesThrough);
    return Number.isInteger(value) ? value : undefined;
  };
  /** `functions/shipper/main.ts` as a process, configured as the in-process one, as the service account. */
  const spawnShipper = () => {
    const kubeconfigPath = join(mkdtempSync(join(tmpdir(), 'kubepulse-shipper-')), 'kubeconfig');
    writeFileSync(kubeconfigPath, shipperKubeConfig.exportConfig());
    let output = '';
    const child = spawn(process.execPath, ['--import', 'tsx', 'functions/shipper/main.ts'], {
      env: {
        ...process.env,
        ...shipperEnv,
        KUBECONFIG: kubeconfigPath,
        AWS_ENDPOINT_URL_SQS: emulator.endpoint,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'local',
        POWERTOOLS_LOG_LEVEL: 'WARN',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-8000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    return { process: child, exited, output: () => output };
  };

  before(async () => {
    ({ kubeConfig: admin } = await ensureControlPlane());
    core = admin.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    await applyShipperRbac(admin, namespace, bindingName);
    shipperKubeConfig = await serviceAccountKubeConfig(admin, namespace, 'kubepulse-shipper', 3600);

    const apps = admin.makeApiClient(AppsV1Api);
    // 16 Mi growing 2 Mi per simulated second at 2x: killed at its 48 Mi limit after about 8 s.
    await apps.createNamespacedDeployment({
      namespace,
      body: simulatedDeployment('leaky', 'memory-leak;rate=2Mi;base=16Mi', { memory: '48Mi', cpu: '250m' }),
    });
    await apps.createNamespacedDeployment({
      namespace,
      body: simulatedDeployment('steady', 'steady;memory=100Mi;cpu=0.4', { memory: '256Mi', cpu: '500m' }),
    });
    for (const app of ['leaky', 'steady']) {
      await eventually(() => runningPodOf(core, namespace, app), 60_000, `${app} to run`);
    }
    simulator = await FaultSimulator.start({
      kubeConfig: admin,
      speed: 2,
      tickMs: 250,
      namespaces: [namespace],
      exporter: { port: 0 },
      log: () => {},
    });
    prometheus = await PrivatePrometheus.start([`127.0.0.1:${simulator.exporter.port}`]);
    await prometheus.scraping();
    emulator = await startSqsEmulator({ port: 0 });
    sqs = localSqsClient(emulator.endpoint);
    shipperEnv = {
      CLUSTER_ID: 'local-it',
      SAMPLES_QUEUE_URL: emulator.queueUrls.samples!,
      PROMETHEUS_URL: prometheus.url,
      PROMETHEUS_TIMEOUT_MS: '2000',
      POD_NAMESPACE: namespace,
      STEP_SECONDS: '1',
      SCRAPE_LAG_SECONDS: '3',
      INITIAL_LOOKBACK_SECONDS: '0',
      MAX_STEPS_PER_QUERY: '30',
      RATE_WINDOW: '5s',
      CHECKPOINT_INTERVAL_SECONDS: '1',
      INVENTORY_INTERVAL_SECONDS: '5',
      INVENTORY_CHANGES_INTERVAL_SECONDS: '1',
      BACKOFF_INITIAL_MS: '200',
      BACKOFF_MAX_MS: '1000',
      SHUTDOWN_FLUSH_MS: '5000',
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: '0',
    };
    config = readShipperConfig(shipperEnv);
    shipper = await startShipper(config, {
      kubeConfig: shipperKubeConfig,
      sqs: localSqsClient(emulator.endpoint),
      logger,
    });
  });

  after(async () => {
    if (child && child.process.exitCode === null) {
      child.process.kill('SIGKILL');
      await child.exited;
    }
    await shipper?.stop();
    await simulator?.stop();
    await prometheus?.close();
    sqs?.destroy();
    await emulator?.close();
    await admin
      ?.makeApiClient(RbacAuthorizationV1Api)
      .deleteClusterRoleBinding({ name: bindingName })
      .catch(() => {});
    await core?.deleteNamespace({ name: namespace }).catch(() => {});
  });

  it('sends the samples of a leaking pod as valid sample batches', async () => {
    const leaky = (await runningPodOf(core, namespace, 'leaky'))!.metadata!.name!;
    const memoryOf = (messages: readonly ShipperMessage[]) =>
      messages
        .flatMap((m) => (m.kind === 'sample-batch' ? m.series : []))
        .filter((s) => s.pod === leaky && s.metric === 'memory_working_set_bytes')
        .flatMap((s) => s.samples);
    // collectMessages parses every message with the ShipperMessage schema: an invalid one fails the test.
    await receive((m) => memoryOf(m).length >= 5, 30_000);
    const values = memoryOf(received).map(([, v]) => v);
    assert.ok(
      values.every((v) => v >= 16 * MiB && v <= 48 * MiB),
      'between the leak base and the limit',
    );
    assert.ok(received.some((m) => m.kind === 'sample-batch' && m.stepSeconds === 1));
  });

  it('sends an inventory snapshot naming the owner Deployment and the limits', async () => {
    const leaky = (await runningPodOf(core, namespace, 'leaky'))!.metadata!.name!;
    const inventoryOf = (messages: readonly ShipperMessage[]) =>
      messages
        .filter((m): m is InventorySnapshot => m.kind === 'inventory-snapshot')
        .flatMap((m) => m.pods)
        .find((p) => p.pod === leaky);
    await receive((m) => inventoryOf(m) !== undefined, 20_000);
    const pod = inventoryOf(received)!;
    assert.deepEqual(pod.owner, { kind: 'Deployment', name: 'leaky' });
    assert.equal(pod.node, 'kwok-node-0');
    assert.deepEqual(pod.containers[0]!.limits, { memoryBytes: 48 * MiB, cpuCores: 0.25 });
  });

  it('reports each OOM kill of the leaking pod exactly once', async () => {
    const oomEvents = (messages: readonly ShipperMessage[]) =>
      messages
        .flatMap((m) => (m.kind === 'failure-events' ? m.events : []))
        // The control plane is shared with other suites and the demo, whose pods may carry OOM kills of their own.
        .filter((e) => e.reason === 'OOMKilled' && e.namespace === namespace);
    await receive((m) => oomEvents(m).length > 0, 40_000);
    // No more leaking: the pod keeps running, and nothing may report a kill twice.
    simulator.setScenario(
      { namespace, workload: 'leaky' },
      { kind: 'steady', memoryBytes: 20 * MiB, cpuCores: 0.1 },
    );
    await receive(() => false, 4000);
    const events: FailureEvent[] = oomEvents(received);
    const pod = (await runningPodOf(core, namespace, 'leaky'))!;
    oomKills = pod.status!.containerStatuses![0]!.restartCount;
    assert.ok(oomKills >= 1);
    assert.equal(events.length, oomKills, 'one event per kill');
    assert.equal(new Set(events.map((e) => e.eventId)).size, oomKills);
    for (const event of events) {
      assert.equal(event.pod, pod.metadata!.name);
      assert.equal(event.container, 'app');
      assert.deepEqual(event.owner, { kind: 'Deployment', name: 'leaky' });
      assert.equal(event.node, 'kwok-node-0');
      assert.match(event.message, /OOM/);
      assert.equal(event.logTail, undefined, 'kwok has no kubelet to serve logs: the tail is omitted');
    }
  });

  it('serves its metrics and health', async () => {
    const metrics = await (await fetch(`${shipper!.url}/metrics`)).text();
    assert.match(
      metrics,
      /^kubepulse_shipper_samples_read_total\{metric="memory_working_set_bytes",function="kubepulse-shipper"\} [1-9]/m,
    );
    assert.match(
      metrics,
      /^kubepulse_shipper_messages_sent_total\{kind="sample-batch",function="kubepulse-shipper"\} [1-9]/m,
    );
    assert.match(
      metrics,
      /^kubepulse_shipper_failure_events_total\{reason="OOMKilled",function="kubepulse-shipper"\} [1-9]/m,
    );
    assert.match(
      metrics,
      /^kubepulse_shipper_prometheus_query_seconds_count\{[^}]*metric="cpu_usage_cores",outcome="ok"\} [1-9]/m,
    );
    assert.match(metrics, /^kubepulse_shipper_checkpoint_lag_seconds\{function="kubepulse-shipper"\} \d/m);
    assert.doesNotMatch(
      metrics,
      /^kubepulse_shipper_watch_errors_total\{/m,
      'every informer watches without errors',
    );
    assert.doesNotMatch(metrics, /^kubepulse_shipper_dropped_messages_total\{/m);
    const health = await fetch(`${shipper!.url}/healthz`);
    assert.equal(health.status, 200);
    assert.equal(((await health.json()) as { informersSynced: boolean }).informersSynced, true);
  });

  it('keeps its place through a Prometheus restart and backfills from its checkpoint after its own restart', async () => {
    const running = shipper!;
    // Prometheus away for a while: the shipper retries and does not move on.
    await prometheus.stop();
    await sleep(1000);
    const stalledAt = running.reader.position;
    await sleep(4000);
    assert.equal(running.reader.position, stalledAt, 'the cursor waits');
    await prometheus.resume();
    const backAt = nowSeconds();
    await eventually(() => running.reader.position >= backAt + 3, 30_000, 'catching up after Prometheus');

    // The shipper stops (SIGTERM's path, in process) and a new one starts, as its own process (main.ts), from the
    // checkpoint in its ConfigMap; SIGTERM stops that one too.
    await running.stop();
    shipper = undefined;
    const checkpoint = await savedCheckpoint();
    assert.equal(checkpoint, running.reader.position, 'everything read was delivered and checkpointed');
    await sleep(4000);
    const restartedAt = nowSeconds();
    child = spawnShipper();
    await eventually(async () => ((await savedCheckpoint()) ?? 0) >= restartedAt + 1, 30_000, 'the backfill');
    child.process.kill('SIGTERM');
    const exitCode = await child.exited;
    assert.equal(exitCode, 0, `the shipper process exits cleanly on SIGTERM:\n${child.output()}`);
    const lastRead = (await savedCheckpoint())!;
    await receive(() => false, 3000);

    // What Prometheus itself holds, asked now, is the oracle for what had to arrive.
    const sent = timestampsBySeries(received);
    const source = new PrometheusHttp(prometheus.url, 5000);
    const signals = buildSignals(config.metrics, {}, config.rateWindow).filter(
      (s) => s.metric === 'memory_working_set_bytes' || s.metric === 'container_restarts_total',
    );
    const firstSent = Math.min(...[...sent.values()].flat());
    let compared = 0;
    for (const signal of signals) {
      for (const { labels, points } of await source.queryRange(signal.query, firstSent, lastRead, 1)) {
        if (labels.namespace !== namespace) continue;
        const key = `${signal.metric}|${labels.namespace}/${labels.pod}/${labels.container}`;
        const timestamps = [...(sent.get(key) ?? [])].sort((a, b) => a - b);
        assert.ok(timestamps.length > 0, `${key} was sent`);
        assert.equal(new Set(timestamps).size, timestamps.length, `${key}: no step sent twice`);
        const first = timestamps[0]!;
        const expected = points.map(([at]) => at).filter((at) => at >= first && at <= lastRead);
        assert.deepEqual(timestamps, expected, `${key}: every step Prometheus has, from the first sent on`);
        assert.ok(
          timestamps.some((at) => at > backAt && at <= checkpoint),
          `${key}: after the Prometheus restart`,
        );
        assert.ok(
          timestamps.some((at) => at > checkpoint && at < restartedAt),
          `${key}: the backfilled span`,
        );
        compared++;
      }
    }
    assert.ok(compared >= 4, 'memory and restarts of both pods');
    // A restarted shipper sees the OOM kill again in the pod's status; it carries the same event id, which the
    // consumer deduplicates.
    const oomIds = new Set(
      received
        .flatMap((m) => (m.kind === 'failure-events' ? m.events : []))
        .filter((e) => e.reason === 'OOMKilled' && e.namespace === namespace)
        .map((e) => e.eventId),
    );
    assert.equal(oomIds.size, oomKills);
    assert.ok(!logger.lines.some((l) => l.message.startsWith('outbox full')), 'nothing was dropped');
    assert.deepEqual(
      logger.lines.filter((l) => l.level === 'error'),
      [],
    );
  });
});

/** The ClusterRole and checkpoint Role from infra/kubernetes/shipper/rbac.yaml, bound to the test's account. */
async function applyShipperRbac(admin: KubeConfig, namespace: string, bindingName: string): Promise<void> {
  const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
  const documents = loadAllYaml(readFileSync('infra/kubernetes/shipper/rbac.yaml', 'utf8')) as Array<{
    kind: string;
  }>;
  const clusterRole = documents.find((d) => d.kind === 'ClusterRole') as V1ClusterRole;
  const role = documents.find((d) => d.kind === 'Role') as V1Role;
  try {
    await rbac.replaceClusterRole({ name: clusterRole.metadata!.name!, body: clusterRole });
  } catch {
    await rbac.createClusterRole({ body: clusterRole });
  }
  const subject = { kind: 'ServiceAccount', name: 'kubepulse-shipper', namespace };
  await rbac.createClusterRoleBinding({
    body: {
      metadata: { name: bindingName },
      roleRef: {
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'ClusterRole',
        name: clusterRole.metadata!.name!,
      },
      subjects: [subject],
    },
  });
  await rbac.createNamespacedRole({
    namespace,
    body: { ...role, metadata: { ...role.metadata, namespace } },
  });
  await rbac.createNamespacedRoleBinding({
    namespace,
    body: {
      metadata: { name: role.metadata!.name! },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.metadata!.name! },
      subjects: [subject],
    },
  });
}
