import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type GuardReason,
  type GuardState,
  HABIT_LONG_DWELL_SECONDS,
  inLimitRaiseGrace,
  observeGuard,
  STEP_MEMORY_SECONDS,
} from './limit-guard.js';

const STEP = 30;
const LIMIT = 1024;

/** Feeds `levels` one per 30 s from `start`; returns the reasons per sample and the final state. */
function feed(
  levels: readonly number[],
  state: GuardState | null = null,
  start = 1_800_000_000,
): { reasons: Array<GuardReason | null>; state: GuardState | null; end: number } {
  const reasons: Array<GuardReason | null> = [];
  let at = start;
  for (const level of levels) {
    const observed = observeGuard(state, level, at, LIMIT, 1);
    state = observed.state;
    reasons.push(observed.reading.reason);
    at += STEP;
  }
  return { reasons, state, end: at };
}

const hours = (h: number) => Math.round((h * 3600) / STEP);
const flat = (level: number, samples: number, wobble = 0.003) =>
  Array.from({ length: samples }, (_, i) => level + wobble * Math.sin(i * 1.7));

describe('limit guard', () => {
  it('raises near-limit on a new level at or above 90 % of the limit once it held for 2 minutes, and nothing below', () => {
    const { reasons } = feed([...flat(0.5, 100), ...flat(0.92, 20)]);
    assert.ok(reasons.slice(0, 104).every((r) => r === null));
    assert.ok(
      reasons.slice(104).every((r) => r === 'near-limit'),
      'from the fifth sample, as the static rule fires',
    );
  });

  it('sums the two minutes over an episode: GC peaks touching the line a minute at a time count, troughs too', () => {
    // Each 6-minute cycle: two samples at 0.93, then a fall to 0.6 and a climb back.
    const cycle = [0.93, 0.93, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.88, 0.9, 0.91, 0.92];
    const peaks = Array.from({ length: 6 }, () => cycle).flat();
    const { reasons } = feed([...flat(0.5, 10), ...peaks]);
    const first = reasons.indexOf('near-limit');
    assert.ok(first > 10 && first < 10 + 2 * cycle.length, `fires within two cycles (at ${first})`);
    assert.ok(
      reasons.slice(first).every((r) => r === 'near-limit'),
      'and holds through the troughs',
    );
  });

  it('keeps one episode through noise around 90 %', () => {
    const noisy = Array.from({ length: 200 }, (_, i) => 0.9 + 0.012 * Math.sin(i * 2.1));
    const { reasons } = feed([...flat(0.5, 10), ...noisy]);
    const starts = reasons.filter((r, i) => r === 'near-limit' && reasons[i - 1] !== 'near-limit');
    assert.equal(starts.length, 1);
  });

  it('learns a burst it came back down from, hours later (a batch job), and forgets it after a kill', () => {
    const burst = (gapHours: number) => [...flat(0.3, hours(gapHours)), ...flat(0.93, 40)];
    const first = feed(burst(3));
    assert.ok(first.reasons.includes('near-limit'), 'the first burst pages');
    const soon = feed(burst(1), first.state, first.end);
    // (each burst's first samples are the tail of the episode before: judge the burst itself)
    const ofBurst = (fed: { reasons: Array<GuardReason | null> }, gapHours: number) =>
      fed.reasons.slice(hours(gapHours));
    assert.ok(ofBurst(soon, 1).includes('near-limit'), 'a second burst an hour on: not yet shown harmless');
    const third = feed(burst(2), soon.state, soon.end);
    assert.ok(
      !ofBurst(third, 2).includes('near-limit'),
      'a burst more than 2 hours after one it lived through',
    );
    const killed = feed([0.97, 0.03, ...flat(0.3, 100), ...flat(0.93, 40)], third.state, third.end);
    assert.ok(killed.reasons.includes('near-limit'), 'after a kill the level is not harmless any more');
  });

  it('falls silent once a level has been lived at for long (a cache at its size), but not at a higher one', () => {
    const long = hours(HABIT_LONG_DWELL_SECONDS / 3600) + 60;
    const { reasons, state, end } = feed([...flat(0.5, 100), ...flat(0.92, long)]);
    assert.equal(reasons.at(-1), null, 'habituated after the long dwell');
    assert.equal(reasons[110], 'near-limit');
    const higher = feed(flat(0.96, 5), state, end);
    assert.equal(higher.reasons.at(-1), 'near-limit', 'a level above the one lived at is new again');
  });

  it('learns a daily peak: the first day pages, the next day at the same level does not', () => {
    const day = [...flat(0.5, hours(21)), ...flat(0.92, hours(1.5)), ...flat(0.5, hours(1.5))];
    const first = feed(day);
    assert.ok(first.reasons.includes('near-limit'));
    const second = feed(day, first.state, first.end);
    assert.ok(!second.reasons.includes('near-limit'), 'yesterday it was there and lived');
  });

  it('raises step-growth after upward steps when one more would reach the limit, and forgets it in time', () => {
    const levels = [...flat(0.36, 60), ...flat(0.52, 120), ...flat(0.68, 120), ...flat(0.85, 120)];
    const { reasons, state, end } = feed(levels);
    assert.equal(reasons.at(-1), 'step-growth', 'at 0.85 after steps of 0.16: the next one kills');
    assert.equal(reasons[150], null, 'at 0.52 after one step: nothing');
    const later = feed(flat(0.85, hours(STEP_MEMORY_SECONDS / 3600) + 10), state, end);
    assert.equal(later.reasons.at(-1), null, 'a day on the plateau without a step forgets the steps');
  });

  it('holds step-growth through a plateau’s noise at the edge of the risk: one episode, not one per wobble', () => {
    // steps of 0.16 up to 0.84: one more reaches exactly 1.0, and the plateau wobbles by a point around it
    const levels = [...flat(0.36, 60), ...flat(0.52, 120), ...flat(0.68, 120), ...flat(0.84, 600, 0.01)];
    const { reasons } = feed(levels);
    const plateau = reasons.slice(300 + 10);
    const starts = plateau.filter((r, i) => r === 'step-growth' && plateau[i - 1] !== 'step-growth').length;
    assert.equal(starts, 1, 'it starts once');
    assert.equal(plateau.at(-1), 'step-growth');
  });

  it('forgets the steps when usage falls back (a freed cache, a collection, a restart)', () => {
    const levels = [
      ...flat(0.36, 60),
      ...flat(0.52, 60),
      ...flat(0.68, 60),
      ...flat(0.85, 30),
      ...flat(0.6, 30),
    ];
    const { reasons } = feed([...levels, ...flat(0.75, 30)]);
    assert.equal(reasons.at(-1), null);
  });

  it('sees no step in a steady ramp or a GC sawtooth', () => {
    const ramp = Array.from({ length: 200 }, (_, i) => 0.3 + 0.003 * i);
    assert.ok(!feed(ramp).reasons.includes('step-growth'));
    const saw = Array.from({ length: 2000 }, (_, i) => 0.55 + 0.3 * ((i % 20) / 19));
    assert.ok(feed(saw).reasons.every((r) => r === null));
  });

  it('starts over when the limit changes, and stays about a kilobyte as JSON', () => {
    const { state, end } = feed([...flat(0.5, 100), ...flat(0.92, hours(13))]);
    let changed = state;
    let reason: GuardReason | null = null;
    for (let k = 0; k < 5; k++) {
      const observed = observeGuard(changed, 0.92, end + k * STEP, 2 * LIMIT, 1);
      changed = observed.state;
      reason = observed.reading.reason;
    }
    assert.equal(reason, 'near-limit', 'habituation against the old limit does not carry over');
    assert.ok(
      inLimitRaiseGrace(changed, end + hours(1) * STEP),
      'a raised limit: growth into it is expected',
    );
    assert.ok(!inLimitRaiseGrace(changed, end + hours(2.5) * STEP), 'for two hours');
    const lowered = observeGuard(changed, 0.5, end + hours(3) * STEP, LIMIT, 1).state;
    assert.equal(lowered.limitRaisedAt, changed!.limitRaisedAt, 'a lowered limit is no raise');
    assert.ok(!inLimitRaiseGrace(state, end), 'no raise, no grace');
    assert.ok(JSON.stringify(state).length < 1024, `${JSON.stringify(state).length} bytes`);
  });
});
