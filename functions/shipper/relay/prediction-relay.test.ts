import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { Registry } from 'prom-client';
import { localSqsClient } from '../../../local/standins/sqs/client.js';
import { type SqsEmulator, startSqsEmulator } from '../../../local/standins/sqs/emulator.js';
import { quietLogger } from '../../../test/support/loggers.js';
import {
  encodeMessageBody,
  type PredictionDigest,
  type SeriesPrediction,
} from '../../shared/contracts/index.js';
import { PredictionGauges } from './prediction-gauges.js';
import { runPredictionRelay } from './prediction-relay.js';

const prediction = (over: Partial<SeriesPrediction> = {}): SeriesPrediction => ({
  namespace: 'shop',
  pod: 'cart-6f7d9-k2x4q',
  container: 'app',
  signal: 'memory',
  asOf: 1_790_000_000,
  basis: 'limit',
  ratio: 0.91,
  predictedPeakRatio: 1.18,
  horizonSeconds: 1800,
  predictedSecondsToLimit: 420,
  anomalyScore: 0.8,
  incidentOpen: true,
  ...over,
});
const digest = (clusterId: string, predictions: SeriesPrediction[]): PredictionDigest => ({
  schemaVersion: 1,
  kind: 'prediction-digest',
  clusterId,
  digestId: `d-${Math.random()}`,
  modelVersion: 'test',
  predictions,
});
const quiet = quietLogger;
const line = async (registry: Registry, metric: string) =>
  (await registry.metrics()).split('\n').filter((l) => l.startsWith(`${metric}{`));

describe('PredictionGauges', () => {
  it('exports the peak forecast ratio, time to limit and incident flag, and drops a series once stale', async () => {
    const registry = new Registry();
    const gauges = new PredictionGauges(registry, 'dev', 600);
    assert.equal(gauges.apply(digest('dev', [prediction()]), 1000), true);
    assert.deepEqual(await line(registry, 'kubepulse_predicted_memory_ratio'), [
      'kubepulse_predicted_memory_ratio{namespace="shop",pod="cart-6f7d9-k2x4q",container="app",basis="limit"} 1.18',
    ]);
    assert.match((await line(registry, 'kubepulse_anomaly'))[0]!, /signal="memory"} 1$/);
    assert.match((await line(registry, 'kubepulse_predicted_seconds_to_limit'))[0]!, /} 420$/);

    // No crossing forecast any more: the time-to-limit series disappears instead of keeping a stale value.
    gauges.apply(digest('dev', [prediction({ predictedSecondsToLimit: null, incidentOpen: false })]), 1100);
    assert.deepEqual(await line(registry, 'kubepulse_predicted_seconds_to_limit'), []);
    assert.match((await line(registry, 'kubepulse_anomaly'))[0]!, /} 0$/);

    // Surprise is exported when the digest has it, and dropped when a digest from an older inference lacks it.
    gauges.apply(digest('dev', [prediction({ surprise: 0.93 })]), 1100);
    assert.match((await line(registry, 'kubepulse_surprise'))[0]!, /signal="memory"} 0.93$/);
    gauges.apply(digest('dev', [prediction()]), 1100);
    assert.deepEqual(await line(registry, 'kubepulse_surprise'), []);

    assert.equal(gauges.expire(1100 + 601), 1);
    assert.deepEqual(await line(registry, 'kubepulse_predicted_memory_ratio'), []);
    assert.deepEqual(await line(registry, 'kubepulse_usage_ratio'), []);
  });

  it('refuses digests about another cluster', async () => {
    const registry = new Registry();
    const gauges = new PredictionGauges(registry, 'dev');
    assert.equal(gauges.apply(digest('prod-eu', [prediction()]), 1000), false);
    assert.deepEqual(await line(registry, 'kubepulse_predicted_memory_ratio'), []);
  });

  it('keeps one series per container when the normalisation basis changes', async () => {
    const registry = new Registry();
    const gauges = new PredictionGauges(registry, 'dev');
    gauges.apply(digest('dev', [prediction({ basis: 'observed-max' })]), 1000);
    gauges.apply(digest('dev', [prediction({ basis: 'limit', predictedPeakRatio: 0.5 })]), 1030);
    assert.deepEqual(await line(registry, 'kubepulse_predicted_memory_ratio'), [
      'kubepulse_predicted_memory_ratio{namespace="shop",pod="cart-6f7d9-k2x4q",container="app",basis="limit"} 0.5',
    ]);
  });
});

describe('runPredictionRelay on the SQS emulator', () => {
  let emulator: SqsEmulator;
  let sqs: SQSClient;
  before(async () => {
    emulator = await startSqsEmulator({
      port: 0,
      // visibility above the emulator's long-poll length: local-aws-sqs can hand out a message twice in one poll
      overrides: { predictions: { visibilityTimeoutSeconds: 3, maxReceiveCount: 2 } },
    });
    sqs = localSqsClient(emulator.endpoint);
  });
  after(async () => {
    sqs.destroy();
    await emulator.close();
  });

  it('applies valid digests and leaves a malformed one to be dead-lettered', async () => {
    const registry = new Registry();
    const gauges = new PredictionGauges(registry, 'dev');
    const controller = new AbortController();
    const errors: string[] = [];
    const logger = { ...quiet, error: (message: string) => errors.push(message) };
    const applied: string[] = [];
    const relay = runPredictionRelay({
      sqs,
      queueUrl: emulator.queueUrls.predictions!,
      gauges,
      logger,
      signal: controller.signal,
      waitTimeSeconds: 1,
      onDigest: (d) => applied.push(d.digestId),
    });
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: emulator.queueUrls.predictions,
        MessageBody: encodeMessageBody(
          digest('dev', [prediction({ pod: 'api-1', predictedPeakRatio: 0.7 })]),
        ),
      }),
    );
    await sqs.send(
      new SendMessageCommand({ QueueUrl: emulator.queueUrls.predictions, MessageBody: '{"kind":"x"}' }),
    );
    let dlqDepth = '0';
    for (let i = 0; i < 80 && (applied.length < 1 || dlqDepth === '0'); i++) {
      await sleep(200);
      const { Attributes } = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: emulator.dlqUrls.predictions,
          AttributeNames: ['ApproximateNumberOfMessages'],
        }),
      );
      dlqDepth = Attributes?.ApproximateNumberOfMessages ?? '0';
    }
    controller.abort();
    await relay;
    assert.equal(applied.length, 1);
    assert.match((await line(registry, 'kubepulse_predicted_memory_ratio'))[0]!, /pod="api-1".*} 0.7$/);
    const { Messages: deadLettered = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: emulator.dlqUrls.predictions,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
      }),
    );
    assert.ok(deadLettered.length > 0);
    assert.deepEqual(new Set(deadLettered.map((m) => m.Body)), new Set(['{"kind":"x"}']));
    assert.ok(errors.some((e) => e.includes('malformed prediction digest')));
  });
});
