import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { GetQueueAttributesCommand, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSHandler } from 'aws-lambda';
import { Redis } from 'ioredis';
import { unpackSamples } from '../../functions/inference/adapters/redis-series-store.js';
import { decodeSeriesState } from '../../functions/inference/core/series-state.js';
import {
  type Anomaly,
  decodeMessageBody,
  encodeMessageBody,
  type PredictionDigest,
  type UsageAnomaly,
} from '../../functions/shared/contracts/index.js';
import { QUARANTINE_ATTRIBUTES } from '../../functions/shared/lambda/sqs-records.js';
import { invokeOnce } from '../../local/harness/lambda-runner/sqs-event-source.js';
import { localInferenceEnv } from '../../local/harness/support/inference-env.js';
import {
  GiB,
  inventoryFor,
  noise,
  type SyntheticPod,
  sampleBatches,
} from '../../local/harness/support/pod-series.js';
import { PrivateRedisServer } from '../../local/harness/support/redis-server.js';
import { localSqsClient } from '../../local/standins/sqs/client.js';
import { type SqsEmulator, startSqsEmulator } from '../../local/standins/sqs/emulator.js';
import { drainQueue, receiveAll as receiveAllFrom } from '../../local/standins/sqs/queue-tools.js';

const STEP = 30;
const START = 1_790_000_000;

describe('inference function, driven as Lambda drives it, on real Redis and the SQS emulator', () => {
  let redisServer: PrivateRedisServer;
  let redis: Redis;
  let emulator: SqsEmulator;
  let sqs: SQSClient;
  let handler: SQSHandler;
  let shutdown: () => Promise<void>;

  before(async () => {
    redisServer = await PrivateRedisServer.start();
    redis = new Redis(redisServer.url, { lazyConnect: true, retryStrategy: () => 100 });
    redis.on('error', () => {});
    await redis.connect();
    emulator = await startSqsEmulator({
      port: 0,
      // the cluster the records below come from: its samples queue is theirs
      clusters: ['dev'],
      overrides: { samples: { visibilityTimeoutSeconds: 1, maxReceiveCount: 4 } },
    });
    sqs = localSqsClient(emulator.endpoint);
    Object.assign(process.env, localInferenceEnv(redisServer.url, emulator));
    ({ handler, shutdown } = await import('../../functions/inference/handler.js'));
  });

  after(async () => {
    await shutdown();
    redis.disconnect();
    await emulator.close();
    await redisServer.close();
  });

  const send = async (bodies: string[]) => {
    for (let i = 0; i < bodies.length; i += 10) {
      await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: emulator.queueUrls.samples,
          Entries: bodies.slice(i, i + 10).map((body, k) => ({ Id: `e${k}`, MessageBody: body })),
        }),
      );
    }
  };

  const invoke = () =>
    invokeOnce({
      sqs,
      queueUrl: emulator.queueUrls.samples!,
      queueArn: emulator.queueArns.samples!,
      handler,
      batchSize: 10,
      waitTimeSeconds: 0,
    });

  const drain = () => drainQueue(sqs, emulator.queueUrls.samples!, invoke);
  const receiveAll = (queueUrl: string) => receiveAllFrom(sqs, queueUrl);
  const anomaliesPublished = async () =>
    (await receiveAll(emulator.queueUrls.anomalies!)).map((m) => decodeMessageBody(m.Body!) as Anomaly);

  // A leak that reaches its 1 GiB limit at step 220, and a steady neighbour.
  const leakCrossesAt = 220;
  const pods = (suffix: string): SyntheticPod[] => {
    const jitterLeak = noise(1);
    const jitterSteady = noise(2);
    return [
      {
        namespace: 'shop',
        pod: `cart-6f7d9-${suffix}`,
        container: 'app',
        limitBytes: GiB,
        memoryAt: (s) => GiB * (0.35 + (0.65 * s) / leakCrossesAt + 0.004 * jitterLeak(s)),
      },
      {
        namespace: 'shop',
        pod: `search-5c8b7-${suffix}`,
        container: 'app',
        limitBytes: GiB,
        memoryAt: (s) => GiB * (0.45 + 0.02 * Math.sin(s / 20) + 0.006 * jitterSteady(s)),
      },
    ];
  };

  it('predicts an injected leak before it reaches the limit, once, and stays quiet on a steady pod', async () => {
    const scenario = pods('a1');
    const batches = sampleBatches('dev', scenario, {
      from: 0,
      to: 210,
      stepsPerBatch: 5,
      startAt: START,
      stepSeconds: STEP,
    });
    await send([encodeMessageBody(inventoryFor('dev', scenario)), ...batches.map(encodeMessageBody)]);
    await drain();

    const anomalies = await anomaliesPublished();
    const leak = anomalies.filter((a) => a.target.pod === scenario[0]!.pod) as UsageAnomaly[];
    const steady = anomalies.filter((a) => a.target.pod === scenario[1]!.pod);
    assert.equal(steady.length, 0, `steady pod raised ${JSON.stringify(steady.map((a) => a.anomalyId))}`);
    // One incident, or one the classifier opened and the forecast's breach then superseded (resolved, and a new
    // one opened for the breach), so that what the planner sees last is the breach.
    const ids = leak.map((a) => a.anomalyId).join(', ');
    const openings = leak.filter((a) => a.status === 'opened');
    assert.ok(leak.length === 1 || leak.length === 3, `expected one or a superseded incident, got ${ids}`);
    if (leak.length === 3) {
      assert.deepEqual(
        leak.map((a) => `${a.incidentId}:${a.status}`),
        [
          `${openings[0]!.incidentId}:opened`,
          `${openings[0]!.incidentId}:resolved`,
          `${openings[1]!.incidentId}:opened`,
        ],
      );
      assert.deepEqual(openings[0]!.reasons, ['classifier']);
      assert.ok(openings[1]!.reasons.includes('forecast-limit-breach'));
    }
    const opened = openings[0]!;
    assert.equal(opened.status, 'opened');
    assert.equal(opened.normalisation.basis, 'limit');
    assert.equal(opened.target.owner?.name, 'cart');
    const crossesAt = START + leakCrossesAt * STEP;
    assert.ok(opened.asOf < crossesAt, 'detected before the limit was reached');
    assert.ok(opened.reasons.length > 0);
    if (opened.predictedLimitAt) {
      const predicted = Date.parse(opened.predictedLimitAt) / 1000;
      const leadSeconds = crossesAt - opened.asOf;
      assert.ok(Math.abs(predicted - crossesAt) < leadSeconds, `predicted ${predicted}, actual ${crossesAt}`);
    }
    assert.equal(await dlqDepth(), 0);

    // The relay's view: the newest prediction per series, near the limit and forecast to cross it.
    const digests = (await receiveAll(emulator.queueUrls.predictions!)).map(
      (m) => decodeMessageBody(m.Body!) as PredictionDigest,
    );
    const leakPredictions = digests
      .flatMap((d) => d.predictions)
      .filter((p) => p.pod === scenario[0]!.pod)
      .sort((a, b) => a.asOf - b.asOf);
    const newest = leakPredictions.at(-1)!;
    assert.equal(newest.asOf, START + 209 * STEP);
    assert.equal(newest.basis, 'limit');
    assert.ok(Math.abs(newest.ratio - (0.35 + (0.65 * 209) / leakCrossesAt)) < 0.02, `ratio ${newest.ratio}`);
    assert.ok(newest.predictedPeakRatio > 1, `peak ${newest.predictedPeakRatio}`);
    assert.equal(newest.incidentOpen, true);
    const steadyPeak = digests.flatMap((d) => d.predictions).filter((p) => p.pod === scenario[1]!.pod);
    assert.ok(
      steadyPeak.length > 0 && steadyPeak.every((p) => p.predictedPeakRatio < 0.6 && !p.incidentOpen),
    );
  });

  it('quarantines malformed messages with their reason and processes the rest', async () => {
    const scenario = pods('b2');
    const valid = sampleBatches('dev', scenario, {
      from: 0,
      to: 5,
      stepsPerBatch: 5,
      startAt: START,
      stepSeconds: STEP,
    });
    const wrongSchema = JSON.stringify({ schemaVersion: 1, kind: 'sample-batch', clusterId: 'dev' });
    await send(['{"truncated": ', wrongSchema, encodeMessageBody(valid[0])]);
    await drain();

    const dead = await receiveAll(emulator.dlqUrls.samples!);
    assert.equal(dead.length, 2);
    const bodies = dead.map((m) => m.Body).sort();
    assert.deepEqual(bodies, [wrongSchema, '{"truncated": '].sort());
    const reasonOf = (body: string) =>
      dead.find((m) => m.Body === body)?.MessageAttributes?.[QUARANTINE_ATTRIBUTES.reason]?.StringValue ?? '';
    for (const message of dead) {
      assert.equal(message.MessageAttributes?.[QUARANTINE_ATTRIBUTES.code]?.StringValue, 'malformed-message');
    }
    assert.match(reasonOf('{"truncated": '), /not JSON/);
    assert.match(reasonOf(wrongSchema), /series|batchId|stepSeconds/);
    const window = await redis.getBuffer(`kp:{dev|shop|${scenario[0]!.pod}|app|memory_working_set_bytes}:w`);
    assert.equal(unpackSamples(window!).timestamps.length, 5, 'the valid message was processed');
  });

  it("labels forecasts in the series' own time when it is sampled at another step than the training data", async () => {
    const scenario = pods('s10');
    const batches = sampleBatches('dev', scenario, {
      from: 0,
      to: 210,
      stepsPerBatch: 30,
      startAt: START,
      stepSeconds: 10,
    });
    await send([encodeMessageBody(inventoryFor('dev', scenario)), ...batches.map(encodeMessageBody)]);
    await drain();
    const [opened] = (await anomaliesPublished()).filter(
      (a) => a.target.pod === scenario[0]!.pod,
    ) as UsageAnomaly[];
    assert.ok(opened, 'the leak is detected at a 10 s step too');
    const { horizons } = JSON.parse(readFileSync('models/dist/metadata.json', 'utf8')) as {
      horizons: number[];
    };
    assert.deepEqual(
      opened.forecast.horizonsSeconds,
      horizons.map((h) => h * 10),
    );
    assert.equal(opened.window.lastAt - opened.window.firstAt, (opened.window.samples - 1) * 10);
    await receiveAll(emulator.queueUrls.predictions!);
  });

  it('quarantines a batch made only of malformed messages instead of failing it whole', async () => {
    await send(['not json at all', '{"schemaVersion":1,"kind":"inventory-snapshot"}']);
    const report = await invoke();
    assert.equal(report?.outcome, 'success', JSON.stringify(report?.response));
    assert.equal(report?.deleted.length, 2);
    const dead = await receiveAll(emulator.dlqUrls.samples!);
    assert.equal(dead.length, 2);
    for (const message of dead)
      assert.equal(message.MessageAttributes?.[QUARANTINE_ATTRIBUTES.code]?.StringValue, 'malformed-message');
  });

  it('survives Redis going away mid-run: records are retried, no sample lost, no incident duplicated', async () => {
    const scenario = pods('c3');
    const inventory = inventoryFor('dev', scenario);
    const batches = sampleBatches('dev', scenario, {
      from: 0,
      to: 210,
      stepsPerBatch: 5,
      startAt: START,
      stepSeconds: STEP,
    });
    await send([encodeMessageBody(inventory), ...batches.slice(0, 20).map(encodeMessageBody)]);
    await invoke();
    await redisServer.stop();
    await send(batches.slice(20, 35).map(encodeMessageBody));
    const duringOutage = await invoke();
    assert.ok(
      duringOutage && duringOutage.failed.length > 0 && duringOutage.deleted.length === 0,
      'records kept for retry',
    );
    await redisServer.resume();
    await drain();
    await send(batches.slice(35).map(encodeMessageBody));
    await drain();

    const key = `kp:{dev|shop|${scenario[0]!.pod}|app|memory_working_set_bytes}`;
    const { timestamps } = unpackSamples((await redis.getBuffer(`${key}:w`))!);
    for (let i = 1; i < timestamps.length; i++)
      assert.equal(timestamps[i]! - timestamps[i - 1]!, STEP, 'no gap in the window');
    assert.equal(timestamps.at(-1), START + 209 * STEP);
    const state = decodeSeriesState((await redis.hgetall(`${key}:s`)) as Record<string, string>);
    assert.equal(state.lastScoredAt, START + 209 * STEP);
    assert.equal(state.outbox.length, 0, 'outbox emptied after publishing');

    const anomalies = await anomaliesPublished();
    const transitions = anomalies.map((a) => `${a.incidentId}:${a.status}`);
    assert.equal(new Set(transitions).size, transitions.length, `duplicates in ${transitions.join(', ')}`);
    assert.equal(
      anomalies.filter((a) => a.target.pod === scenario[0]!.pod && a.status === 'opened').length,
      1,
    );
    assert.equal(await dlqDepth(), 0);
  });

  const dlqDepth = async () => {
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: emulator.dlqUrls.samples,
        AttributeNames: ['ApproximateNumberOfMessages'],
      }),
    );
    return Number(Attributes?.ApproximateNumberOfMessages ?? 0);
  };
});
