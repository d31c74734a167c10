import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { equalJitterDelayMs, fullJitterDelayMs, sleep } from './retry.js';

describe('backoff strategies', () => {
  const policy = { initialMs: 100, maxMs: 1000 };

  it('equal jitter: from half to all of a cap that doubles from retry 0, at least 1 ms', () => {
    assert.equal(
      equalJitterDelayMs(0, policy, () => 1),
      100,
    );
    assert.equal(
      equalJitterDelayMs(0, policy, () => 0),
      50,
    );
    assert.equal(
      equalJitterDelayMs(2, policy, () => 0.5),
      300,
    );
    assert.equal(
      equalJitterDelayMs(10, policy, () => 1),
      1000,
    );
    assert.equal(
      equalJitterDelayMs(1_000, policy, () => 0),
      500,
    );
    assert.equal(
      equalJitterDelayMs(0, { initialMs: 1, maxMs: 1 }, () => 0),
      1,
    );
  });

  it('full jitter: from nothing to a cap that is the base after attempt 1', () => {
    const full = { baseDelayMs: 100, maxDelayMs: 1000 };
    assert.equal(
      fullJitterDelayMs(1, full, () => 1),
      100,
    );
    assert.equal(
      fullJitterDelayMs(1, full, () => 0),
      0,
    );
    assert.equal(
      fullJitterDelayMs(3, full, () => 0.5),
      200,
    );
  });
});

describe('sleep', () => {
  it('waits the time given', async () => {
    const started = performance.now();
    await sleep(30);
    assert.ok(performance.now() - started >= 25);
  });

  it('ends as soon as its signal aborts, and at once when it already has', async () => {
    const controller = new AbortController();
    const started = performance.now();
    setTimeout(() => controller.abort(), 20);
    await sleep(10_000, controller.signal);
    await sleep(10_000, controller.signal);
    assert.ok(performance.now() - started < 1000);
  });

  it('leaves no listener on the signal once it has waited', async () => {
    const controller = new AbortController();
    let added = 0;
    let removed = 0;
    const { signal } = controller;
    const add = signal.addEventListener.bind(signal);
    const remove = signal.removeEventListener.bind(signal);
    signal.addEventListener = ((...args: Parameters<typeof add>) => {
      added += 1;
      add(...args);
    }) as typeof add;
    signal.removeEventListener = ((...args: Parameters<typeof remove>) => {
      removed += 1;
      remove(...args);
    }) as typeof remove;
    for (let i = 0; i < 3; i++) await sleep(1, signal);
    assert.equal(added, 3);
    assert.equal(removed, 3);
  });
});
