import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Message, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSHandler } from 'aws-lambda';
import { Redis } from 'ioredis';
import { attemptDelivery } from '../../functions/notifier/adapters/http-attempt.js';
import { redisDeliveryLedger } from '../../functions/notifier/adapters/redis-delivery-ledger.js';
import { readNotifierConfig } from '../../functions/notifier/config.js';
import { deliverAlerts, type NotifierDeps } from '../../functions/notifier/core/deliver-alerts.js';
import { destinationsFrom } from '../../functions/notifier/runtime.js';
import { type Alert, encodeMessageBody } from '../../functions/shared/contracts/index.js';
import { QUARANTINE_ATTRIBUTES } from '../../functions/shared/lambda/sqs-records.js';
import { invokeOnce } from '../../local/harness/lambda-runner/sqs-event-source.js';
import { PrivateRedisServer } from '../../local/harness/support/redis-server.js';
import { type AlertReceivers, startAlertReceivers } from '../../local/standins/receivers/index.js';
import { firingAlert, resolvedAlert } from '../../local/standins/receivers/sample-alerts.js';
import { localSqsClient } from '../../local/standins/sqs/client.js';
import { type SqsEmulator, startSqsEmulator } from '../../local/standins/sqs/emulator.js';
import { drainQueue, receiveAll } from '../../local/standins/sqs/queue-tools.js';
import { quietLogger } from '../support/loggers.js';

const quiet = quietLogger;

describe('notifier function, driven as Lambda drives it, on real Redis, the SQS emulator and local receivers', () => {
  let redisServer: PrivateRedisServer;
  let emulator: SqsEmulator;
  let sqs: SQSClient;
  let receivers: AlertReceivers;
  let handler: SQSHandler;
  let shutdown: () => Promise<void>;

  before(async () => {
    redisServer = await PrivateRedisServer.start();
    emulator = await startSqsEmulator({
      port: 0,
      overrides: { alerts: { visibilityTimeoutSeconds: 1, maxReceiveCount: 4 } },
    });
    sqs = localSqsClient(emulator.endpoint);
    receivers = await startAlertReceivers();
    Object.assign(process.env, {
      REDIS_URL: redisServer.url,
      ALERTS_DLQ_URL: emulator.dlqUrls.alerts!,
      ...receivers.notifierEnv,
      // Two tries per invocation, quickly: a destination failing twice is left to SQS's redelivery.
      DELIVERY_MAX_ATTEMPTS: '2',
      DELIVERY_BASE_DELAY_MS: '10',
      DELIVERY_MAX_DELAY_MS: '50',
      AWS_ENDPOINT_URL_SQS: emulator.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
    });
    ({ handler, shutdown } = await import('../../functions/notifier/handler.js'));
  });

  after(async () => {
    await shutdown();
    await receivers.close();
    await emulator.close();
    await redisServer.close();
  });

  const send = async (bodies: string[]) => {
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: emulator.queueUrls.alerts,
        Entries: bodies.map((body, k) => ({ Id: `e${k}`, MessageBody: body })),
      }),
    );
  };

  const invoke = () =>
    invokeOnce({
      sqs,
      queueUrl: emulator.queueUrls.alerts!,
      queueArn: emulator.queueArns.alerts!,
      handler,
      batchSize: 10,
      waitTimeSeconds: 0,
    });

  const drain = () => drainQueue(sqs, emulator.queueUrls.alerts!, invoke, 100);
  const deadLetters = () => receiveAll(sqs, emulator.dlqUrls.alerts!);
  const attribute = (message: Message, name: string) => message.MessageAttributes?.[name]?.StringValue ?? '';
  const bodies = (requests: readonly { rawBody: string }[]) => requests.map((r) => JSON.parse(r.rawBody));

  it('delivers a firing and then a resolved alert to Slack, PagerDuty and the webhook in their formats', async () => {
    receivers.reset();
    const firing = firingAlert();
    const resolved = resolvedAlert();
    // Sent resolved first: the notifier still delivers them in the order they were raised.
    await send([encodeMessageBody(resolved), encodeMessageBody(firing)]);
    await drain();

    for (const receiver of [receivers.slack, receivers.pagerDuty, receivers.webhook]) {
      assert.deepEqual(
        receiver.received.map((r) => [r.status, r.problems]),
        [
          [receiver.accepted()[0]!.status, []],
          [receiver.accepted()[1]!.status, []],
        ],
        'both accepted, nothing refused',
      );
    }
    const slack = bodies(receivers.slack.accepted());
    assert.match(slack[0].text, /^CRITICAL: /);
    assert.match(slack[1].text, /^RESOLVED: /);

    const [trigger, resolve] = bodies(receivers.pagerDuty.accepted());
    assert.equal(trigger.event_action, 'trigger');
    assert.equal(resolve.event_action, 'resolve');
    assert.equal(trigger.dedup_key, firing.dedupKey);
    assert.equal(resolve.dedup_key, trigger.dedup_key);
    assert.equal(trigger.routing_key, receivers.routingKey);

    assert.deepEqual(bodies(receivers.webhook.accepted()), [firing, resolved]);
    assert.deepEqual(await deadLetters(), []);
  });

  it('retries a destination that answers 503 twice, without sending again to those that took the alert', async () => {
    receivers.reset();
    receivers.slack.failNext(2, { status: 503 });
    const alert = firingAlert({ alertId: 'alert-flaky-slack', dedupKey: 'dev/shop/cart/flaky' });
    await send([encodeMessageBody(alert)]);

    const first = await invoke();
    assert.equal(first?.failed.length, 1, 'the record is left for SQS to deliver again');
    await drain();

    assert.deepEqual(
      receivers.slack.received.map((r) => r.status),
      [503, 503, 200],
    );
    assert.equal(receivers.pagerDuty.received.length, 1);
    assert.equal(receivers.webhook.received.length, 1);
    assert.equal(bodies(receivers.webhook.accepted())[0].alertId, alert.alertId);
    assert.deepEqual(await deadLetters(), []);
  });

  it('dead-letters an alert PagerDuty refuses with 400, with the reason, after the others took it', async () => {
    receivers.reset();
    receivers.pagerDuty.failNext(1, { status: 400 });
    const alert = firingAlert({ alertId: 'alert-pd-refuses', dedupKey: 'dev/shop/cart/refused' });
    const body = encodeMessageBody(alert);
    await send([body]);
    await drain();

    const dead = await deadLetters();
    assert.equal(dead.length, 1);
    assert.equal(dead[0]!.Body, body);
    assert.equal(attribute(dead[0]!, QUARANTINE_ATTRIBUTES.code), 'delivery-rejected');
    assert.match(attribute(dead[0]!, QUARANTINE_ATTRIBUTES.reason), /^pagerduty: HTTP 400: .*invalid event/);
    assert.equal(receivers.pagerDuty.received.length, 1, 'a 400 is not retried');
    assert.equal(receivers.slack.accepted().length, 1);
    assert.equal(receivers.webhook.accepted().length, 1);
  });

  it('dead-letters malformed records with their reason and sends nothing for them', async () => {
    receivers.reset();
    const wrongSchema = JSON.stringify({ schemaVersion: 1, kind: 'alert', clusterId: 'dev' });
    await send(['{"kind": "alert", ', wrongSchema]);
    await drain();

    const dead = await deadLetters();
    assert.deepEqual(dead.map((m) => m.Body).sort(), ['{"kind": "alert", ', wrongSchema].sort());
    for (const message of dead)
      assert.equal(attribute(message, QUARANTINE_ATTRIBUTES.code), 'malformed-message');
    const reasonOf = (body: string) =>
      attribute(dead.find((m) => m.Body === body)!, QUARANTINE_ATTRIBUTES.reason);
    assert.match(reasonOf('{"kind": "alert", '), /not JSON/);
    assert.match(reasonOf(wrongSchema), /alertId|dedupKey|severity/);
    for (const receiver of [receivers.slack, receivers.pagerDuty, receivers.webhook])
      assert.equal(receiver.received.length, 0);
  });
});

describe('delivering alerts: retry timing and the delivery ledger, on real Redis and local receivers', () => {
  let redisServer: PrivateRedisServer;
  let redis: Redis;
  let receivers: AlertReceivers;
  let deps: NotifierDeps;
  const waits: number[] = [];

  before(async () => {
    redisServer = await PrivateRedisServer.start();
    redis = new Redis(redisServer.url);
    receivers = await startAlertReceivers();
    const config = readNotifierConfig({
      REDIS_URL: redisServer.url,
      ALERTS_DLQ_URL: 'http://127.0.0.1:1/unused',
      ...receivers.notifierEnv,
    });
    deps = {
      destinations: destinationsFrom(config.destinations),
      ledger: redisDeliveryLedger(redis, config.ledger),
      retry: config.retry,
      logger: quiet,
      send: attemptDelivery,
      // The clock port: records how long the notifier would wait instead of waiting.
      sleep: async (ms) => {
        waits.push(ms);
      },
    };
  });
  after(async () => {
    redis.disconnect();
    await receivers.close();
    await redisServer.close();
  });
  const inAMinute = () => Date.now() + 60_000;

  it("waits at least as long as a 429's Retry-After before trying again", async () => {
    receivers.reset();
    waits.length = 0;
    receivers.pagerDuty.failNext(1, { status: 429, retryAfterSeconds: 7 });
    const outcome = await deliverAlerts(
      [{ recordId: 'r1', alert: firingAlert({ alertId: 'ra-1' }) }],
      deps,
      inAMinute(),
    );
    assert.equal(outcome.retry.size + outcome.rejected.size, 0);
    assert.deepEqual(waits, [7000]);
    assert.deepEqual(
      receivers.pagerDuty.received.map((r) => r.status),
      [429, 202],
    );
  });

  it('leaves the record to SQS when Retry-After is beyond the time the invocation has left', async () => {
    receivers.reset();
    waits.length = 0;
    receivers.slack.failNext(1, { status: 429, retryAfterSeconds: 120 });
    const outcome = await deliverAlerts(
      [{ recordId: 'r2', alert: firingAlert({ alertId: 'ra-2' }) }],
      deps,
      inAMinute(),
    );
    assert.match(
      outcome.retry.get('r2')?.message ?? '',
      /^slack: HTTP 429: rate_limited; next try in 120000 ms/,
    );
    assert.deepEqual(waits, []);
    assert.equal(receivers.slack.received.length, 1);
  });

  it('does not send an alert another invocation is delivering, nor one already delivered', async () => {
    receivers.reset();
    const alert = firingAlert({ alertId: 'ra-3' });
    const claim = await deps.ledger.claim(alert.clusterId, alert.alertId, 'webhook');
    const busy = await deliverAlerts([{ recordId: 'r3', alert }], deps, inAMinute());
    assert.match(busy.retry.get('r3')?.message ?? '', /webhook: another invocation is delivering it/);
    assert.equal(receivers.webhook.received.length, 0);
    assert.ok(claim.state === 'claimed');
    await claim.markDelivered();
    const again = await deliverAlerts([{ recordId: 'r3', alert }], deps, inAMinute());
    assert.equal(again.retry.size, 0);
    assert.equal(receivers.webhook.received.length, 0);
    assert.equal(receivers.slack.accepted().length, 1);
    assert.deepEqual(
      again.deliveries.map((d) => d.status),
      ['already-delivered', 'already-delivered', 'already-delivered'],
    );
  });

  it('holds back a resolve while the trigger of the same dedup key must be retried', async () => {
    receivers.reset();
    receivers.pagerDuty.failNext(4, { status: 503 });
    const firing = firingAlert({ alertId: 'ra-4', dedupKey: 'dev/held' });
    const resolved = resolvedAlert({ alertId: 'ra-4-resolved', dedupKey: 'dev/held' });
    const outcome = await deliverAlerts(
      [
        { recordId: 'resolved', alert: resolved },
        { recordId: 'firing', alert: firing },
      ],
      deps,
      inAMinute(),
    );
    assert.deepEqual([...outcome.retry.keys()].sort(), ['firing', 'resolved']);
    assert.match(outcome.retry.get('resolved')!.message, /waiting for alert ra-4 /);
    assert.ok(!bodies(receivers.pagerDuty.received).some((e) => e.event_action === 'resolve'));
  });

  const bodies = (requests: readonly { rawBody: string }[]) =>
    requests.map((r) => JSON.parse(r.rawBody) as { event_action?: string } & Partial<Alert>);
});
