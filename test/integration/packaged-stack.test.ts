import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ReceiveMessageCommand, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import {
  type Anomaly,
  decodeMessageBody,
  encodeMessageBody,
  type UsageAnomaly,
} from '../../functions/shared/contracts/index.js';
import {
  ensurePackagedService,
  type PackagedStack,
  startPackagedStack,
} from '../../local/harness/lambda-runner/packaged-stack.js';
import type { InvocationReport } from '../../local/harness/lambda-runner/sqs-event-source.js';
import {
  GiB,
  inventoryFor,
  type SyntheticPod,
  sampleBatches,
} from '../../local/harness/support/pod-series.js';
import { PrivateRedisServer } from '../../local/harness/support/redis-server.js';
import { localSqsClient } from '../../local/standins/sqs/client.js';
import { type SqsEmulator, startSqsEmulator } from '../../local/standins/sqs/emulator.js';

// The functions as `osls package` builds them (bundle, wasm, models), each in its own process, wired by the
// generated CloudFormation's event-source mappings: what runs locally is what would be deployed.
describe('packaged functions run from the osls artefacts with Lambda semantics', () => {
  let redisServer: PrivateRedisServer;
  let emulator: SqsEmulator;
  let sqs: SQSClient;
  let stack: PackagedStack;
  const reports: InvocationReport[] = [];
  const output: string[] = [];

  before(async () => {
    redisServer = await PrivateRedisServer.start();
    // The default cluster list on both sides (one cluster, `local`): the records below are that cluster's.
    emulator = await startSqsEmulator({ port: 0 });
    sqs = localSqsClient(emulator.endpoint);
    const service = ensurePackagedService({ onProgress: (line) => console.log(line) });
    stack = await startPackagedStack({
      service,
      sqs,
      emulator,
      functions: ['inference'],
      maximumBatchingWindowMs: 0,
      environmentOverrides: { inference: { REDIS_URL: redisServer.url, POWERTOOLS_LOG_LEVEL: 'WARN' } },
      onInvoke: (_, report) => reports.push(report),
      onOutput: (_, line) => output.push(line),
    });
  });

  after(async () => {
    await stack?.stop();
    await emulator?.close();
    await redisServer?.close();
  });

  it('scores a leak from the packaged bundle and publishes one opened anomaly, warm after one cold start', async () => {
    const pods: SyntheticPod[] = [
      {
        namespace: 'shop',
        pod: 'cart-6f7d9-zz1',
        container: 'app',
        limitBytes: GiB,
        memoryAt: (s) => GiB * (0.35 + (0.65 * s) / 220),
      },
    ];
    const start = 1_790_000_000;
    const batches = sampleBatches('local', pods, {
      from: 0,
      to: 210,
      stepsPerBatch: 15,
      startAt: start,
      stepSeconds: 30,
    });
    const bodies = [encodeMessageBody(inventoryFor('local', pods)), ...batches.map(encodeMessageBody)];
    for (let i = 0; i < bodies.length; i += 10) {
      await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: emulator.queueUrls.samples,
          Entries: bodies.slice(i, i + 10).map((body, k) => ({ Id: `m${k}`, MessageBody: body })),
        }),
      );
    }

    const anomalies: Anomaly[] = [];
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline && reports.flatMap((r) => r.deleted).length < bodies.length)
      await sleep(200);
    for (;;) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: emulator.queueUrls.anomalies,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 0,
        }),
      );
      if (Messages.length === 0) break;
      anomalies.push(...Messages.map((m) => decodeMessageBody(m.Body!) as Anomaly));
    }

    assert.equal(reports.flatMap((r) => r.deleted).length, bodies.length, `output:\n${output.join('\n')}`);
    assert.ok(
      reports.every((r) => r.outcome === 'success'),
      JSON.stringify(reports.map((r) => r.outcome)),
    );
    // The leak ends with one open incident, never two open at once: a forecast breach within the hour of a
    // classifier incident stays in that episode (models/README.md, "one episode, one incident"); a later one
    // hands it over (resolved, then a forecast-breach incident opened).
    const ids = JSON.stringify(anomalies.map((a) => a.anomalyId));
    assert.ok(anomalies.length >= 1 && anomalies.every((a) => a.target.pod === 'cart-6f7d9-zz1'), ids);
    let open = 0;
    for (const anomaly of anomalies) {
      open += anomaly.status === 'opened' ? 1 : -1;
      assert.ok(open === 0 || open === 1, `an incident opened twice or closed twice: ${ids}`);
    }
    const last = anomalies.at(-1) as UsageAnomaly;
    assert.equal(last.status, 'opened', ids);
    assert.ok(
      last.reasons.includes('forecast-limit-breach') || last.reasons.includes('classifier'),
      JSON.stringify(last.reasons),
    );
    const sandbox = stack.sandboxes.get('inference')!;
    assert.equal(sandbox.coldStarts, 1);
    assert.ok(sandbox.invocations >= 2, 'several batches went to the same warm sandbox');
  });
});
