import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Progress } from './appliers/applier.js';
import { type SettleOptions, waitUntilSettled } from './settle.js';

/** A clock that only moves when the loop sleeps, so the deadline is reached in a known number of polls. */
function clockedOptions(timeoutSeconds: number) {
  let now = 0;
  let heartbeats = 0;
  const options: SettleOptions = {
    timeoutSeconds,
    pollMilliseconds: 1000,
    now: () => new Date(now),
    sleep: async (milliseconds) => {
      now += milliseconds;
    },
    betweenPolls: async () => {
      heartbeats += 1;
    },
  };
  return { options, heartbeats: () => heartbeats };
}

const after = (polls: number): (() => Promise<Progress>) => {
  let seen = 0;
  return async () => {
    seen += 1;
    return seen > polls ? { done: true, detail: 'ready' } : { done: false, detail: `${seen} polls in` };
  };
};

describe('waiting for steps to settle', () => {
  it('succeeds once every step has settled, with a heartbeat between polls', async () => {
    const { options, heartbeats } = clockedOptions(10);
    const outcome = await waitUntilSettled([after(2), after(0)], options);
    assert.deepEqual(outcome, { ok: true, detail: 'all steps settled' });
    assert.equal(heartbeats(), 2);
  });

  it('fails at the deadline, saying which step was still waiting', async () => {
    const { options } = clockedOptions(3);
    const outcome = await waitUntilSettled([after(0), after(100)], options);
    assert.equal(outcome.ok, false);
    assert.match(outcome.detail, /not settled within 3 s: action 2: 4 polls in/);
  });

  it('fails at once when a step says it never will settle', async () => {
    const { options, heartbeats } = clockedOptions(60);
    const outcome = await waitUntilSettled(
      [async () => ({ done: false, failed: true, detail: 'rollout stalled' })],
      options,
    );
    assert.deepEqual(outcome, { ok: false, detail: 'verification failed: action 1: rollout stalled' });
    assert.equal(heartbeats(), 0);
  });
});
