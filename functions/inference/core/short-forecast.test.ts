import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SHORT_FIT, shortForecast } from './short-forecast.js';

const HORIZONS = [2, 5, 10, 20, 40, 60];
const FLOOR = [0.026, 0.032, 0.041, 0.053, 0.072, 0.09];
const STEP = 30;
const wobble = (i: number) => 0.004 * Math.sin(i * 1.9);

describe('short-window forecast', () => {
  it('follows a line and claims a breach when a leak reaches the limit within ten minutes', () => {
    const leak = Array.from({ length: 12 }, (_, i) => 0.5 + 0.02 * i + wobble(i));
    const { forecast, claims } = shortForecast(leak, HORIZONS, FLOOR, 64, STEP, 1);
    assert.ok(Math.abs(forecast[2]! - (0.72 + 0.2)) < 0.03, `10 steps ahead: ${forecast[2]}`);
    assert.ok(claims, 'at 0.72 rising 0.02 a step, the limit is 14 steps (7 minutes) away');
  });

  it('claims nothing for a leak that is far from the limit, a flat series or a noisy one', () => {
    const slow = Array.from({ length: 20 }, (_, i) => 0.3 + 0.002 * i + wobble(i));
    assert.equal(shortForecast(slow, HORIZONS, FLOOR, 64, STEP, 1).claims, false);
    const flat = Array.from({ length: 20 }, (_, i) => 0.6 + wobble(i));
    assert.equal(shortForecast(flat, HORIZONS, FLOOR, 64, STEP, 1).claims, false);
    const noisy = Array.from({ length: 10 }, (_, i) => 0.8 + (i % 2 ? 0.1 : -0.1) + 0.001 * i);
    assert.equal(
      shortForecast(noisy, HORIZONS, FLOOR, 64, STEP, 1).claims,
      false,
      'a slope within its error',
    );
  });

  it('claims nothing for a warm-up that levels off, however steep its start', () => {
    const warmup = Array.from({ length: 16 }, (_, i) => 0.05 + 0.65 * (1 - Math.exp(-(i + 1) / 5)));
    assert.equal(shortForecast(warmup, HORIZONS, FLOOR, 64, STEP, 1).claims, false);
  });

  it('has a band that widens with the horizon, is never narrower than the models’, and narrows with samples', () => {
    const series = (n: number) => Array.from({ length: n }, (_, i) => 0.4 + 0.005 * i + 3 * wobble(i));
    const few = shortForecast(series(10), HORIZONS, FLOOR, 64, STEP, 1).spread;
    const more = shortForecast(series(SHORT_FIT), HORIZONS, FLOOR, 64, STEP, 1).spread;
    for (let h = 0; h < HORIZONS.length; h++) {
      assert.ok(few[h]! >= FLOOR[h]! * Math.sqrt(64 / 10), `horizon ${h}`);
      if (h > 0) assert.ok(few[h]! >= few[h - 1]!, `widens at horizon ${h}`);
    }
    assert.ok(few.at(-1)! > more.at(-1)!, `10 samples ${few.at(-1)} vs ${SHORT_FIT}: ${more.at(-1)}`);
    assert.ok(few.at(-1)! > FLOOR.at(-1)!, 'ten samples are less sure than the models at 30 minutes');
    const full = shortForecast(series(63), HORIZONS, FLOOR, 64, STEP, 1).spread;
    assert.ok(Math.abs(full.at(-1)! - FLOOR.at(-1)!) < 0.01, `meets the models' band: ${full.at(-1)}`);
  });
});
