import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { initialCursor, nextWindow, settledThrough, type WindowPolicy } from './time-window.js';

const policy: WindowPolicy = {
  stepSeconds: 30,
  lagSeconds: 60,
  maxBackfillSeconds: 600,
  maxStepsPerQuery: 4,
};

describe('walking the timeline in steps', () => {
  it('ends behind now by the scrape lag, on a step boundary', () => {
    assert.equal(settledThrough(1_000_000_075, policy), 999_999_990);
  });

  it('reads the steps after the cursor, at most maxStepsPerQuery of them', () => {
    const next = nextWindow(999_999_840, 1_000_000_075, policy);
    assert.deepEqual(next, { window: { after: 999_999_840, through: 999_999_960 }, skippedSeconds: 0 });
  });

  it('has nothing to read until the next step settles', () => {
    assert.equal(nextWindow(999_999_990, 1_000_000_075, policy), undefined);
    assert.equal(nextWindow(999_999_990, 1_000_000_079, policy), undefined);
    assert.deepEqual(nextWindow(999_999_990, 1_000_000_080, policy)?.window, {
      after: 999_999_990,
      through: 1_000_000_020,
    });
  });

  it('jumps a cursor older than the maximum backfill forward and reports what it skips', () => {
    const next = nextWindow(999_990_000, 1_000_000_075, policy);
    // Newest settled step 999_999_990; 600 s of backfill: the first step read is 999_999_390.
    assert.deepEqual(next, { window: { after: 999_999_360, through: 999_999_480 }, skippedSeconds: 9_360 });
  });

  it('aligns an unaligned cursor down, so no step is read twice or skipped', () => {
    assert.equal(nextWindow(999_999_845, 1_000_000_075, policy)?.window.after, 999_999_840);
  });

  it('starts a fresh shipper the configured lookback before the newest settled step', () => {
    const cursor = initialCursor(1_000_000_075, 90, policy);
    assert.equal(cursor, 999_999_870);
    assert.equal(nextWindow(cursor, 1_000_000_075, policy)?.window.through, 999_999_990);
  });
});
