// The Lambda SQS event-source stand-in against the real emulator, with tiny inline handlers.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { SqsSchema } from '@aws-lambda-powertools/parser/schemas/sqs';
import {
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { localSqsClient } from '../../standins/sqs/client.js';
import { type SqsEmulator, startSqsEmulator } from '../../standins/sqs/emulator.js';
import {
  type InvocationReport,
  invokeOnce,
  runSqsEventSource,
  type SqsEventSourceOptions,
} from './sqs-event-source.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let emu: SqsEmulator;
let sqs: SQSClient;

beforeEach(async () => {
  emu = await startSqsEmulator({
    port: 0,
    overrides: { '*': { visibilityTimeoutSeconds: 1 }, samples: { maxReceiveCount: 2 } },
  });
  sqs = localSqsClient(emu.endpoint);
});
afterEach(async () => {
  sqs.destroy();
  await emu.close();
});

const source = (key: string, rest: Partial<SqsEventSourceOptions>): SqsEventSourceOptions => ({
  sqs,
  queueUrl: emu.queueUrls[key]!,
  queueArn: emu.queueArns[key]!,
  handler: async () => {},
  batchSize: 10,
  maximumBatchingWindowMs: 0,
  waitTimeSeconds: 2,
  ...rest,
});

async function sendBodies(key: string, bodies: string[]) {
  const out = await sqs.send(
    new SendMessageBatchCommand({
      QueueUrl: emu.queueUrls[key]!,
      Entries: bodies.map((b, i) => ({ Id: String(i), MessageBody: b })),
    }),
  );
  assert.equal(out.Successful?.length, bodies.length);
  return Object.fromEntries(out.Successful!.map((s) => [bodies[Number(s.Id)]!, s.MessageId!]));
}

async function counts(url: string) {
  const out = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return Number(out.Attributes?.ApproximateNumberOfMessages); // includes in-flight on local-aws-sqs
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 6000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(50);
  }
  assert.fail(`timed out waiting for ${what}`);
}

describe('runSqsEventSource / invokeOnce', () => {
  test('builds a real-shaped SQSEvent and Lambda context; a clean return deletes the batch', async () => {
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: emu.queueUrls.anomalies!,
        MessageBody: '{"incident":"i-1"}',
        MessageAttributes: {
          kind: { DataType: 'String', StringValue: 'opened' },
          sig: { DataType: 'Binary', BinaryValue: Buffer.from('sig!') },
        },
      }),
    );
    await sendBodies('anomalies', ['{"incident":"i-2"}', '{"incident":"i-3"}']);
    let seen: { event: SQSEvent; context: Context } | undefined;
    const report = await invokeOnce(
      source('anomalies', {
        functionName: 'planner',
        timeoutMs: 5000,
        handler: async (event, context) => {
          seen = { event, context };
        },
      }),
    );
    assert.ok(report && seen);
    const { event, context } = seen;
    SqsSchema.parse(event); // Powertools' schema of a real Lambda SQS event
    assert.equal(event.Records.length, 3, 'the one poll after the first message fills the batch');
    const first = event.Records.find((r) => r.body === '{"incident":"i-1"}')!;
    assert.equal(first.eventSource, 'aws:sqs');
    assert.equal(first.eventSourceARN, emu.queueArns.anomalies);
    assert.equal(first.awsRegion, 'us-east-1');
    assert.equal(first.attributes.ApproximateReceiveCount, '1');
    assert.match(first.attributes.SentTimestamp, /^\d{13}$/);
    assert.match(first.attributes.ApproximateFirstReceiveTimestamp, /^\d{13}$/);
    assert.ok(first.attributes.SenderId);
    assert.deepEqual(first.messageAttributes.kind, {
      stringValue: 'opened',
      stringListValues: [],
      binaryListValues: [],
      dataType: 'String',
    });
    assert.equal(first.messageAttributes.sig?.binaryValue, Buffer.from('sig!').toString('base64'));
    assert.match(first.md5OfBody, /^[0-9a-f]{32}$/);
    assert.match(first.md5OfMessageAttributes ?? '', /^[0-9a-f]{32}$/);

    assert.equal(context.functionName, 'planner');
    assert.equal(context.invokedFunctionArn, 'arn:aws:lambda:us-east-1:123456789012:function:planner');
    assert.equal(context.awsRequestId, report.requestId);
    const remaining = context.getRemainingTimeInMillis();
    assert.ok(remaining > 4000 && remaining <= 5000, String(remaining));

    assert.equal(report.outcome, 'success');
    assert.equal(report.deleted.length, 3);
    assert.deepEqual(report.failed, []);
    assert.equal(await counts(emu.queueUrls.anomalies!), 0, 'neither visible nor in flight: deleted');
  });

  test('partial batch failure: successes deleted, failures redelivered, then redriven to the DLQ', async () => {
    const ids = await sendBodies('samples', ['ok-1', 'bad-1', 'ok-2', 'bad-2', 'ok-3']);
    const deliveries: Record<string, string[]> = {};
    const reports: InvocationReport[] = [];
    const controller = new AbortController();
    const running = runSqsEventSource(
      source('samples', {
        signal: controller.signal,
        onInvoke: (r) => {
          reports.push(r);
        },
        handler: async (event): Promise<SQSBatchResponse> => {
          for (const r of event.Records) {
            deliveries[r.body] = [...(deliveries[r.body] ?? []), r.attributes.ApproximateReceiveCount];
          }
          return {
            batchItemFailures: event.Records.filter((r) => r.body.startsWith('bad')).map((r) => ({
              itemIdentifier: r.messageId,
            })),
          };
        },
      }),
    );
    // maxReceiveCount is 2 on this queue: two failed deliveries, then the queue's redrive policy moves them.
    await waitFor('both failures in the DLQ', async () => (await counts(emu.dlqUrls.samples!)) === 2);
    controller.abort();
    await running;

    assert.deepEqual(deliveries['ok-1'], ['1']);
    assert.deepEqual(deliveries['ok-2'], ['1']);
    assert.deepEqual(deliveries['ok-3'], ['1']);
    assert.deepEqual(deliveries['bad-1'], ['1', '2'], 'redelivered once, with the receive count going up');
    assert.deepEqual(deliveries['bad-2'], ['1', '2']);
    assert.ok(reports.every((r) => r.outcome === 'partial'));
    assert.deepEqual(reports[0]?.deleted.sort(), [ids['ok-1'], ids['ok-2'], ids['ok-3']].sort());
    assert.deepEqual(reports[0]?.failed.sort(), [ids['bad-1'], ids['bad-2']].sort());
    assert.equal(await counts(emu.queueUrls.samples!), 0);

    const dead = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: emu.dlqUrls.samples!,
        MaxNumberOfMessages: 10,
        AttributeNames: ['All'],
      }),
    );
    assert.deepEqual(dead.Messages?.map((m) => m.Body).sort(), ['bad-1', 'bad-2']);
    assert.deepEqual(dead.Messages?.map((m) => m.MessageId).sort(), [ids['bad-1'], ids['bad-2']].sort());
  });

  test('a handler that throws leaves the whole batch on the queue', async () => {
    await sendBodies('results', ['r1', 'r2']);
    const failing = await invokeOnce(
      source('results', {
        handler: async () => {
          throw new Error('boom');
        },
      }),
    );
    assert.equal(failing?.outcome, 'error');
    assert.equal((failing?.error as Error | undefined)?.message, 'boom');
    assert.equal(failing?.deleted.length, 0);
    assert.equal(failing?.failed.length, 2);

    const retried = await invokeOnce(source('results', { waitTimeSeconds: 3 }));
    assert.equal(retried?.outcome, 'success');
    assert.deepEqual(
      retried?.event.Records.map((r) => [r.body, r.attributes.ApproximateReceiveCount]).sort(),
      [
        ['r1', '2'],
        ['r2', '2'],
      ],
    );
  });

  test('callback-style handlers and Lambda rules for invalid batchItemFailures', async () => {
    await sendBodies('alerts', ['a1']);
    const invalid = await invokeOnce(
      source('alerts', {
        handler: (_event, _context, callback) => {
          setTimeout(
            () => callback(null, { batchItemFailures: [{ itemIdentifier: 'not-in-this-batch' }] }),
            10,
          );
        },
      }),
    );
    assert.equal(invalid?.outcome, 'invalid-response', 'an unknown itemIdentifier fails the whole batch');
    assert.equal(invalid?.deleted.length, 0);

    const ok = await invokeOnce(
      source('alerts', {
        waitTimeSeconds: 3,
        handler: (_event, _context, callback) => callback(null, { batchItemFailures: [] }),
      }),
    );
    assert.equal(ok?.outcome, 'success');
    assert.equal(ok?.deleted.length, 1);
  });

  test('a handler that overruns its timeout fails the batch', async () => {
    await sendBodies('results', ['slow']);
    const report = await invokeOnce(
      source('results', { timeoutMs: 100, handler: () => new Promise<void>((r) => setTimeout(r, 400)) }),
    );
    assert.equal(report?.outcome, 'timeout');
    assert.match(String(report?.error), /Task timed out after 0\.10 seconds/);
    assert.equal(report?.deleted.length, 0);
  });

  test('batching: fills up to batchSize within the window', async () => {
    await sendBodies('alerts', ['b1', 'b2', 'b3']);
    setTimeout(() => void sendBodies('alerts', ['b4', 'b5']), 300);
    const windowed = await invokeOnce(source('alerts', { batchSize: 10, maximumBatchingWindowMs: 1200 }));
    assert.deepEqual(windowed?.event.Records.map((r) => r.body).sort(), ['b1', 'b2', 'b3', 'b4', 'b5']);

    await sendBodies('alerts', ['c1', 'c2', 'c3']);
    const sizes: number[] = [];
    const controller = new AbortController();
    const running = runSqsEventSource(
      source('alerts', {
        batchSize: 2,
        signal: controller.signal,
        onInvoke: (r) => void sizes.push(r.event.Records.length),
      }),
    );
    await waitFor('three records handled', async () => sizes.reduce((a, b) => a + b, 0) === 3);
    controller.abort();
    await running;
    assert.ok(
      sizes.every((n) => n <= 2),
      JSON.stringify(sizes),
    );
  });

  test('FIFO records carry MessageGroupId, MessageDeduplicationId and SequenceNumber', async () => {
    for (const step of [1, 2]) {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: emu.queueUrls.remediations!,
          MessageBody: `step ${step}`,
          MessageGroupId: 'prod/api',
          MessageDeduplicationId: `plan-7-${step}`,
        }),
      );
    }
    const report = await invokeOnce(source('remediations', {}));
    SqsSchema.parse(report?.event);
    assert.deepEqual(
      report?.event.Records.map((r) => r.body),
      ['step 1', 'step 2'],
    );
    const [r1] = report!.event.Records;
    assert.equal(r1?.attributes.MessageGroupId, 'prod/api');
    assert.equal(r1?.attributes.MessageDeduplicationId, 'plan-7-1');
    assert.match(r1?.attributes.SequenceNumber ?? '', /^\d+$/);
    assert.equal(report?.functionName, 'kubepulse-local-remediations-local-consumer');
    assert.equal(report?.deleted.length, 2);
  });

  test('abort stops an idle long poll promptly; invokeOnce on an empty queue gives undefined', async () => {
    const controller = new AbortController();
    const running = runSqsEventSource(source('alerts', { waitTimeSeconds: 20, signal: controller.signal }));
    await sleep(200);
    const t0 = Date.now();
    controller.abort();
    await running;
    assert.ok(Date.now() - t0 < 500, `stopped in ${Date.now() - t0} ms`);

    const t1 = Date.now();
    assert.equal(await invokeOnce(source('alerts', { waitTimeSeconds: 1 })), undefined);
    assert.ok(Date.now() - t1 >= 900);
  });

  test('keeps polling through an SQS outage and resumes when it is back', async () => {
    const port = emu.port;
    const errors: unknown[] = [];
    const handled: string[] = [];
    const controller = new AbortController();
    const running = runSqsEventSource(
      source('results', {
        signal: controller.signal,
        waitTimeSeconds: 1,
        errorBackoffMs: 100,
        onError: (err) => errors.push(err),
        handler: async (event) => {
          for (const r of event.Records) handled.push(r.body);
        },
      }),
    );
    await sleep(100);
    await emu.close(); // outage: connection refused
    await waitFor('a poll error', async () => errors.length > 0);
    emu = await startSqsEmulator({ port, overrides: { '*': { visibilityTimeoutSeconds: 1 } } }); // same URLs
    await sendBodies('results', ['after outage']);
    await waitFor('the message handled after the outage', async () => handled.includes('after outage'));
    controller.abort();
    await running;
  });
});
