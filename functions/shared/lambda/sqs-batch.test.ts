import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { Message, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { z } from 'zod';
import { localSqsClient } from '../../../local/standins/sqs/client.js';
import { type SqsEmulator, startSqsEmulator } from '../../../local/standins/sqs/emulator.js';
import { receiveAll } from '../../../local/standins/sqs/queue-tools.js';
import { encodedBody } from '../contracts/index.js';
import { DependencyUnavailableError, KubepulseError } from '../errors.js';
import type { LoggerPort } from '../logger.js';
import { handleSqsBatch, sqsRecordValidator, type ValidRecord } from './sqs-batch.js';
import { QUARANTINE_ATTRIBUTES } from './sqs-records.js';

const Order = z.object({ kind: z.literal('order'), qty: z.number().int() });
type Order = z.infer<typeof Order>;

class RefusedError extends KubepulseError {
  readonly retryable = false;
  readonly code = 'order-refused';
}

const FROM_A = 'arn:aws:sqs:us-east-1:123456789012:queue-a';
const FROM_B = 'arn:aws:sqs:us-east-1:123456789012:queue-b';

function record(messageId: string, body: string, eventSourceARN = FROM_A): SQSRecord {
  return {
    messageId,
    receiptHandle: messageId,
    body,
    attributes: {
      ApproximateReceiveCount: '2',
      SentTimestamp: '1790000000000',
      SenderId: 'test',
      ApproximateFirstReceiveTimestamp: '1790000000000',
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN,
    awsRegion: 'us-east-1',
  };
}
const order = (qty: number) => JSON.stringify({ kind: 'order', qty });
const attribute = (message: Message, name: string) => message.MessageAttributes?.[name]?.StringValue;

describe('handleSqsBatch', () => {
  let emulator: SqsEmulator;
  let sqs: SQSClient;
  let dlqA: string;
  let dlqB: string;
  const warnings: Array<{ message: string; fields: unknown }> = [];
  const logger: LoggerPort = {
    debug() {},
    info() {},
    warn: (message: string, fields?: unknown) => warnings.push({ message, fields }),
    error() {},
  };
  const validator = sqsRecordValidator(encodedBody(Order), logger);
  const io = () => ({ sqs, logger });

  before(async () => {
    emulator = await startSqsEmulator({ port: 0 });
    sqs = localSqsClient(emulator.endpoint);
    dlqA = emulator.dlqUrls.alerts!;
    dlqB = emulator.dlqUrls.anomalies!;
  });
  after(async () => {
    sqs.destroy();
    await emulator.close();
  });
  beforeEach(async () => {
    warnings.length = 0;
    await receiveAll(sqs, dlqA);
    await receiveAll(sqs, dlqB);
  });

  it('processes the valid records, quarantines the malformed and the refused with their reason, retries the rest', async () => {
    const seen: ValidRecord<Order>[][] = [];
    const records = [
      record('ok', order(1)),
      record('bad-json', '{"kind":'),
      record('retry', order(2)),
      record('bad-schema', JSON.stringify({ kind: 'order', qty: 'many' })),
      record('refused', order(3)),
    ];
    const batch = await handleSqsBatch(
      records,
      {
        validator,
        dlq: () => dlqA,
        process: async (valid) => {
          seen.push(valid);
          return {
            retry: new Map([['retry', new DependencyUnavailableError('redis', 'down')]]),
            rejected: new Map([['refused', new RefusedError('qty 3 is never accepted')]]),
            tag: 'mine',
          };
        },
      },
      io(),
    );

    assert.deepEqual(seen, [
      [
        { recordId: 'ok', message: { kind: 'order', qty: 1 } },
        { recordId: 'retry', message: { kind: 'order', qty: 2 } },
        { recordId: 'refused', message: { kind: 'order', qty: 3 } },
      ],
    ]);
    assert.equal(batch.processed.tag, 'mine');
    assert.deepEqual([...batch.failures.keys()], ['retry']);
    assert.deepEqual(batch.records, { ok: 1, retried: 1, quarantined: 3 });
    assert.ok(batch.seconds >= 0);
    assert.deepEqual(warnings, [
      { message: 'records left for retry', fields: { count: 1, reasons: ['redis-unavailable'] } },
    ]);

    const dead = await receiveAll(sqs, dlqA);
    const bySource = new Map(dead.map((m) => [attribute(m, QUARANTINE_ATTRIBUTES.sourceMessageId), m]));
    assert.deepEqual([...bySource.keys()].sort(), ['bad-json', 'bad-schema', 'refused']);
    assert.equal(bySource.get('bad-json')!.Body, '{"kind":');
    assert.equal(attribute(bySource.get('bad-schema')!, QUARANTINE_ATTRIBUTES.code), 'malformed-message');
    assert.equal(attribute(bySource.get('refused')!, QUARANTINE_ATTRIBUTES.code), 'order-refused');
    assert.equal(
      attribute(bySource.get('refused')!, QUARANTINE_ATTRIBUTES.reason),
      'qty 3 is never accepted',
    );
    assert.equal(attribute(bySource.get('refused')!, QUARANTINE_ATTRIBUTES.sourceQueue), FROM_A);
    assert.equal(attribute(bySource.get('refused')!, QUARANTINE_ATTRIBUTES.receiveCount), '2');
  });

  it('sends each unusable record to the DLQ its source maps to', async () => {
    await handleSqsBatch(
      [record('a', 'nope', FROM_A), record('b', 'nope', FROM_B)],
      {
        validator,
        dlq: (r) => (r.eventSourceARN === FROM_B ? dlqB : dlqA),
        process: async () => ({ retry: new Map() }),
      },
      io(),
    );
    const sources = async (url: string) =>
      (await receiveAll(sqs, url)).map((m) => attribute(m, QUARANTINE_ATTRIBUTES.sourceMessageId));
    assert.deepEqual(await sources(dlqA), ['a']);
    assert.deepEqual(await sources(dlqB), ['b']);
  });

  it('leaves a record it could not quarantine for SQS to redrive, and does not count it quarantined', async () => {
    const missing = `${emulator.endpoint}/123456789012/no-such-queue`;
    const batch = await handleSqsBatch(
      [record('bad', 'nope'), record('ok', order(1))],
      { validator, dlq: () => missing, process: async () => ({ retry: new Map() }) },
      io(),
    );
    assert.deepEqual([...batch.failures.keys()], ['bad']);
    assert.ok(batch.failures.get('bad') instanceof KubepulseError);
    assert.deepEqual(batch.records, { ok: 1, retried: 1, quarantined: 0 });
  });

  it('quarantines a batch of nothing but malformed records instead of failing it whole', async () => {
    const batch = await handleSqsBatch(
      [record('x', 'nope'), record('y', '[]')],
      { validator, dlq: () => dlqA, process: async (valid) => ({ retry: new Map(), count: valid.length }) },
      io(),
    );
    assert.equal(batch.processed.count, 0);
    assert.equal(batch.failures.size, 0);
    assert.deepEqual(batch.records, { ok: 0, retried: 0, quarantined: 2 });
    assert.equal((await receiveAll(sqs, dlqA)).length, 2);
  });
});
