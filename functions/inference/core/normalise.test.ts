import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PodInventory } from '../../shared/contracts/index.js';
import {
  chooseNormalisation,
  EXHAUSTION_LEVEL,
  OBSERVED_MAX_HEADROOM,
  secondsToLimit,
  secondsToLimitAtPeaks,
} from './normalise.js';
import { summariseWindow } from './window-summary.js';

const pod = (limits: object, requests: object): PodInventory => ({
  namespace: 'shop',
  pod: 'web-1',
  labels: {},
  containers: [{ name: 'app', limits, requests, restartCount: 0 }],
});

describe('normalisation basis', () => {
  it('prefers the limit, then the request, then the observed maximum with headroom', () => {
    assert.deepEqual(
      chooseNormalisation('memory', 'app', pod({ memoryBytes: 512 }, { memoryBytes: 256 }), [1]),
      {
        basis: 'limit',
        denominator: 512,
      },
    );
    assert.deepEqual(chooseNormalisation('cpu', 'app', pod({}, { cpuCores: 0.5 }), [0.1]), {
      basis: 'request',
      denominator: 0.5,
    });
    assert.deepEqual(chooseNormalisation('memory', 'app', null, [10, 40, 20]), {
      basis: 'observed-max',
      denominator: 40 * OBSERVED_MAX_HEADROOM,
    });
  });

  it('does not take another container’s limit', () => {
    const basis = chooseNormalisation('memory', 'sidecar', pod({ memoryBytes: 512 }, {}), [100]);
    assert.equal(basis.basis, 'observed-max');
  });
});

describe('time to limit', () => {
  const horizons = [60, 300, 600];
  it('interpolates between the last value and the first forecast point at or above the limit', () => {
    assert.equal(secondsToLimit(0.9, [0.95, 1.1, 1.2], horizons), 60 + (0.05 / 0.15) * 240);
  });
  it('is zero at or above the limit and null when the forecast stays below', () => {
    assert.equal(secondsToLimit(1.01, [1, 1, 1], horizons), 0);
    assert.equal(secondsToLimit(0.5, [0.6, 0.7, 0.8], horizons), null);
  });
  it('counts CPU as exhausted where throttling starts, memory at the limit itself', () => {
    const cpu = EXHAUSTION_LEVEL.cpu;
    assert.ok(cpu < 1 && EXHAUSTION_LEVEL.memory === 1);
    assert.equal(secondsToLimit(0.9, [0.93, 0.97, 0.99], horizons), null);
    const toThrottling = secondsToLimit(0.9, [0.93, 0.97, 0.99], horizons, cpu)!;
    assert.ok(Math.abs(toThrottling - (60 + ((cpu - 0.93) / (0.97 - 0.93)) * 240)) < 1e-6, `${toThrottling}`);
    assert.equal(secondsToLimit(cpu, [cpu, cpu, cpu], horizons, cpu), 0);
  });
});

describe('time to limit at the peaks', () => {
  const horizons = [60, 300, 600];
  // A GC sawtooth: the heap grows 0.65 → 0.8 → 0.9, then a collection drops it back to 0.65.
  const sawtooth = Array.from({ length: 64 }, (_, i) => [0.65, 0.8, 0.9][i % 3]!);

  it('sees the peaks reach the limit while the forecast mean stays below it', () => {
    const risingMean = [0.84, 0.9, 0.96];
    assert.equal(secondsToLimit(0.8, risingMean, horizons), null);
    // The peaks sit about 0.12 above the mean: the envelope is about 0.96 at 60 s and 1.02 at 300 s.
    const atPeaks = secondsToLimitAtPeaks(sawtooth, risingMean, horizons);
    assert.ok(atPeaks !== null && atPeaks > 60 && atPeaks < 300, `${atPeaks}`);
  });

  it('claims nothing when the peaks stay under the limit', () => {
    assert.equal(secondsToLimitAtPeaks(sawtooth, [0.8, 0.8, 0.8], horizons), null);
  });

  it('leaves a rise that never falls back to the mean forecast', () => {
    const rise = Array.from({ length: 64 }, (_, i) => 0.5 + 0.005 * i);
    const bendingUp = Array.from({ length: 64 }, (_, i) => 0.5 + 0.0001 * i * i);
    const forecast = [0.95, 0.99, 1.02];
    assert.equal(secondsToLimitAtPeaks(rise, forecast, horizons), null);
    assert.equal(secondsToLimitAtPeaks(bendingUp, forecast, horizons), null);
  });

  it('does not take a single spike for recurring peaks', () => {
    const spiked = new Array(64).fill(0.6);
    spiked[40] = 0.95;
    assert.equal(secondsToLimitAtPeaks(spiked, [0.62, 0.66, 0.7], horizons), null);
  });
});

describe('window summary', () => {
  it('reports the slope per minute of a straight line', () => {
    const window = Array.from({ length: 10 }, (_, i) => 0.5 + 0.01 * i);
    const summary = summariseWindow(window, 1000, 30);
    assert.equal(summary.slopePerMinute, 0.02);
    assert.equal(summary.firstAt, 1000 - 9 * 30);
    assert.equal(summary.max, 0.59);
  });
});
