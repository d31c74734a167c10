// What kubepulse relies on from the local SQS emulator, checked with the real SDK client against the real server.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ListQueueTagsCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { localSqsClient } from './client.js';
import { infraQueues as infra, type SqsEmulator, startSqsEmulator } from './emulator.js';

// Read independently of the emulator, to check that it applied what the stack declares.
const cloudformation = createRequire(import.meta.url)('../../../infra/cloudformation.cjs') as {
  queueResources(prefix: string): {
    Resources: Record<
      string,
      { Properties: Record<string, unknown> & { Tags?: { Key: string; Value: string }[] } }
    >;
  };
  deadLetterLogicalId(def: { logicalId: string }): string;
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function depth(sqs: SQSClient, queueUrl: string): Promise<{ visible: number; inFlight: number }> {
  const out = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  const all = Number(out.Attributes?.ApproximateNumberOfMessages);
  const inFlight = Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible);
  // local-aws-sqs counts in-flight messages in ApproximateNumberOfMessages too (SQS does not).
  return { visible: all - inFlight, inFlight };
}

async function receiveAll(
  sqs: SQSClient,
  queueUrl: string,
  extra: { VisibilityTimeout?: number; MaxNumberOfMessages?: number } = {},
) {
  const out = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 0,
      AttributeNames: ['All'],
      MessageAttributeNames: ['All'],
      ...extra,
    }),
  );
  return out.Messages ?? [];
}

describe('SQS emulator: queues from infra/queues.cjs', () => {
  let emu: SqsEmulator;
  let sqs: SQSClient;
  before(async () => {
    emu = await startSqsEmulator({ port: 0 });
    sqs = localSqsClient(emu.endpoint);
  });
  after(async () => {
    sqs.destroy();
    await emu.close();
  });

  test('every queue and DLQ exists with the infra attributes and redrive policy', async () => {
    // `key@cluster` for each cluster's copy, and plain `key` for the default (first) cluster's too
    const refs = infra.clusterQueues().map(infra.queueRef);
    const aliases = infra.queues.filter((q) => q.perCluster).map((q) => q.key);
    assert.deepEqual(Object.keys(emu.queueUrls).sort(), [...refs, ...aliases].sort());
    assert.match(emu.endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
    for (const def of infra.clusterQueues()) {
      const ref = infra.queueRef(def);
      const url = emu.queueUrls[ref]!;
      assert.ok(url.startsWith(`${emu.endpoint}/`), url);
      const { Attributes: a = {} } = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }),
      );
      assert.equal(a.VisibilityTimeout, String(def.visibilityTimeoutSeconds), def.key);
      assert.equal(a.MessageRetentionPeriod, String(def.retentionSeconds), def.key);
      assert.equal(a.QueueArn, emu.queueArns[ref]);
      assert.deepEqual(JSON.parse(a.RedrivePolicy!), {
        deadLetterTargetArn: emu.dlqArns[ref],
        maxReceiveCount: def.maxReceiveCount,
      });
      assert.equal(a.FifoQueue, def.fifo ? 'true' : undefined, def.key);
      assert.equal(url.endsWith('.fifo'), def.fifo);

      const dlq = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: emu.dlqUrls[ref]!, AttributeNames: ['All'] }),
      );
      assert.equal(dlq.Attributes?.QueueArn, emu.dlqArns[ref]);
      assert.equal(dlq.Attributes?.MessageRetentionPeriod, String(infra.DLQ_RETENTION_SECONDS));
      assert.equal(dlq.Attributes?.FifoQueue, def.fifo ? 'true' : undefined);
    }
  });

  test('queues carry the rest of the deployed properties (infra/cloudformation.cjs)', async () => {
    const { Resources } = cloudformation.queueResources(emu.prefix);
    for (const def of infra.clusterQueues()) {
      const ref = infra.queueRef(def);
      const main = Resources[def.logicalId]!.Properties;
      const dlq = Resources[cloudformation.deadLetterLogicalId(def)]!.Properties;
      const { Attributes: a = {} } = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: emu.queueUrls[ref]!, AttributeNames: ['All'] }),
      );
      for (const name of [
        'ReceiveMessageWaitTimeSeconds',
        'SqsManagedSseEnabled',
        'ContentBasedDeduplication',
        'DeduplicationScope',
        'FifoThroughputLimit',
      ] as const) {
        if (name in main) assert.equal(a[name], String(main[name]), `${def.key} ${name}`);
      }
      const { Attributes: d = {} } = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: emu.dlqUrls[ref]!, AttributeNames: ['All'] }),
      );
      assert.deepEqual(JSON.parse(d.RedriveAllowPolicy ?? 'null'), {
        redrivePermission: 'byQueue',
        sourceQueueArns: [emu.queueArns[ref]],
      });
      const tags = await sqs.send(new ListQueueTagsCommand({ QueueUrl: emu.queueUrls[ref]! }));
      assert.deepEqual(tags.Tags, Object.fromEntries((main.Tags ?? []).map((t) => [t.Key, t.Value])));
      assert.ok(dlq.Tags?.length);
    }
  });

  test('a taken port is an error, not a hang', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    try {
      await assert.rejects(startSqsEmulator({ port }), /EADDRINUSE/);
    } finally {
      blocker.close();
    }
  });

  test('unknown override keys are rejected', async () => {
    await assert.rejects(
      startSqsEmulator({ overrides: { sample: { visibilityTimeoutSeconds: 1 } } }),
      /unknown queue key/,
    );
  });
});

describe('SQS emulator: messaging', () => {
  let emu: SqsEmulator;
  let sqs: SQSClient;
  before(async () => {
    // Short visibility timeouts keep redelivery and redrive tests fast.
    emu = await startSqsEmulator({
      port: 0,
      overrides: { '*': { visibilityTimeoutSeconds: 1 }, alerts: { maxReceiveCount: 2 } },
    });
    sqs = localSqsClient(emu.endpoint);
  });
  after(async () => {
    sqs.destroy();
    await emu.close();
  });

  test('send and receive, with message and system attributes', async () => {
    const q = emu.queueUrls.samples!;
    const sent = await sqs.send(
      new SendMessageCommand({
        QueueUrl: q,
        MessageBody: JSON.stringify({ kind: 'samples', n: 1 }),
        MessageAttributes: {
          cluster: { DataType: 'String', StringValue: 'kind-dev' },
          blob: { DataType: 'Binary', BinaryValue: Buffer.from([1, 2, 3]) },
        },
      }),
    );
    const [m, ...rest] = await receiveAll(sqs, q);
    assert.equal(rest.length, 0);
    assert.equal(m?.MessageId, sent.MessageId);
    assert.deepEqual(JSON.parse(m!.Body!), { kind: 'samples', n: 1 });
    assert.equal(m?.MD5OfBody, sent.MD5OfMessageBody);
    assert.equal(m?.MessageAttributes?.cluster?.StringValue, 'kind-dev');
    assert.deepEqual([...(m?.MessageAttributes?.blob?.BinaryValue ?? [])], [1, 2, 3]);
    assert.equal(m?.Attributes?.ApproximateReceiveCount, '1');
    assert.match(m?.Attributes?.SentTimestamp ?? '', /^\d{13}$/);
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: q,
        Entries: [{ Id: '0', ReceiptHandle: m!.ReceiptHandle! }],
      }),
    );
  });

  test('a long poll for one message returns as soon as one is sent', async () => {
    const q = emu.queueUrls.anomalies!;
    const started = Date.now();
    const polling = sqs.send(
      new ReceiveMessageCommand({ QueueUrl: q, MaxNumberOfMessages: 1, WaitTimeSeconds: 10 }),
    );
    await sleep(200);
    await sqs.send(new SendMessageCommand({ QueueUrl: q, MessageBody: 'wake up' }));
    const out = await polling;
    assert.equal(out.Messages?.[0]?.Body, 'wake up');
    assert.ok(Date.now() - started < 2000, `long poll took ${Date.now() - started} ms`);
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: q,
        Entries: [{ Id: '0', ReceiptHandle: out.Messages![0]!.ReceiptHandle! }],
      }),
    );
  });

  test('batch send and batch delete', async () => {
    const q = emu.queueUrls.results!;
    const sent = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: q,
        Entries: Array.from({ length: 10 }, (_, i) => ({ Id: `m${i}`, MessageBody: `result ${i}` })),
      }),
    );
    assert.equal(sent.Successful?.length, 10);
    assert.equal(sent.Failed?.length ?? 0, 0);

    const got: Message[] = [];
    for (let i = 0; i < 5 && got.length < 10; i++) got.push(...(await receiveAll(sqs, q)));
    assert.deepEqual(got.map((m) => m.Body).sort(), sent.Successful!.map((_, i) => `result ${i}`).sort());

    const del = await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: q,
        Entries: got.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
      }),
    );
    assert.equal(del.Successful?.length, 10);
    assert.equal(del.Failed?.length ?? 0, 0);
    await sleep(1100); // past the visibility timeout: nothing comes back
    assert.deepEqual(await depth(sqs, q), { visible: 0, inFlight: 0 });
    assert.equal((await receiveAll(sqs, q)).length, 0);
  });

  test('an undeleted message is invisible, then redelivered after the visibility timeout', async () => {
    const q = emu.queueUrls.samples!;
    await sqs.send(new SendMessageCommand({ QueueUrl: q, MessageBody: 'redeliver me' }));
    const [first] = await receiveAll(sqs, q);
    assert.equal(first?.Attributes?.ApproximateReceiveCount, '1');
    assert.equal((await receiveAll(sqs, q)).length, 0, 'in flight: not visible');
    assert.deepEqual(await depth(sqs, q), { visible: 0, inFlight: 1 });
    await sleep(1100);
    const [again] = await receiveAll(sqs, q);
    assert.equal(again?.MessageId, first?.MessageId);
    assert.equal(again?.Attributes?.ApproximateReceiveCount, '2');
    assert.notEqual(again?.ReceiptHandle, first?.ReceiptHandle);
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: q,
        Entries: [{ Id: '0', ReceiptHandle: again!.ReceiptHandle! }],
      }),
    );
  });

  test('received maxReceiveCount times without delete → moved to the DLQ (visibility-timeout driven)', async () => {
    const q = emu.queueUrls.alerts!; // maxReceiveCount overridden to 2
    const sent = await sqs.send(new SendMessageCommand({ QueueUrl: q, MessageBody: 'poison' }));
    for (let n = 1; n <= 2; n++) {
      const [m] = await receiveAll(sqs, q);
      assert.equal(m?.MessageId, sent.MessageId);
      assert.equal(m?.Attributes?.ApproximateReceiveCount, String(n));
      await sleep(1100);
    }
    assert.equal((await receiveAll(sqs, q)).length, 0, 'gone from the main queue');
    const [dead] = await receiveAll(sqs, emu.dlqUrls.alerts!);
    assert.equal(dead?.MessageId, sent.MessageId, 'redrive keeps the MessageId');
    assert.equal(dead?.Body, 'poison');
    assert.equal(dead?.Attributes?.DeadLetterQueueSourceArn, emu.queueArns.alerts);
  });

  test("redrive honours infra's maxReceiveCount (receive visibility 0, so no waiting)", async () => {
    const def = infra.queues.find((d) => d.key === 'anomalies')!;
    const q = emu.queueUrls.anomalies!;
    const sent = await sqs.send(new SendMessageCommand({ QueueUrl: q, MessageBody: 'poison 2' }));
    for (let n = 1; n <= def.maxReceiveCount; n++) {
      // One at a time: local-aws-sqs's "short" poll is a 40 ms window, and a message whose visibility is 0
      // would come back into the same response again.
      const [m] = await receiveAll(sqs, q, { VisibilityTimeout: 0, MaxNumberOfMessages: 1 });
      assert.equal(m?.MessageId, sent.MessageId, `receive ${n}`);
      assert.equal(m?.Attributes?.ApproximateReceiveCount, String(n));
      await sleep(20);
    }
    assert.equal((await receiveAll(sqs, q)).length, 0);
    const [dead] = await receiveAll(sqs, emu.dlqUrls.anomalies!);
    assert.equal(dead?.MessageId, sent.MessageId);
  });

  test('FIFO remediations queue: deduplicates by MessageDeduplicationId, keeps group order', async () => {
    const q = emu.queueUrls.remediations!;
    const plan = (id: string, step: number) => ({
      QueueUrl: q,
      MessageBody: JSON.stringify({ planId: id, step }),
      MessageGroupId: 'prod/deployment/api',
      MessageDeduplicationId: `${id}-${step}`,
    });
    const a = await sqs.send(new SendMessageCommand(plan('p1', 1)));
    const dup = await sqs.send(new SendMessageCommand(plan('p1', 1)));
    const b = await sqs.send(new SendMessageCommand(plan('p1', 2)));
    assert.equal(dup.MessageId, a.MessageId, 'a duplicate send answers with the original MessageId');
    assert.ok(a.SequenceNumber && b.SequenceNumber && BigInt(b.SequenceNumber) > BigInt(a.SequenceNumber));

    await assert.rejects(
      sqs.send(new SendMessageCommand({ QueueUrl: q, MessageBody: 'x', MessageGroupId: 'g' })),
      /ContentBasedDeduplication|MessageDeduplicationId/,
      'no content-based dedup: an explicit id is required',
    );

    // DeduplicationScope is messageGroup (as deployed): the same id in another group is another message.
    const other = await sqs.send(
      new SendMessageCommand({ ...plan('p1', 1), MessageGroupId: 'prod/deployment/worker' }),
    );
    assert.notEqual(other.MessageId, a.MessageId);

    const got = await receiveAll(sqs, q);
    assert.deepEqual(
      got
        .filter((m) => m.Attributes?.MessageGroupId === 'prod/deployment/api')
        .map((m) => JSON.parse(m.Body!).step),
      [1, 2],
    );
    assert.equal(got.length, 3);
    assert.equal(got[0]?.Attributes?.MessageGroupId, 'prod/deployment/api');
    assert.equal(got[0]?.Attributes?.MessageDeduplicationId, 'p1-1');
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: q,
        Entries: got.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
      }),
    );
  });
});
