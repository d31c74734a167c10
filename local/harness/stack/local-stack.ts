// The whole of kubepulse on one machine without Docker: the control plane (real API server, kwok nodes), the
// fault simulator and a real Prometheus scraping it, Redis, the SQS emulator, a fake Gemini (or the real one when
// GEMINI_API_KEY is set, or any OpenAI-compatible endpoint with LLM_PROVIDER=openai-compatible), local alert receivers; the Lambda functions from the osls artefacts in Lambda-like
// sandboxes; and the in-cluster shipper and executor as their own processes, each authenticated as its own
// ServiceAccount with the RBAC from infra/kubernetes. Used by the demo, the closed-loop test and bench:e2e.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { CoreV1Api, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { NOTIFIER_SECRETS } from '../../../functions/notifier/config.js';
import { PLANNER_SECRETS } from '../../../functions/planner/config.js';
import { parsePolicy, type RemediationPolicyDocument } from '../../../functions/shared/actions/index.js';
import { generateSigningKeyPair } from '../../../functions/shared/signing.js';
import { bundleComponent, type Component } from '../../../infra/images/bundle.js';
import { FaultSimulator } from '../../scenarios/fault-sim/simulator.js';
import { type FakeGemini, startFakeGemini } from '../../standins/fake-gemini/server.js';
import { type AlertReceivers, startAlertReceivers } from '../../standins/receivers/index.js';
import { startSecretsStandIn, storeSecretsOf } from '../../standins/secrets/server.js';
import { localSqsClient } from '../../standins/sqs/client.js';
import { type SqsEmulator, startSqsEmulator } from '../../standins/sqs/emulator.js';
import {
  ensurePackagedService,
  type PackagedStack,
  startPackagedStack,
} from '../lambda-runner/packaged-stack.js';
import type { InvocationReport } from '../lambda-runner/sqs-event-source.js';
import { deleteIfPresent, ensureControlPlane, serviceAccountKubeConfig } from '../support/control-plane.js';
import { applyObjects, kustomizeBuild, withExecutorNamespaces } from '../support/kustomize.js';
import { PrivateRedisServer } from '../support/redis-server.js';
import { startQueueExporter } from './queue-exporter.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const CACHE_DIR = process.env.KUBEPULSE_CACHE ?? join(homedir(), '.cache', 'kubepulse');
const execFileAsync = promisify(execFile);

export interface LocalStackOptions {
  clusterId?: string;
  /** Namespaces the fault simulator drives (and where demo workloads live). */
  namespaces: string[];
  /** How much faster the simulated faults unfold than real time. */
  speed: number;
  /** The shipper's query_range step; the models see one sample per step. */
  stepSeconds: number;
  /** The remediation policy of both the planner and the executor (the executor re-checks with its own copy). */
  policy: RemediationPolicyDocument;
  /** Latency the fake Gemini adds to every answer (a realistic value for bench:e2e). */
  llmLatencyMs?: number;
  onProgress?: (line: string) => void;
  onInvoke?: (functionKey: string, report: InvocationReport) => void;
  /** Lines the functions and processes log (JSON); the demo keeps them in a file. */
  onLog?: (source: string, line: string) => void;
}

export interface LocalStack {
  clusterId: string;
  kubeConfig: KubeConfig;
  kubeconfigPath: string;
  sqs: SQSClient;
  emulator: SqsEmulator;
  redis: PrivateRedisServer;
  /** Who plans: the fake Gemini, the real one (GEMINI_API_KEY), or an OpenAI-compatible endpoint (LLM_PROVIDER). */
  llm: { kind: 'fake'; fake: FakeGemini } | { kind: 'real' } | { kind: 'openai-compatible'; baseUrl: string };
  receivers: AlertReceivers;
  simulator: FaultSimulator;
  functions: PackagedStack;
  prometheusUrl: string;
  shipperUrl: string;
  executorUrl: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

/**
 * The RBAC and admission half of infra/kubernetes: the processes run here, not as the manifests' Deployments, but
 * the API server holds them to the same RoleBindings and admission policies.
 */
const RBAC_KINDS = new Set([
  'Namespace',
  'ServiceAccount',
  'Role',
  'ClusterRole',
  'RoleBinding',
  'ClusterRoleBinding',
  'ValidatingAdmissionPolicy',
  'ValidatingAdmissionPolicyBinding',
]);

async function waitForHttp(url: string, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (response.ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${what} did not answer at ${url} within ${timeoutMs} ms`);
    await sleep(250);
  }
}

const SHIPPER_CHECKPOINT = 'kubepulse-shipper-checkpoint';

/**
 * Runs an in-cluster component from the same esbuild bundle its container image ships (infra/images/bundle.ts),
 * so what the stack exercises is the artifact that is deployed, not the TypeScript sources.
 */
function startProcess(
  name: Component,
  bundle: string,
  env: Record<string, string>,
  onLog: LocalStackOptions['onLog'],
): ChildProcess {
  const child = spawn(process.execPath, ['--enable-source-maps', bundle], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [child.stdout, child.stderr]) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      for (const line of chunk.split('\n')) if (line.trim() !== '') onLog?.(name, line);
    });
  }
  return child;
}

async function stopProcess(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((done) => child.once('exit', done));
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(killer);
}

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const progress = options.onProgress ?? (() => {});
  const clusterId = options.clusterId ?? 'local';
  const cleanups: Array<() => Promise<unknown>> = [];
  const stop = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  };
  try {
    progress('control plane: building (first time only) and starting …');
    const { kubeConfig, kubeconfigPath } = await ensureControlPlane();

    progress('RBAC: applying infra/kubernetes (namespace, service accounts, roles, admission policies) …');
    const manifests = (await kustomizeBuild(join(ROOT, 'infra/kubernetes'))).filter((o: KubernetesObject) =>
      RBAC_KINDS.has(o.kind ?? ''),
    );
    // The executor is bound in the namespaces this run acts in, as an operator lists theirs.
    await applyObjects(kubeConfig, withExecutorNamespaces(manifests, options.namespaces));
    const credentialsDir = join(CACHE_DIR, 'run', 'stack', String(process.pid));
    mkdirSync(credentialsDir, { recursive: true });
    cleanups.push(async () => rmSync(credentialsDir, { recursive: true, force: true }));
    const kubeconfigFor = async (serviceAccount: string) => {
      const config = await serviceAccountKubeConfig(kubeConfig, 'kubepulse', serviceAccount, 3600);
      const path = join(credentialsDir, `${serviceAccount}.kubeconfig`);
      writeFileSync(path, config.exportConfig(), { mode: 0o600 });
      return path;
    };
    const executorKubeconfig = await kubeconfigFor('kubepulse-executor');
    const shipperKubeconfig = await kubeconfigFor('kubepulse-shipper');

    progress('redis, SQS emulator, alert receivers …');
    const redis = await PrivateRedisServer.start();
    cleanups.push(() => redis.close());
    // One cluster, this stack's: its queues, and the functions packaged for the same cluster list.
    const emulator = await startSqsEmulator({ port: 0, clusters: [clusterId] });
    cleanups.push(() => emulator.close());
    const sqs = localSqsClient(emulator.endpoint);
    cleanups.push(async () => sqs.destroy());
    const receivers = await startAlertReceivers();
    cleanups.push(() => receivers.close());
    // The functions fetch their secrets at cold start, as deployed: from this Secrets Manager/SSM stand-in.
    const secrets = await startSecretsStandIn();
    cleanups.push(() => secrets.close());

    const realKey = process.env.GEMINI_API_KEY;
    const openAiBaseUrl =
      process.env.LLM_PROVIDER === 'openai-compatible' ? process.env.OPENAI_COMPATIBLE_BASE_URL : undefined;
    let llm: LocalStack['llm'];
    const llmEnv: Record<string, string> = {};
    if (openAiBaseUrl) {
      // e.g. the local model: bash local/standins/llm/setup.sh && node --import tsx local/standins/llm/server.ts
      progress(`LLM: OpenAI-compatible endpoint at ${openAiBaseUrl}`);
      llm = { kind: 'openai-compatible', baseUrl: openAiBaseUrl };
      Object.assign(llmEnv, {
        LLM_PROVIDER: 'openai-compatible',
        OPENAI_COMPATIBLE_BASE_URL: openAiBaseUrl,
        OPENAI_COMPATIBLE_MODEL: process.env.OPENAI_COMPATIBLE_MODEL ?? '',
        ...(process.env.OPENAI_COMPATIBLE_API_KEY
          ? { OPENAI_COMPATIBLE_API_KEY: process.env.OPENAI_COMPATIBLE_API_KEY }
          : {}),
      });
    } else if (realKey) {
      progress('LLM: GEMINI_API_KEY is set, planning with the real Gemini');
      llm = { kind: 'real' };
      llmEnv.GEMINI_API_KEY = realKey;
    } else {
      const fake = await startFakeGemini({ latencyMs: options.llmLatencyMs ?? 0 });
      cleanups.push(() => fake.close());
      progress(`LLM: fake Gemini (the real REST protocol) at ${fake.url}`);
      llm = { kind: 'fake', fake };
      Object.assign(llmEnv, { GEMINI_API_KEY: 'fake-gemini-key', GEMINI_BASE_URL: fake.url });
    }

    progress('fault simulator and Prometheus …');
    const simulator = await FaultSimulator.start({
      kubeConfig,
      speed: options.speed,
      namespaces: options.namespaces,
      exporter: { port: 0 },
      log: (message) => options.onLog?.('fault-sim', message),
    });
    cleanups.push(() => simulator.stop());
    const queues = await startQueueExporter(sqs, [
      ...Object.values(emulator.queueUrls),
      ...Object.values(emulator.dlqUrls),
    ]);
    cleanups.push(() => queues.close());
    const shipperPort = await freePort();
    const executorPort = await freePort();
    const prometheusConfig = join(credentialsDir, 'prometheus.yml');
    writeFileSync(
      prometheusConfig,
      [
        'global: { scrape_interval: 1s, scrape_timeout: 900ms, evaluation_interval: 5s }',
        'scrape_configs:',
        // the simulator plays cAdvisor/kube-state-metrics: its series carry the watched pods' own labels
        `  - { job_name: fault-sim, honor_labels: true, static_configs: [{ targets: ['127.0.0.1:${simulator.exporter.port}'] }] }`,
        // the shipper also serves the prediction relay's gauges, labelled with the predicted pods
        `  - { job_name: kubepulse-shipper, honor_labels: true, static_configs: [{ targets: ['127.0.0.1:${shipperPort}'] }] }`,
        `  - { job_name: kubepulse-executor, static_configs: [{ targets: ['127.0.0.1:${executorPort}'] }] }`,
        `  - { job_name: sqs, static_configs: [{ targets: ['127.0.0.1:${queues.port}'] }] }`,
        '',
      ].join('\n'),
    );
    const prometheusScript = join(ROOT, 'local/standins/services/prometheus.sh');
    await execFileAsync('bash', [prometheusScript, 'down']);
    await execFileAsync('bash', [prometheusScript, 'up', prometheusConfig]);
    const prometheusUrl = (await execFileAsync('bash', [prometheusScript, 'url'])).stdout.trim();

    progress('functions: packaging with osls (cached by content) and starting their sandboxes …');
    const service = ensurePackagedService({ clusters: [clusterId], onProgress: progress });
    // A fresh pair per stack: the planner gets the private key, the executor only its public half.
    const signing = generateSigningKeyPair('local');
    parsePolicy(options.policy); // refuse a bad document here, not in two processes' logs
    const policy = JSON.stringify(options.policy);
    const functions = await startPackagedStack({
      service,
      sqs,
      emulator,
      environmentOverrides: {
        '*': {
          REDIS_URL: redis.url,
          LOG_LEVEL: 'WARN',
          POWERTOOLS_LOG_LEVEL: 'WARN',
          AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
          AWS_ENDPOINT_URL_SSM: secrets.url,
        },
        planner: storeSecretsOf(
          secrets,
          'kubepulse/local/planner',
          { PLAN_SIGNING_KEY: signing.signingKey, REMEDIATION_POLICY: policy, ...llmEnv },
          PLANNER_SECRETS.filter((name) => typeof name === 'string'),
        ),
        notifier: storeSecretsOf(
          secrets,
          'kubepulse/local/notifier',
          receivers.notifierEnv,
          NOTIFIER_SECRETS.filter((name) => typeof name === 'string'),
        ),
      },
      ...(options.onInvoke ? { onInvoke: options.onInvoke } : {}),
      onOutput: (key, line) => options.onLog?.(key, line),
      onError: (key, error) => options.onLog?.(key, `event source error: ${String(error)}`),
    });
    cleanups.push(() => functions.stop());

    const awsEnv = {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_ENDPOINT_URL_SQS: emulator.endpoint,
    };
    progress('shipper and executor (in-cluster processes, each with its own service account) …');
    // A fresh stack is a fresh deployment: without this the shipper would resume from the last run's checkpoint
    // and backfill its series from Prometheus' kept data, and the planner would act on pods that no longer exist.
    await deleteIfPresent(() =>
      kubeConfig
        .makeApiClient(CoreV1Api)
        .deleteNamespacedConfigMap({ name: SHIPPER_CHECKPOINT, namespace: 'kubepulse' }),
    );
    const bundles = mkdtempSync(join(tmpdir(), 'kubepulse-bundles-'));
    cleanups.push(async () => rmSync(bundles, { recursive: true, force: true }));
    const shipperBundle = await bundleComponent('shipper', join(bundles, 'shipper'));
    const executorBundle = await bundleComponent('executor', join(bundles, 'executor'));
    const shipper = startProcess(
      'shipper',
      shipperBundle,
      {
        ...awsEnv,
        KUBECONFIG: shipperKubeconfig,
        CLUSTER_ID: clusterId,
        SAMPLES_QUEUE_URL: emulator.queueUrls.samples!,
        PREDICTIONS_QUEUE_URL: emulator.queueUrls.predictions!,
        PROMETHEUS_URL: prometheusUrl,
        STEP_SECONDS: String(options.stepSeconds),
        SCRAPE_LAG_SECONDS: String(Math.max(2, options.stepSeconds)),
        RATE_WINDOW: `${Math.max(5, 4 * options.stepSeconds)}s`,
        INITIAL_LOOKBACK_SECONDS: '0',
        INVENTORY_INTERVAL_SECONDS: '10',
        INVENTORY_CHANGES_INTERVAL_SECONDS: '2',
        CHECKPOINT_INTERVAL_SECONDS: '5',
        POD_NAMESPACE: 'kubepulse',
        CHECKPOINT_CONFIGMAP: SHIPPER_CHECKPOINT,
        HTTP_HOST: '127.0.0.1',
        HTTP_PORT: String(shipperPort),
        LOG_LEVEL: 'WARN',
      },
      options.onLog,
    );
    cleanups.push(() => stopProcess(shipper));
    const executor = startProcess(
      'executor',
      executorBundle,
      {
        ...awsEnv,
        KUBECONFIG: executorKubeconfig,
        CLUSTER_ID: clusterId,
        REMEDIATIONS_QUEUE_URL: emulator.queueUrls.remediations!,
        REMEDIATIONS_DLQ_URL: emulator.dlqUrls.remediations!,
        RESULTS_QUEUE_URL: emulator.queueUrls.results!,
        SQS_ENDPOINT_URL: emulator.endpoint,
        PLAN_PUBLIC_KEYS: signing.publicKeyEntry,
        EXECUTOR_POLICY: policy,
        EXECUTOR_NAMESPACE: 'kubepulse',
        EXECUTOR_INSTANCE: 'local-executor',
        PROMETHEUS_URL: prometheusUrl,
        COOLDOWN_SECONDS: '60',
        // The write budget and circuit breaker are one Lease per cluster, and every suite shares this API server:
        // lifted here so that other suites' writes and rollbacks cannot refuse this one's plans (their own red-team
        // cases run in a namespace of their own).
        EXECUTOR_MAX_WRITES_PER_HOUR: '10000',
        EXECUTOR_MAX_ROLLBACKS_PER_HOUR: '1000',
        VERIFY_TIMEOUT_SECONDS: '90',
        VERIFY_POLL_MS: '1000',
        WAIT_TIME_SECONDS: '1',
        HTTP_PORT: String(executorPort),
        LOG_LEVEL: 'WARN',
      },
      options.onLog,
    );
    cleanups.push(() => stopProcess(executor));
    const shipperUrl = `http://127.0.0.1:${shipperPort}`;
    const executorUrl = `http://127.0.0.1:${executorPort}`;
    await waitForHttp(`${shipperUrl}/healthz`, 'the shipper', 60_000);
    await waitForHttp(`${executorUrl}/healthz`, 'the executor', 60_000);
    progress('stack up');

    return {
      clusterId,
      kubeConfig,
      kubeconfigPath,
      sqs,
      emulator,
      redis,
      llm,
      receivers,
      simulator,
      functions,
      prometheusUrl,
      shipperUrl,
      executorUrl,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
