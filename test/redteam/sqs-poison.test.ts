import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ReceiveMessageCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { sendAlerts, sendPlans } from '../../functions/planner/adapters/sqs-outputs.js';
import {
  type Alert,
  decodeMessageBody,
  encodeMessageBody,
  type FailureEventBatch,
  isSqsSafe,
} from '../../functions/shared/contracts/index.js';
import {
  keyringOf,
  type SigningKey,
  signPlan,
  type UnsignedPlan,
  verifyPlan,
} from '../../functions/shared/signing.js';
import { sendAll } from '../../functions/shared/sqs-publisher.js';
import { SqsQueueSender } from '../../functions/shipper/adapters/sqs-sender.js';
import { localSqsClient } from '../../local/standins/sqs/client.js';
import { type SqsEmulator, startSqsEmulator } from '../../local/standins/sqs/emulator.js';

/**
 * Poison text: characters SQS refuses in a body (outside #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD |
 * #x10000-#x10FFFF). An attacker who gets one into a log line, an event message or the model's rationale must
 * not be able to make a failure event bounce or a signed plan change in transit. Each case sends through the
 * product's own send path to the SQS emulator (which refuses such characters as SQS does), receives, decodes,
 * and checks the message is intact (a plan still verifies).
 */
const POISON: Record<string, string> = {
  'U+FFFE': '\uFFFE',
  'U+FFFF': '\uFFFF',
  'U+0000 (NUL)': '\u0000',
  'U+0008 (backspace)': '\u0008',
  'U+000B (vertical tab)': '\u000B',
  'U+001B (escape)': '\u001B',
  'lone high surrogate': '\uD83D',
  'lone low surrogate': '\uDE00',
  'U+FFFE then U+FFFF inside an emoji run': '😀\uFFFE\uFFFF😀',
};

const NOW = new Date('2026-12-03T10:05:00Z');
const planner: SigningKey = { keyId: 'planner-poison', key: randomBytes(32) };

function unsignedPlan(id: string, rationale: string): UnsignedPlan {
  return {
    schemaVersion: 2,
    kind: 'remediation-plan',
    clusterId: 'prod-eu-1',
    planId: `plan-poison-${id}`,
    incidentId: `inc-poison-${id}`,
    createdAt: '2026-12-03T10:00:00.000Z',
    expiresAt: '2026-12-03T10:15:00.000Z',
    source: 'llm',
    rationale,
    confidence: 0.9,
    dryRun: true,
    scope: {
      clusterId: 'prod-eu-1',
      namespace: 'shop',
      workload: { kind: 'Deployment', name: `checkout-${id}` },
      nodes: [],
    },
    actions: [
      { action: 'scale', namespace: 'shop', kind: 'Deployment', name: `checkout-${id}`, replicas: 3 },
    ],
  };
}

let sqs: SqsEmulator;
let client: SQSClient;

before(async () => {
  sqs = await startSqsEmulator({ port: 0, prefix: 'poison' });
  client = localSqsClient(sqs.endpoint, { maxAttempts: 1 });
});
after(async () => {
  client?.destroy();
  await sqs?.close();
});

async function receiveOne(queueUrl: string): Promise<unknown> {
  const response = await client.send(
    new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 1, WaitTimeSeconds: 1 }),
  );
  const body = response.Messages?.[0]?.Body;
  assert.ok(body !== undefined, 'no message arrived');
  return decodeMessageBody(body);
}

describe('red team: poison text through SQS', () => {
  it('the emulator refuses a raw U+FFFE body as SQS does (InvalidMessageContents)', async () => {
    await assert.rejects(
      client.send(new SendMessageCommand({ QueueUrl: sqs.queueUrls.alerts!, MessageBody: '{"a":"\uFFFE"}' })),
      (error: Error) => error.name === 'InvalidMessageContents',
    );
  });

  let index = 0;
  for (const [name, poison] of Object.entries(POISON)) {
    const id = String(index++);
    it(`a signed plan whose rationale carries ${name} verifies after the round trip`, async () => {
      const plan = signPlan(unsignedPlan(id, `memory grows${poison} towards the limit ${poison}`), planner);
      assert.ok(isSqsSafe(encodeMessageBody(plan)), 'the encoded body is SQS-safe');
      await sendPlans(client, sqs.queueUrls.remediations!, [plan]);
      const received = await receiveOne(sqs.queueUrls.remediations!);
      assert.deepEqual(received, plan);
      const result = verifyPlan(received, keyringOf(planner), NOW);
      assert.equal(result.ok, true, result.ok ? '' : `${result.reason}: ${result.detail}`);
    });
  }

  it('a failure event with poison in its message and log tail is accepted by SQS from the shipper and arrives intact', async () => {
    const poison = Object.values(POISON).join(' ');
    const batch: FailureEventBatch = {
      schemaVersion: 1,
      kind: 'failure-events',
      clusterId: 'prod-eu-1',
      batchId: 'failure-poison',
      sentAt: NOW.toISOString(),
      events: [
        {
          eventId: 'fe-poison',
          reason: 'CrashLoopBackOff',
          observedAt: NOW.toISOString(),
          namespace: 'shop',
          pod: 'checkout-1',
          container: 'app',
          message: `back-off ${poison}`,
          count: 1,
          logTail: `panic: ${poison}\nexit 2`,
        },
      ],
    };
    const outcome = await new SqsQueueSender(client, sqs.queueUrls.samples!).sendBatch([
      { id: 'fe-poison', body: encodeMessageBody(batch) },
    ]);
    assert.deepEqual([...outcome.rejected, ...outcome.failed], []);
    assert.deepEqual(await receiveOne(sqs.queueUrls.samples!), batch);
  });

  it('an alert with poison in its title and summary is accepted by SQS and arrives intact', async () => {
    const poison = Object.values(POISON).join(' ');
    const alert: Alert = {
      schemaVersion: 1,
      kind: 'alert',
      clusterId: 'prod-eu-1',
      alertId: 'alert-poison',
      dedupKey: 'inc-poison',
      severity: 'warning',
      status: 'firing',
      title: `Needs a human ${poison}`,
      summary: `diagnosis ${poison}`,
      createdAt: NOW.toISOString(),
      links: [],
    };
    await sendAlerts(client, sqs.queueUrls.alerts!, [alert]);
    assert.deepEqual(await receiveOne(sqs.queueUrls.alerts!), alert);
  });

  it('a message attribute with poison in it is accepted by SQS (what it refuses becomes U+FFFD)', async () => {
    await sendAll(client, sqs.queueUrls.alerts!, [
      { id: 'attr', body: { ok: true }, attributes: { 'kubepulse-cluster': 'prod\uFFFEeu\u0000' } },
    ]);
    const response = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: sqs.queueUrls.alerts!,
        MessageAttributeNames: ['All'],
        WaitTimeSeconds: 1,
      }),
    );
    assert.equal(
      response.Messages?.[0]?.MessageAttributes?.['kubepulse-cluster']?.StringValue,
      'prod\uFFFDeu\uFFFD',
    );
  });
});
