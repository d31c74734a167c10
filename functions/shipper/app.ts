import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import { describeError } from '../shared/errors.js';
import type { LoggerPort } from '../shared/logger.js';
import { createRegistry } from '../shared/metrics.js';
import { equalJitterDelayMs, sleep } from '../shared/retry.js';
import { ClusterInformers } from './adapters/informers.js';
import { ConfigMapCheckpointStore } from './adapters/kube-checkpoint-store.js';
import { KubeLogSource } from './adapters/kube-log-source.js';
import { PrometheusHttp } from './adapters/prometheus-http.js';
import { SqsQueueSender } from './adapters/sqs-sender.js';
import type { ShipperConfig } from './config.js';
import { ClusterReporter } from './core/cluster-reporter.js';
import { Outbox } from './core/outbox.js';
import type { CheckpointStore, LogSource, PrometheusPort, QueueSender } from './core/ports.js';
import { SampleReader } from './core/sample-reader.js';
import { CheckpointKeeper, runSampling } from './core/sampling-loop.js';
import { buildSignals } from './core/signals.js';
import { initialCursor } from './core/time-window.js';
import { createShipperMetrics, type ShipperMetrics } from './metrics.js';
import { PredictionGauges } from './relay/prediction-gauges.js';
import { runPredictionRelay } from './relay/prediction-relay.js';

export interface ShipperDeps {
  kubeConfig: KubeConfig;
  sqs: SQSClient;
  logger: LoggerPort;
  /** Replacements for the production adapters (tests use them to reach the same real services differently). */
  prometheus?: PrometheusPort;
  checkpointStore?: CheckpointStore;
  logSource?: LogSource | null;
  sender?: QueueSender;
}

export interface RunningShipper {
  /** `http://host:port` of /metrics and /healthz. */
  url: string;
  registry: Registry;
  outbox: Outbox;
  reader: SampleReader;
  checkpoint: CheckpointKeeper;
  informers: ClusterInformers;
  /** SIGTERM's path: stop reading, flush the outbox (bounded), save the checkpoint, stop watching. */
  stop(): Promise<void>;
}

/** Wires the shipper's core to Prometheus, the API server and SQS, and starts its loops and HTTP server. */
export async function startShipper(config: ShipperConfig, deps: ShipperDeps): Promise<RunningShipper> {
  const { logger } = deps;
  const registry = createRegistry('kubepulse-shipper');
  const metrics = createShipperMetrics(registry);
  const core = deps.kubeConfig.makeApiClient(CoreV1Api);
  const stopReading = new AbortController();
  const stopSending = new AbortController();
  const stopRelay = new AbortController();

  const outbox = new Outbox({
    sender: deps.sender ?? new SqsQueueSender(deps.sqs, config.samplesQueueUrl),
    metrics,
    logger,
    limits: config.outbox,
    backoff: config.backoff,
  });
  const wiring: Wiring = { config, deps, metrics, core, outbox };
  const { reader, checkpoint } = await createSampling(wiring, stopReading.signal);
  const { informers, reporter } = createClusterWatch(wiring);

  let stopping = false;
  const server = await serveHttp(config, registry, () => ({
    ok: !stopping,
    informersSynced: informers.allSynced,
    samplesReadThrough: reader.position,
    checkpoint: checkpoint.savedThrough ?? null,
    outbox: outbox.size,
  }));
  const sending = outbox.run(stopSending.signal);
  const reading = startReading(
    config,
    { reader, checkpoint, informers, reporter },
    stopReading.signal,
    logger,
  );
  const relaying = startRelay(config, deps, registry, stopRelay.signal);

  const address = server.address() as AddressInfo;
  return {
    url: `http://${address.address.includes(':') ? `[${address.address}]` : address.address}:${address.port}`,
    registry,
    outbox,
    reader,
    checkpoint,
    informers,
    async stop() {
      if (stopping) return;
      stopping = true;
      stopReading.abort();
      stopRelay.abort();
      await informers.stop();
      await Promise.allSettled(reading);
      reporter.sendChanges();
      const flushed = await outbox.drained(config.shutdownFlushMs);
      if (!flushed) logger.warn('shutting down with messages unsent', { queued: outbox.size });
      stopSending.abort();
      await sending;
      await saveCheckpointAtShutdown(checkpoint, logger);
      await relaying;
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** What the shipper's parts are built from. */
interface Wiring {
  config: ShipperConfig;
  deps: ShipperDeps;
  metrics: ShipperMetrics;
  core: CoreV1Api;
  outbox: Outbox;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** The sample reader, positioned after the saved checkpoint (or the initial lookback), and its checkpoint keeper. */
async function createSampling({ config, deps, metrics, core, outbox }: Wiring, stop: AbortSignal) {
  const { logger } = deps;
  const store =
    deps.checkpointStore ??
    new ConfigMapCheckpointStore(
      core,
      config.checkpoint.namespace,
      config.checkpoint.configMap,
      config.kubeRequestTimeoutMs,
    );
  const loaded = await loadCheckpoint(store, logger, config, stop);
  const cursor = loaded ?? initialCursor(nowSeconds(), config.initialLookbackSeconds, config.window);
  logger.info('sampling starts', { checkpoint: loaded ?? null, readingAfter: cursor });
  const reader = new SampleReader(
    {
      clusterId: config.clusterId,
      prometheus: deps.prometheus ?? new PrometheusHttp(config.prometheus.url, config.prometheus.timeoutMs),
      outbox,
      signals: buildSignals(config.metrics, config.queryOverrides, config.rateWindow),
      policy: config.window,
      metrics,
      logger,
      nowSeconds,
    },
    cursor,
  );
  const checkpoint = new CheckpointKeeper({ store, outbox, metrics, logger, nowSeconds }, loaded);
  return { reader, checkpoint };
}

/** The informers watching pods and nodes, and the reporter that turns what they see into inventory and events. */
function createClusterWatch({ config, deps, metrics, core, outbox }: Wiring) {
  const { logger } = deps;
  const logSource =
    deps.logSource === null
      ? undefined
      : (deps.logSource ??
        (config.logTailLines > 0
          ? new KubeLogSource(core, config.logTailLines, config.kubeRequestTimeoutMs)
          : undefined));
  let reporter: ClusterReporter | undefined;
  const informers = new ClusterInformers(
    deps.kubeConfig,
    core,
    {
      podChanged: (pod) => {
        reporter?.podChanged(pod).catch((error) => {
          logger.error('reporting a pod change failed', { error: describeError(error) });
        });
      },
      podDeleted: (pod) => reporter?.podDeleted(pod),
      watchError: (resource) => metrics.watchErrors.inc({ resource }),
    },
    logger,
    config.backoff,
  );
  reporter = new ClusterReporter({
    clusterId: config.clusterId,
    cache: informers,
    outbox,
    ...(logSource ? { logs: logSource } : {}),
    logTailScope: config.logTailScope,
    metrics,
    logger,
    now: () => new Date(),
    podsPerSnapshot: config.inventory.podsPerSnapshot,
    maxRememberedFailures: 50_000,
  });
  return { informers, reporter };
}

/** The loops that read the cluster until `stop`: samples, checkpoints, full and changed inventory. */
function startReading(
  config: ShipperConfig,
  parts: {
    reader: SampleReader;
    checkpoint: CheckpointKeeper;
    informers: ClusterInformers;
    reporter: ClusterReporter;
  },
  stop: AbortSignal,
  logger: LoggerPort,
): Promise<unknown>[] {
  const { reader, checkpoint, informers, reporter } = parts;
  return [
    runSampling(reader, stop, { policy: config.window, backoff: config.backoff, logger }),
    checkpoint.run(stop, config.checkpoint.intervalMs),
    (async () => {
      await informers.start();
      const sendComplete = () => reporter.sendComplete();
      await every(config.inventory.intervalMs, stop, sendComplete, logger, { now: true });
    })(),
    every(
      config.inventory.changesIntervalMs,
      stop,
      () => informers.allSynced && reporter.sendChanges(),
      logger,
    ),
  ];
}

/** The way back into the cluster: predictions made in the cloud become gauges on this /metrics. */
function startRelay(
  config: ShipperConfig,
  deps: ShipperDeps,
  registry: Registry,
  stop: AbortSignal,
): Promise<void> {
  if (!config.predictions) return Promise.resolve();
  return runPredictionRelay({
    sqs: deps.sqs,
    queueUrl: config.predictions.queueUrl,
    gauges: new PredictionGauges(registry, config.clusterId, config.predictions.staleAfterSeconds),
    logger: deps.logger,
    signal: stop,
  });
}

async function saveCheckpointAtShutdown(checkpoint: CheckpointKeeper, logger: LoggerPort): Promise<void> {
  try {
    await checkpoint.saveIfAdvanced();
    logger.info('checkpoint saved', { samplesThrough: checkpoint.savedThrough ?? null });
  } catch (error) {
    logger.error('saving the checkpoint at shutdown failed', { error: describeError(error) });
  }
}

async function loadCheckpoint(
  store: CheckpointStore,
  logger: LoggerPort,
  config: ShipperConfig,
  stop: AbortSignal,
): Promise<number | undefined> {
  // Starting without knowing the checkpoint would either leave a gap or resend hours: wait for the API server.
  for (let attempt = 0; ; attempt++) {
    try {
      return await store.load();
    } catch (error) {
      const delay = equalJitterDelayMs(attempt, config.backoff);
      logger.warn('reading the checkpoint failed; retrying', {
        error: describeError(error),
        retryInMs: delay,
      });
      await sleep(delay, stop);
    }
  }
}

async function every(
  intervalMs: number,
  stop: AbortSignal,
  task: () => unknown,
  logger: LoggerPort,
  options: { now?: boolean } = {},
): Promise<void> {
  for (let first = true; !stop.aborted; first = false) {
    if (!(first && options.now)) await sleep(intervalMs, stop);
    if (stop.aborted) return;
    try {
      task();
    } catch (error) {
      logger.error('a periodic task failed; it runs again next time', { error: describeError(error) });
    }
  }
}

function serveHttp(
  config: ShipperConfig,
  registry: Registry,
  health: () => { ok: boolean } & Record<string, unknown>,
): Promise<Server> {
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      registry
        .metrics()
        .then((text) => {
          response.writeHead(200, { 'content-type': registry.contentType });
          response.end(text);
        })
        .catch((error: Error) => {
          response.writeHead(500);
          response.end(error.message);
        });
      return;
    }
    if (path === '/healthz') {
      const status = health();
      response.writeHead(status.ok ? 200 : 503, { 'content-type': 'application/json' });
      response.end(JSON.stringify(status));
      return;
    }
    response.writeHead(404);
    response.end();
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.http.port, config.http.host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
