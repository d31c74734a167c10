import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  barestAlert,
  firingAlert,
  largestAlert,
  resolvedAlert,
} from '../../../local/standins/receivers/sample-alerts.js';
import { validateSlackMessage } from '../../../local/standins/receivers/slack.js';
import { Alert } from '../../shared/contracts/index.js';
import { slackDestination, slackMessage } from './slack-message.js';

const cases = {
  firing: firingAlert(),
  resolved: resolvedAlert(),
  largest: largestAlert(),
  barest: barestAlert(),
};

describe('Slack message', () => {
  for (const [name, alert] of Object.entries(cases)) {
    it(`is a message Slack accepts: ${name} alert`, () => {
      Alert.parse(alert);
      const verdict = validateSlackMessage(JSON.stringify(slackMessage(alert)));
      assert.deepEqual(verdict, { ok: true });
    });
  }

  it('reads as resolved when the alert is resolved, in the fallback text and the blocks', () => {
    const body = JSON.stringify(slackMessage(resolvedAlert()));
    assert.match(slackMessage(resolvedAlert()).text, /^RESOLVED: /);
    assert.match(body, /Resolved: Memory of shop\/cart back to normal/);
    assert.doesNotMatch(JSON.stringify(slackMessage(firingAlert())), /Resolved/);
  });

  it('shows the cluster, workload, severity and status, and a button per link', () => {
    const body = JSON.stringify(slackMessage(firingAlert()));
    for (const expected of ['dev', 'shop/deployment/cart (container app)', 'critical', 'firing'])
      assert.ok(body.includes(expected), expected);
    const actions = slackMessage(firingAlert()).blocks.find((b) => b.type === 'actions') as
      | { elements: { url: string }[] }
      | undefined;
    assert.deepEqual(
      actions?.elements.map((e) => e.url),
      firingAlert().links.map((l) => l.url),
    );
  });

  it('cannot mention a channel or user, or smuggle a link, through alert text', () => {
    // Slack parses mentions and links in mrkdwn (and the fallback text), never in plain_text.
    const message = slackMessage(largestAlert());
    const parsed: string[] = [message.text];
    JSON.stringify(message, (_key, value: unknown) => {
      const node = value as { type?: unknown; text?: unknown };
      if (node?.type === 'mrkdwn' && typeof node.text === 'string') parsed.push(node.text);
      return value;
    });
    assert.ok(parsed.length > 3);
    for (const text of parsed)
      assert.ok(!/<!channel>|<@U123>|<https:\/\/evil/.test(text), 'unescaped control');
  });

  it('posts JSON to the configured webhook URL', () => {
    const request = slackDestination('https://hooks.slack.com/services/T/B/x').request(
      firingAlert(),
      new Date(),
    );
    assert.equal(request.url, 'https://hooks.slack.com/services/T/B/x');
    assert.equal(request.headers['content-type'], 'application/json');
  });
});
