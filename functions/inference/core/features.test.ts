import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { extractFeatures, FEATURE_COUNT, FEATURE_NAMES } from './features.js';

interface TestVector {
  name: string;
  window: number[];
  features: number[];
}

interface Metadata {
  window: number;
  classifier: { features: string[] };
  testVectors: TestVector[];
}

const metadata = JSON.parse(
  readFileSync(new URL('../../../models/dist/metadata.json', import.meta.url), 'utf8'),
) as Metadata;

const TOLERANCE = 1e-4;

function assertClose(actual: Float32Array, expected: readonly number[], label: string): void {
  assert.equal(actual.length, expected.length, `${label}: feature count`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    const limit = TOLERANCE * Math.max(1, Math.abs(e));
    assert.ok(
      Math.abs(a - e) <= limit,
      `${label}: ${FEATURE_NAMES[i]} is ${a}, Python says ${e} (|diff| ${Math.abs(a - e)} > ${limit})`,
    );
  }
}

describe('extractFeatures', () => {
  it('has the feature order the classifier was trained with', () => {
    assert.deepEqual([...FEATURE_NAMES], metadata.classifier.features);
    assert.equal(FEATURE_COUNT, FEATURE_NAMES.length);
  });

  it('has test vectors of the model window length', () => {
    assert.ok(metadata.testVectors.length >= 8, 'expected at least 8 test vectors');
    for (const v of metadata.testVectors) {
      assert.equal(v.window.length, metadata.window, `${v.name}: window length`);
      assert.equal(v.features.length, FEATURE_COUNT, `${v.name}: feature count`);
    }
  });

  for (const v of metadata.testVectors) {
    it(`matches Python on test vector "${v.name}"`, () => {
      const out = new Float32Array(FEATURE_COUNT);
      extractFeatures(v.window, out, 0);
      assertClose(out, v.features, v.name);
      // the runtime keeps windows as Float32Array; the stored values are float32-exact
      const out32 = new Float32Array(FEATURE_COUNT);
      extractFeatures(Float32Array.from(v.window), out32, 0);
      assert.deepEqual(out32, out, `${v.name}: Float32Array input`);
    });
  }

  it('writes only its own slot of a batch buffer', () => {
    const vectors = metadata.testVectors.slice(0, 3);
    const batch = new Float32Array(FEATURE_COUNT * (vectors.length + 2)).fill(-7);
    vectors.forEach((v, k) => {
      extractFeatures(v.window, batch, FEATURE_COUNT * (k + 1));
    });
    assert.ok(
      batch.subarray(0, FEATURE_COUNT).every((x) => x === -7),
      'leading slot untouched',
    );
    assert.ok(
      batch.subarray(FEATURE_COUNT * (vectors.length + 1)).every((x) => x === -7),
      'trailing slot',
    );
    vectors.forEach((v, k) => {
      const start = FEATURE_COUNT * (k + 1);
      assertClose(batch.subarray(start, start + FEATURE_COUNT), v.features, `${v.name} in batch`);
    });
  });

  it('gives finite features for degenerate windows', () => {
    const out = new Float32Array(FEATURE_COUNT);
    for (const w of [
      new Array(64).fill(0),
      new Array(64).fill(1.2),
      Array.from({ length: 64 }, (_, i) => i / 63),
    ]) {
      extractFeatures(w, out, 0);
      assert.ok(
        out.every((x) => Number.isFinite(x)),
        `non-finite feature for ${w[0]}..${w[63]}`,
      );
    }
  });

  it('handles other window lengths, including an even number of diffs', () => {
    const out = new Float32Array(FEATURE_COUNT);
    const w = Array.from({ length: 33 }, (_, i) => 0.5 + 0.01 * Math.sin(i) + (i === 32 ? 0.3 : 0));
    extractFeatures(w, out, 0);
    assert.equal(out[FEATURE_NAMES.indexOf('jump_age')], 0, 'the newest jump is the largest');
    assert.ok(out[FEATURE_NAMES.indexOf('max_jump_z')]! > 10);
  });

  for (const width of [64, 33, 32]) {
    it(`gives windows one step apart exactly the features each gets on its own (window ${width})`, () => {
      // A noisy random walk quantised so that differences tie, with jumps and drops, as float32 like the runtime.
      let seed = 12345;
      const random = () => {
        seed = (seed * 16807) % 2147483647;
        return seed / 2147483647;
      };
      let level = 0.5;
      const series = Float32Array.from({ length: width + 300 }, (_, i) => {
        level += Math.round((random() - 0.5) * 8) / 400 + (i % 97 === 0 ? 0.2 : i % 89 === 0 ? -0.25 : 0);
        return level;
      });
      const sliding = new Float32Array(FEATURE_COUNT * 301);
      for (let end = width; end <= series.length; end++) {
        extractFeatures(series.subarray(end - width, end), sliding, FEATURE_COUNT * (end - width));
      }
      const unrelated = Array.from({ length: width }, (_, i) => Math.cos(i));
      const alone = new Float32Array(FEATURE_COUNT);
      for (let end = width; end <= series.length; end++) {
        extractFeatures(unrelated, new Float32Array(FEATURE_COUNT), 0);
        extractFeatures(Array.from(series.subarray(end - width, end)), alone, 0);
        const start = FEATURE_COUNT * (end - width);
        assert.deepEqual(sliding.subarray(start, start + FEATURE_COUNT), alone, `window ending at ${end}`);
      }
    });
  }

  it('rejects windows that are too short and slots outside the buffer', () => {
    assert.throws(
      () => extractFeatures(new Array(10).fill(0.5), new Float32Array(FEATURE_COUNT), 0),
      RangeError,
    );
    assert.throws(
      () => extractFeatures(new Array(64).fill(0.5), new Float32Array(FEATURE_COUNT), 1),
      RangeError,
    );
  });
});
