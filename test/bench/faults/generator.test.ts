import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BENIGN_SHAPES,
  DEFAULT_SUITE,
  FAULT_SHAPES,
  generateSuite,
  type PodSeries,
  podDays,
  type SuiteOptions,
} from './generator.js';

const SMALL: SuiteOptions = { seed: 99, faultyPerShape: 3, benignPerShape: 2, benignDays: [1, 1.5] };
const small = generateSuite(SMALL);
const normalised = (s: PodSeries) => Array.from(s.values, (v, i) => v / s.limits[i]!);

describe('fault suite generator', () => {
  it('gives identical series for the same seed and different ones for another seed', () => {
    const again = generateSuite(SMALL);
    assert.deepEqual(again, small);
    const other = generateSuite({ ...SMALL, seed: 100 });
    assert.equal(other.length, small.length);
    assert.ok(
      other.every(
        (s, k) => s.values.length !== small[k]!.values.length || s.values[5] !== small[k]!.values[5],
      ),
    );
  });

  it('makes every shape, with the requested counts and unique ids', () => {
    for (const shape of FAULT_SHAPES) assert.equal(small.filter((s) => s.shape === shape).length, 3, shape);
    for (const shape of BENIGN_SHAPES) assert.equal(small.filter((s) => s.shape === shape).length, 2, shape);
    assert.equal(new Set(small.map((s) => s.id)).size, small.length);
  });

  it('labels faulty series: normal before onset, failure right after the last sample, near the limit by then', () => {
    for (const s of small.filter((x) => x.faulty)) {
      const u = normalised(s);
      // A pod that dies young has no history; a restart storm's history holds its earlier kills; a JVM sized
      // close to its limit peaks near it while healthy.
      if (s.shape !== 'leak_at_start')
        assert.ok(s.onsetIndex! >= 240, `${s.id}: at least 2 h of normal behaviour before the fault`);
      assert.ok(s.onsetIndex! < s.failureIndex!, s.id);
      assert.equal(s.values.length, s.failureIndex, `${s.id}: the series ends at the failure`);
      const healthyMax = s.shape === 'restart_storm' ? 1 : s.shape === 'jvm_xmx_near_limit' ? 0.9 : 0.8;
      assert.ok(Math.max(...u.slice(0, s.onsetIndex!)) < healthyMax, `${s.id}: healthy before onset`);
      assert.ok(Math.max(...u) < 1, `${s.id}: never at the limit before the failure`);
      // A chunk that does not fit can be loaded within one sample: the last sample is then its plateau.
      const closeBy = s.shape === 'cache_chunks_plateau' ? 0.6 : 0.85;
      assert.ok(
        u[u.length - 1]! > closeBy,
        `${s.id}: close to the limit just before the failure (${u.at(-1)})`,
      );
      assert.equal(s.resource, s.shape === 'cpu_ramp' ? 'cpu' : 'memory', s.id);
    }
  });

  it('keeps benign series unlabelled, several days long and under the limit', () => {
    for (const s of small.filter((x) => !x.faulty)) {
      assert.equal(s.onsetIndex, null);
      assert.equal(s.failureIndex, null);
      assert.ok(podDays(s) >= 1 && podDays(s) <= 1.5, s.id);
      const u = normalised(s);
      assert.ok(Math.max(...u) < (s.resource === 'cpu' ? 1 : 0.95), `${s.id}: max ${Math.max(...u)}`);
      assert.ok(Math.min(...u) > 0, s.id);
    }
  });

  it('raises the limit once mid-series, after which usage grows but stays under 0.8 of the new limit', () => {
    for (const s of small.filter((x) => x.shape === 'limit_raised')) {
      const changes = s.limits.map((l, i) => (i > 0 && l !== s.limits[i - 1] ? i : -1)).filter((i) => i >= 0);
      assert.equal(changes.length, 1, s.id);
      const at = changes[0]!;
      assert.ok(s.limits[at]! > 1.4 * s.limits[at - 1]!, s.id);
      const after = normalised(s).slice(at);
      assert.ok(Math.max(...after) < 0.85, s.id);
      const mean = (xs: Float64Array) => xs.reduce((a, b) => a + b, 0) / xs.length;
      const before = mean(s.values.subarray(at - 100, at));
      assert.ok(mean(s.values.subarray(-100)) > 1.05 * before, `${s.id}: usage grows into the new limit`);
    }
  });

  it('holds at least 100 benign pod-days in the default suite', () => {
    const days = generateSuite(DEFAULT_SUITE)
      .filter((s) => !s.faulty)
      .reduce((d, s) => d + podDays(s), 0);
    assert.ok(days >= 100, `${days} benign pod-days`);
  });
});
