import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type AlertReceivers, startAlertReceivers } from './index.js';
import { validatePagerDutyEvent } from './pagerduty.js';
import { validateSlackMessage } from './slack.js';

const post = (url: string, body: string, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });

describe('Slack validation', () => {
  const verdict = (message: unknown) => validateSlackMessage(JSON.stringify(message));
  it('refuses what Slack refuses', () => {
    assert.equal(validateSlackMessage('{"text": ').ok, false);
    assert.deepEqual(verdict({}), { ok: false, error: 'no_text', problems: ['neither text nor blocks'] });
    assert.equal(verdict({ text: '   ' }).ok, false);
    const header = (text: string) => ({ blocks: [{ type: 'header', text: { type: 'plain_text', text } }] });
    assert.deepEqual(verdict(header('x'.repeat(150))), { ok: true });
    assert.equal(verdict(header('x'.repeat(151))).ok, false);
    assert.equal(verdict({ blocks: [{ type: 'header', text: { type: 'mrkdwn', text: 'x' } }] }).ok, false);
    assert.equal(
      verdict({ blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'x'.repeat(3001) } }] }).ok,
      false,
    );
    assert.equal(verdict({ blocks: [{ type: 'section' }] }).ok, false);
    assert.equal(verdict({ blocks: Array.from({ length: 51 }, () => ({ type: 'divider' })) }).ok, false);
    assert.equal(verdict({ blocks: [{ type: 'banner' }] }).ok, false);
    const button = {
      type: 'button',
      text: { type: 'plain_text', text: 'Open' },
      action_id: 'a',
      url: 'https://x.io',
    };
    assert.deepEqual(verdict({ text: 'x', blocks: [{ type: 'actions', elements: [button] }] }), { ok: true });
    assert.equal(verdict({ text: 'x', blocks: [{ type: 'actions', elements: [button, button] }] }).ok, false);
  });
});

describe('PagerDuty validation', () => {
  const KEY = '0123456789abcdef0123456789abcdef';
  const trigger = {
    routing_key: KEY,
    event_action: 'trigger',
    payload: { summary: 's', source: 'x', severity: 'info' },
  };
  const errors = (event: unknown) => validatePagerDutyEvent(JSON.stringify(event));
  it('refuses what PagerDuty refuses', () => {
    assert.deepEqual(errors(trigger), []);
    assert.notDeepEqual(errors({ ...trigger, routing_key: KEY.slice(1) }), []);
    assert.notDeepEqual(errors({ ...trigger, event_action: 'open' }), []);
    assert.notDeepEqual(errors({ ...trigger, payload: { ...trigger.payload, severity: 'fatal' } }), []);
    assert.notDeepEqual(
      errors({ ...trigger, payload: { ...trigger.payload, summary: 'x'.repeat(1025) } }),
      [],
    );
    assert.notDeepEqual(errors({ ...trigger, payload: { source: 'x', severity: 'info' } }), []);
    assert.notDeepEqual(errors({ routing_key: KEY, event_action: 'resolve' }), []);
    assert.deepEqual(errors({ routing_key: KEY, event_action: 'resolve', dedup_key: 'k' }), []);
  });
});

describe('receivers over HTTP', () => {
  let receivers: AlertReceivers;
  before(async () => {
    receivers = await startAlertReceivers({ webhookSecret: 'receiver-test-secret-1234' });
  });
  after(() => receivers.close());

  it('answer as the real services do', async () => {
    const slack = await post(receivers.notifierEnv.SLACK_WEBHOOK_URL!, '{"blocks":[{"type":"header"}]}');
    assert.equal(slack.status, 400);
    assert.equal(await slack.text(), 'invalid_blocks');
    const pd = await post(receivers.notifierEnv.PAGERDUTY_EVENTS_URL!, '{"event_action":"trigger"}');
    assert.equal(pd.status, 400);
    const body = (await pd.json()) as { status: string; errors: string[] };
    assert.equal(body.status, 'invalid event');
    assert.ok(body.errors.length >= 2);
    const ok = await post(
      receivers.notifierEnv.PAGERDUTY_EVENTS_URL!,
      JSON.stringify({ routing_key: receivers.routingKey, event_action: 'resolve', dedup_key: 'k1' }),
    );
    assert.equal(ok.status, 202);
    assert.deepEqual(await ok.json(), { status: 'success', message: 'Event processed', dedup_key: 'k1' });
    const unsigned = await post(receivers.notifierEnv.WEBHOOK_URL!, '{}');
    assert.equal(unsigned.status, 401);
    assert.deepEqual(
      receivers.webhook.received.map((r) => r.problems),
      [['no sha256 signature header']],
    );
  });

  it('fail the next requests on demand, with Retry-After, then recover', async () => {
    receivers.reset();
    receivers.slack.failNext(2, { status: 429, retryAfterSeconds: 3 });
    const first = await post(receivers.notifierEnv.SLACK_WEBHOOK_URL!, '{"text":"hi"}');
    assert.equal(first.status, 429);
    assert.equal(first.headers.get('retry-after'), '3');
    assert.equal((await post(receivers.notifierEnv.SLACK_WEBHOOK_URL!, '{"text":"hi"}')).status, 429);
    assert.equal((await post(receivers.notifierEnv.SLACK_WEBHOOK_URL!, '{"text":"hi"}')).status, 200);
    assert.equal(receivers.slack.received.length, 3);
    assert.equal(receivers.slack.accepted().length, 1);
  });
});
