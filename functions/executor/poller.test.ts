import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { retryBackoffSeconds } from './poller.js';

describe('the backoff of a plan that keeps failing for a transient reason', () => {
  const polling = { retryDelaySeconds: 30, maxRetryDelaySeconds: 300 };
  for (const [receiveCount, expected] of [
    [1, 30],
    [2, 60],
    [3, 120],
    [4, 240],
    [5, 300],
    [50, 300],
    [10_000, 300],
  ] as const) {
    it(`waits ${expected} s after delivery ${receiveCount}`, () => {
      assert.equal(retryBackoffSeconds(receiveCount, polling), expected);
    });
  }

  it('covers hours over the queue’s 50 deliveries, far beyond a plan’s one-hour lifetime', () => {
    let total = 0;
    for (let n = 1; n < 50; n += 1) total += retryBackoffSeconds(n, polling);
    assert.ok(total > 3 * 3600, `${total} s`);
  });

  it('retries at once when the delay is 0 (tests)', () => {
    assert.equal(retryBackoffSeconds(7, { retryDelaySeconds: 0, maxRetryDelaySeconds: 0 }), 0);
  });
});
