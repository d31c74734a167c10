import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { localSqsClient } from '../../../local/standins/sqs/client.js';
import { type SqsEmulator, startSqsEmulator } from '../../../local/standins/sqs/emulator.js';
import { collectMessages, recordingLogger } from '../../../test/support/shipper-fixtures.js';
import type { SampleBatch, ShipperMessage } from '../../shared/contracts/index.js';
import { createRegistry } from '../../shared/metrics.js';
import { SqsQueueSender } from '../adapters/sqs-sender.js';
import { createShipperMetrics } from '../metrics.js';
import { Outbox } from './outbox.js';

function sampleBatch(id: string, series: number, samplesPerSeries: number, start: number): SampleBatch {
  return {
    schemaVersion: 1,
    kind: 'sample-batch',
    clusterId: 'test',
    batchId: id,
    sentAt: new Date().toISOString(),
    stepSeconds: 1,
    series: Array.from({ length: series }, (_, s) => ({
      metric: 'memory_working_set_bytes' as const,
      namespace: 'ns',
      pod: `pod-${s}`,
      container: 'app',
      samples: Array.from(
        { length: samplesPerSeries },
        (_, i) => [start + i, Math.round(Math.random() * 1e9)] as [number, number],
      ),
    })),
  };
}

describe('the outbox, sending to the SQS emulator', () => {
  let emulator: SqsEmulator;
  let sqs: SQSClient;

  before(async () => {
    emulator = await startSqsEmulator({ port: 0 });
    sqs = localSqsClient(emulator.endpoint, { maxAttempts: 1 });
  });
  after(async () => {
    sqs.destroy();
    await emulator.close();
  });

  it('splits a batch above the SQS limit, sends every part, and counts the window delivered', async () => {
    const metrics = createShipperMetrics(createRegistry('test'));
    const outbox = new Outbox({
      sender: new SqsQueueSender(sqs, emulator.queueUrls.samples!),
      metrics,
      logger: recordingLogger(),
      limits: { maxMessages: 100, maxBytes: 64 * 1024 * 1024 },
      backoff: { initialMs: 50, maxMs: 200 },
    });
    const stop = new AbortController();
    const running = outbox.run(stop.signal);
    const batch = sampleBatch('samples-1-3000', 40, 3000, 1_000_000_001);
    outbox.enqueue(batch, { after: 1_000_000_000, through: 1_000_003_000 });
    assert.ok(outbox.size.messages > 1, 'the batch was split');
    assert.equal(await outbox.drained(20_000), true);
    assert.equal(outbox.samplesDeliveredThrough, 1_000_003_000);
    const sent = await total(metrics.messagesSent);
    const received = await collectMessages(
      sqs,
      emulator.queueUrls.samples!,
      [],
      (m) => m.length >= sent,
      10_000,
    );
    const samples = received
      .flatMap((m) => (m.kind === 'sample-batch' ? m.series : []))
      .flatMap((s) => s.samples);
    assert.equal(samples.length, 40 * 3000);
    assert.ok(received.every((m) => m.kind === 'sample-batch' && m.batchId.startsWith('samples-1-3000.')));
    stop.abort();
    await running;
  });

  it('while SQS is unreachable keeps the newest messages within its bound, drops the oldest out loud, and sends the rest in order once SQS is back', async () => {
    const metrics = createShipperMetrics(createRegistry('test'));
    const logger = recordingLogger();
    const port = emulator.port;
    await emulator.close();
    const outbox = new Outbox({
      sender: new SqsQueueSender(sqs, emulator.queueUrls.samples!),
      metrics,
      logger,
      limits: { maxMessages: 3, maxBytes: 64 * 1024 * 1024 },
      backoff: { initialMs: 50, maxMs: 300 },
    });
    const stop = new AbortController();
    const running = outbox.run(stop.signal);
    for (let w = 1; w <= 5; w++) {
      outbox.enqueue(sampleBatch(`samples-w${w}`, 1, 10, 1_000_000_000 + w * 10 - 9), {
        after: 1_000_000_000 + (w - 1) * 10,
        through: 1_000_000_000 + w * 10,
      });
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.ok((await total(metrics.sendFailures)) >= 1);
    assert.equal(outbox.size.messages, 3);
    assert.equal(await total(metrics.dropped), 2);
    assert.equal(logger.lines.filter((l) => l.message.startsWith('outbox full')).length, 2);
    // The dropped windows are counted as gone: the checkpoint does not wait for them.
    assert.equal(outbox.samplesDeliveredThrough, 1_000_000_020);

    emulator = await startSqsEmulator({ port });
    assert.equal(await outbox.drained(20_000), true);
    const received: ShipperMessage[] = [];
    await collectMessages(sqs, emulator.queueUrls.samples!, received, (m) => m.length >= 3, 10_000);
    assert.deepEqual(received.map((m) => (m.kind === 'sample-batch' ? m.batchId : m.kind)).sort(), [
      'samples-w3',
      'samples-w4',
      'samples-w5',
    ]);
    assert.equal(outbox.samplesDeliveredThrough, 1_000_000_050);
    stop.abort();
    await running;
  });
});

/** The sum of a prom-client metric over its label sets. */
async function total(metric: { get(): Promise<{ values: Array<{ value: number }> }> }): Promise<number> {
  return (await metric.get()).values.reduce((sum, { value }) => sum + value, 0);
}
