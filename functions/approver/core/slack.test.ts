import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { parseSlackInteraction, verifySlackSignature } from './slack.js';

const SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const NOW = new Date('2026-12-03T10:00:00Z');
const ts = (secondsAgo: number) => String(NOW.getTime() / 1000 - secondsAgo);
const sign = (timestamp: string, body: string, secret = SECRET) =>
  `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;

describe('Slack request signatures', () => {
  const body = 'payload=%7B%7D';
  const cases: Array<[string, { signature?: string; timestamp?: string }, boolean]> = [
    ['a fresh, valid signature', { signature: sign(ts(10), body), timestamp: ts(10) }, true],
    ['a signature 4 min 59 s old', { signature: sign(ts(299), body), timestamp: ts(299) }, true],
    ['a signature 5 min 1 s old', { signature: sign(ts(301), body), timestamp: ts(301) }, false],
    ['a timestamp from the future', { signature: sign(ts(-400), body), timestamp: ts(-400) }, false],
    [
      'a signature with another secret',
      { signature: sign(ts(1), body, 'x'.repeat(32)), timestamp: ts(1) },
      false,
    ],
    ['a signature over another timestamp', { signature: sign(ts(2), body), timestamp: ts(1) }, false],
    ['no signature', { timestamp: ts(1) }, false],
    ['no timestamp', { signature: sign(ts(1), body) }, false],
    ['a truncated signature', { signature: sign(ts(1), body).slice(0, 40), timestamp: ts(1) }, false],
    ['a non-numeric timestamp', { signature: sign('abc', body), timestamp: 'abc' }, false],
  ];
  for (const [name, headers, ok] of cases) {
    it(`${ok ? 'accepts' : 'refuses'} ${name}`, () => {
      assert.equal(verifySlackSignature(headers, body, SECRET, NOW).ok, ok);
    });
  }

  it('reads a button press as a decision of the user who pressed it', () => {
    const payload = {
      type: 'block_actions',
      user: { id: 'U0ONCALL01' },
      actions: [
        { action_id: 'kubepulse-reject', value: JSON.stringify({ approvalId: 'apr-1', digest: 'ab' }) },
      ],
    };
    assert.deepEqual(parseSlackInteraction(`payload=${encodeURIComponent(JSON.stringify(payload))}`), {
      ok: true,
      userId: 'U0ONCALL01',
      request: { approvalId: 'apr-1', decision: 'reject', digest: 'ab' },
    });
    assert.equal(parseSlackInteraction('payload=%7B%7D').ok, false);
  });
});
