import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { V1Pod } from '@kubernetes/client-node';
import { type Exporter, startExporter } from '../../../local/scenarios/fault-sim/exporter.js';
import { PrivatePrometheus } from '../../../local/scenarios/fault-sim/prometheus.js';
import { UsageModel } from '../../../local/scenarios/fault-sim/usage-model.js';
import { localSqsClient } from '../../../local/standins/sqs/client.js';
import { type SqsEmulator, startSqsEmulator } from '../../../local/standins/sqs/emulator.js';
import {
  collectMessages,
  eventually,
  recordingLogger,
  timestampsBySeries,
} from '../../../test/support/shipper-fixtures.js';
import type { ShipperMessage } from '../../shared/contracts/index.js';
import { DependencyUnavailableError } from '../../shared/errors.js';
import { createRegistry } from '../../shared/metrics.js';
import { PrometheusHttp } from '../adapters/prometheus-http.js';
import { SqsQueueSender } from '../adapters/sqs-sender.js';
import { createShipperMetrics } from '../metrics.js';
import { PrometheusQueryError } from './errors.js';
import { Outbox } from './outbox.js';
import { SampleReader } from './sample-reader.js';
import { runSampling } from './sampling-loop.js';
import { buildSignals } from './signals.js';
import { initialCursor, type WindowPolicy } from './time-window.js';

function runningPod(name: string, annotation: string, limits?: Record<string, string>): V1Pod {
  return {
    metadata: {
      namespace: 'unit',
      name,
      uid: `uid-${name}`,
      annotations: { 'kubepulse.io/sim-scenario': annotation },
    },
    spec: { nodeName: 'node-a', containers: [{ name: 'app', image: 'app:1', resources: { limits } }] },
    status: {
      phase: 'Running',
      containerStatuses: [{ name: 'app', image: 'app:1', imageID: '', ready: true, restartCount: 0 }],
    },
  };
}

const policy: WindowPolicy = { stepSeconds: 1, lagSeconds: 3, maxBackfillSeconds: 600, maxStepsPerQuery: 20 };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const nowSeconds = () => Math.floor(Date.now() / 1000);

/**
 * The sample reader against a real Prometheus scraping the fault simulator's exporter every second, sending
 * through the SQS emulator. What Prometheus itself answers for the same span, asked afterwards, is the oracle:
 * the shipper must have delivered exactly those steps, each once, including across a Prometheus restart.
 */
describe('reading Prometheus into sample batches', () => {
  let emulator: SqsEmulator;
  let sqs: SQSClient;
  let exporter: Exporter;
  let prometheus: PrivatePrometheus;
  let ticker: NodeJS.Timeout;
  const model = new UsageModel(1);
  const pods = [
    runningPod('steady-0', 'steady;memory=100Mi;cpu=0.2', { cpu: '500m' }),
    runningPod('leaky-0', 'memory-leak;rate=1Mi;base=50Mi'),
  ];

  before(async () => {
    model.advance(pods, Date.now());
    ticker = setInterval(() => model.advance(pods, Date.now()), 250);
    exporter = await startExporter(() => model.series());
    prometheus = await PrivatePrometheus.start([`127.0.0.1:${exporter.port}`]);
    emulator = await startSqsEmulator({ port: 0 });
    sqs = localSqsClient(emulator.endpoint, { maxAttempts: 1 });
  });
  after(async () => {
    clearInterval(ticker);
    sqs?.destroy();
    await emulator?.close();
    await prometheus?.close();
    await exporter?.close();
  });

  it('delivers every settled step once, keeps its place through a Prometheus restart, and resumes from a checkpoint', async () => {
    const metrics = createShipperMetrics(createRegistry('test'));
    const logger = recordingLogger();
    const outbox = new Outbox({
      sender: new SqsQueueSender(sqs, emulator.queueUrls.samples!),
      metrics,
      logger,
      limits: { maxMessages: 1000, maxBytes: 16 * 1024 * 1024 },
      backoff: { initialMs: 100, maxMs: 500 },
    });
    const deps = {
      clusterId: 'unit',
      prometheus: new PrometheusHttp(prometheus.url, 2000),
      outbox,
      signals: buildSignals(
        ['memory_working_set_bytes', 'cpu_usage_cores', 'cpu_throttled_ratio', 'container_restarts_total'],
        {},
        '5s',
      ),
      policy,
      metrics,
      logger,
      nowSeconds,
    };
    // Start once Prometheus scrapes, from "now" (no history).
    await prometheus.scraping();
    await sleep(2000);
    const firstAfter = initialCursor(nowSeconds(), 0, policy);
    const sending = new AbortController();
    const sendLoop = outbox.run(sending.signal);

    let reading = new AbortController();
    let reader = new SampleReader(deps, firstAfter);
    let readLoop = runSampling(reader, reading.signal, {
      policy,
      backoff: { initialMs: 200, maxMs: 1000 },
      logger,
    });
    await sleep(4000);

    // Prometheus goes away: reads fail and are retried; nothing moves.
    await prometheus.stop();
    const stalledAt = reader.position;
    await sleep(4000);
    assert.ok(
      reader.position - stalledAt <= policy.lagSeconds + 1,
      'the cursor waits while Prometheus is down',
    );
    assert.ok(logger.lines.some((l) => l.message.startsWith('reading from Prometheus failed')));
    await prometheus.resume();
    const backAt = nowSeconds();
    await eventually(() => reader.position >= backAt + 2, 20_000, 'the reader to catch up');

    // The shipper restarts: a new reader resumes after what the outbox delivered (what the checkpoint holds).
    reading.abort();
    await readLoop;
    assert.equal(await outbox.drained(10_000), true);
    const checkpoint = outbox.samplesDeliveredThrough!;
    assert.equal(checkpoint, reader.position);
    await sleep(3000);
    reading = new AbortController();
    reader = new SampleReader(deps, checkpoint);
    readLoop = runSampling(reader, reading.signal, {
      policy,
      backoff: { initialMs: 200, maxMs: 1000 },
      logger,
    });
    const restartedAt = nowSeconds();
    await eventually(() => reader.position >= restartedAt - policy.lagSeconds + 2, 20_000, 'the backfill');
    reading.abort();
    await readLoop;
    assert.equal(await outbox.drained(10_000), true);
    sending.abort();
    await sendLoop;

    const lastRead = reader.position;
    const received: ShipperMessage[] = [];
    await collectMessages(sqs, emulator.queueUrls.samples!, received, () => false, 3000);
    assert.ok(received.length > 0);
    const sent = timestampsBySeries(received);

    // The oracle: the same queries over the whole span, asked now.
    const oracle = new Map<string, number[]>();
    for (const signal of deps.signals) {
      const result = await deps.prometheus.queryRange(signal.query, firstAfter + 1, lastRead, 1);
      for (const { labels, points } of result) {
        const key = `${signal.metric}|${labels.namespace}/${labels.pod}/${labels.container}`;
        oracle.set(
          key,
          points.filter(([, v]) => Number.isFinite(v)).map(([at]) => at),
        );
      }
    }
    assert.deepEqual([...sent.keys()].sort(), [...oracle.keys()].sort());
    for (const [key, expected] of oracle) {
      const timestamps = sent.get(key)!;
      assert.equal(new Set(timestamps).size, timestamps.length, `${key}: no step sent twice`);
      assert.deepEqual(
        [...timestamps].sort((a, b) => a - b),
        expected,
        `${key}: exactly Prometheus' steps`,
      );
    }
    // Steps from before the outage, from after Prometheus came back, and from the shipper's backfill all arrived
    // (while Prometheus was down it scraped nothing, and marks its series stale on shutdown: those steps it lacks).
    const memory = sent.get('memory_working_set_bytes|unit/leaky-0/app')!;
    assert.ok(memory.some((at) => at <= stalledAt));
    assert.ok(memory.some((at) => at > backAt && at <= checkpoint));
    assert.ok(memory.some((at) => at > checkpoint));
  });
});

describe('the Prometheus HTTP adapter', () => {
  it('calls an invalid query the configuration’s fault and an unreachable server retryable', async () => {
    const exporter = await startExporter(() => []);
    const prometheus = await PrivatePrometheus.start([`127.0.0.1:${exporter.port}`]);
    try {
      const http = new PrometheusHttp(prometheus.url, 2000);
      const now = nowSeconds();
      await assert.rejects(http.queryRange('rate(', now - 10, now, 1), PrometheusQueryError);
      await prometheus.stop();
      await assert.rejects(http.queryRange('up', now - 10, now, 1), DependencyUnavailableError);
    } finally {
      await prometheus.close();
      await exporter.close();
    }
  });
});
