import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fullJitterDelayMs } from '../../shared/retry.js';
import { classifyResponse, parseRetryAfter, type RetryPolicy } from './retry.js';

const policy: RetryPolicy = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 1000, requestTimeoutMs: 1000 };

describe('retry policy', () => {
  it('waits a random time under a cap that doubles per attempt and stops growing at the maximum', () => {
    assert.equal(
      fullJitterDelayMs(1, policy, () => 1),
      100,
    );
    assert.equal(
      fullJitterDelayMs(3, policy, () => 1),
      400,
    );
    assert.equal(
      fullJitterDelayMs(10, policy, () => 1),
      1000,
    );
    assert.equal(
      fullJitterDelayMs(3, policy, () => 0),
      0,
    );
    assert.equal(
      fullJitterDelayMs(3, policy, () => 0.5),
      200,
    );
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2026-11-21T10:00:00Z');
    assert.equal(parseRetryAfter('7', now), 7000);
    assert.equal(parseRetryAfter('Sat, 21 Nov 2026 10:00:30 GMT', now), 30_000);
    assert.equal(parseRetryAfter('Sat, 21 Nov 2026 09:00:00 GMT', now), 0);
    assert.equal(parseRetryAfter(null, now), undefined);
    assert.equal(parseRetryAfter('soon', now), undefined);
  });

  it('retries 408, 429 and 5xx, refuses other 4xx and redirects for good', () => {
    const outcome = (status: number) => classifyResponse(status, '', null, 0).outcome;
    assert.equal(outcome(200), 'delivered');
    assert.equal(outcome(202), 'delivered');
    for (const status of [408, 429, 500, 502, 503, 504])
      assert.equal(outcome(status), 'retryable', String(status));
    for (const status of [301, 400, 401, 403, 404, 410, 413])
      assert.equal(outcome(status), 'rejected', String(status));
  });

  it('keeps the retry delay and the reason a destination gave', () => {
    assert.deepEqual(classifyResponse(429, 'rate_limited', '3', 0), {
      outcome: 'retryable',
      reason: 'HTTP 429: rate_limited',
      retryAfterMs: 3000,
    });
    assert.deepEqual(classifyResponse(400, '{"status":"invalid event"}', null, 0), {
      outcome: 'rejected',
      reason: 'HTTP 400: {"status":"invalid event"}',
    });
  });
});
