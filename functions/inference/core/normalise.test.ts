import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PodInventory } from '../../shared/contracts/index.js';
import { chooseNormalisation, EXHAUSTION_LEVEL, OBSERVED_MAX_HEADROOM, secondsToLimit } from './normalise.js';
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

describe('window summary', () => {
  it('reports the slope per minute of a straight line', () => {
    const window = Array.from({ length: 10 }, (_, i) => 0.5 + 0.01 * i);
    const summary = summariseWindow(window, 1000, 30);
    assert.equal(summary.slopePerMinute, 0.02);
    assert.equal(summary.firstAt, 1000 - 9 * 30);
    assert.equal(summary.max, 0.59);
  });
});
