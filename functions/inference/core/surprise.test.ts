import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  MEMORY_WEIGHT,
  ONSET_HOLD,
  observeSurprise,
  type SurpriseReading,
  type SurpriseState,
  seedSurprise,
  surpriseOfZ,
} from './surprise.js';

/** A deterministic, noise-like series around `level` with spread about 1. */
const noise = (n: number, level = 100) =>
  Array.from({ length: n }, (_, i) => level + Math.sin(i * 1.7) + 0.5 * Math.cos(i * 0.37));

function run(state: SurpriseState, values: number[]): { state: SurpriseState; readings: SurpriseReading[] } {
  const readings: SurpriseReading[] = [];
  for (const value of values) {
    const next = observeSurprise(state, value);
    state = next.state;
    readings.push(next.reading);
  }
  return { state, readings };
}

describe('surprise', () => {
  it('maps z to a log-scaled two-sided tail: 0 at the mean, rising, full at a one-in-a-trillion value', () => {
    assert.equal(surpriseOfZ(0), 0);
    // P(|Z| >= 1.96) = 0.05: -log10(0.05) / 12.
    assert.ok(Math.abs(surpriseOfZ(1.96) - Math.log10(20) / 12) < 1e-4);
    assert.equal(surpriseOfZ(-3), surpriseOfZ(3));
    assert.ok(surpriseOfZ(3) < surpriseOfZ(4) && surpriseOfZ(4) < surpriseOfZ(6));
    assert.equal(surpriseOfZ(7.5), 1);
    assert.equal(surpriseOfZ(1e6), 1);
  });

  it('seeds the history from the window and does not modify the state it reads', () => {
    const seeded = seedSurprise([1, 2, 3, 4]);
    assert.equal(seeded.mean, 2.5);
    assert.equal(seeded.variance, 1.25);
    const frozen = Object.freeze({ ...seeded });
    const { state } = observeSurprise(frozen, 10);
    assert.ok(Math.abs(state.mean - (2.5 + MEMORY_WEIGHT * 7.5)) < 1e-12);
  });

  it('keeps ordinary values unsurprising and reports a spike in full, once', () => {
    const history = noise(64);
    const { state, readings } = run(seedSurprise(history), noise(500).slice(64));
    assert.ok(Math.max(...readings.map((r) => r.level)) < 0.3);
    const spike = run(state, [140, ...noise(10)]);
    assert.equal(spike.readings[0]!.level, 1);
    assert.equal(spike.readings[0]!.onset, 1);
    assert.ok(spike.readings.slice(1).every((r) => r.onset === 0));
  });

  it('reports a persisting level shift at its onset and at most once per hold period after it', () => {
    const { state } = run(seedSurprise(noise(64)), noise(400).slice(64));
    const shifted = noise(3 * ONSET_HOLD, 110);
    const { readings } = run(state, shifted);
    assert.ok(readings[0]!.onset > 0.9);
    const onsets = readings.filter((r) => r.onset > 0.5).length;
    assert.ok(onsets <= Math.ceil(shifted.length / ONSET_HOLD), `${onsets} onsets for one shift`);
    // The history adapts: a long enough shift becomes the new normal.
    const adapted = run(state, noise(3000, 110)).readings.slice(-100);
    assert.ok(Math.max(...adapted.map((r) => r.level)) < 0.3);
  });

  it('gives a flat series a finite spread, so its first change is surprising rather than NaN', () => {
    const { readings } = run(seedSurprise(new Array(64).fill(5)), [5, 5, 5.5]);
    assert.deepEqual(
      readings.map((r) => r.level),
      [0, 0, 1],
    );
  });
});
