import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { firingStarts } from './alert-rule.js';
import { predictLinear, predictLinearHolds, staticThresholdHolds } from './prometheus.js';

const times = (n: number) => Array.from({ length: n }, (_, i) => 1_000_000 + 30 * i);

describe('Prometheus baselines', () => {
  it('predict_linear extrapolates a straight line exactly, 1800 s past the evaluation time', () => {
    const t = times(40);
    const values = t.map((x) => 100 + 0.01 * (x - t[0]!));
    const predicted = predictLinear({ times: t, values });
    assert.ok(Number.isNaN(predicted[0]!), 'one sample gives no value');
    for (let i = 1; i < 40; i++) assert.ok(Math.abs(predicted[i]! - (values[i]! + 18)) < 1e-9, `at ${i}`);
  });

  it('predict_linear only sees the left-open 10 minute range (20 samples at 30 s)', () => {
    const t = times(30);
    const values = t.map((_, i) => (i === 5 ? 1000 : 50));
    const predicted = predictLinear({ times: t, values });
    assert.notEqual(predicted[24], 50, 'the outlier is 570 s back: inside the range');
    assert.equal(predicted[25], 50, 'the outlier is exactly 600 s back: outside');
  });

  it('predict_linear fires on a line that will cross the limit within 1800 s, not on a flat one or a slower line', () => {
    const t = times(60);
    const limit = t.map(() => 1000);
    const crossing = t.map((x) => 500 + 0.5 * (x - t[0]!)); // reaches 1000 after 1000 s
    const slow = t.map((x) => 100 + 0.1 * (x - t[0]!)); // at most ~457 + 180 by the end
    const flat = t.map(() => 990);
    assert.ok(predictLinearHolds({ times: t, values: crossing, limits: limit }).slice(1).every(Boolean));
    assert.ok(!predictLinearHolds({ times: t, values: slow, limits: limit }).some(Boolean));
    assert.ok(!predictLinearHolds({ times: t, values: flat, limits: limit }).some(Boolean));
  });

  it('the static rule holds strictly above 90 % of the limit in force at each sample', () => {
    const holds = staticThresholdHolds({
      times: times(4),
      values: [899, 900, 901, 901],
      limits: [1000, 1000, 1000, 2000],
    });
    assert.deepEqual(holds, [false, false, true, false]);
  });

  it('fires an alert once its expression has held for 2 minutes, and each episode is one incident', () => {
    const t = times(20);
    const holds = [
      false,
      true,
      true,
      true,
      true,
      false,
      true,
      true,
      true,
      true,
      true,
      true,
      true,
      false,
      false,
      true,
      true,
      true,
      true,
      true,
    ];
    // episode 1 holds for 90 s only; episode 2 holds from t[6], fires at t[10]; episode 3 from t[15], fires at t[19]
    assert.deepEqual(firingStarts(holds, t, 120), [t[10], t[19]]);
    assert.deepEqual(firingStarts(holds, t, 0), [t[1], t[6], t[15]]);
  });
});
