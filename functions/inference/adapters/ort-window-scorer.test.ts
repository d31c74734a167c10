import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import * as ortWeb from 'onnxruntime-web';
import { ModelContractError } from '../../shared/errors.js';
import { checkConsistency, ModelMetadata } from '../core/model-metadata.js';
import { loadModelBundle } from './model-bundle.js';
import { createOrtWindowScorer } from './ort-window-scorer.js';

const MODEL_DIR = 'models/dist';

interface TestVector {
  window: number[];
  /** After the metadata's output transform (add_last): what the scorer returns. */
  forecastAbsolute: number[];
  probability: number;
}

describe('window scorer on onnxruntime-web (WASM)', () => {
  it('reproduces the training pipeline’s ONNX outputs for every test vector, in one batched call', async () => {
    ortWeb.env.wasm.numThreads = 1;
    const bundle = await loadModelBundle(MODEL_DIR);
    const scorer = await createOrtWindowScorer(ortWeb, bundle);
    const raw = JSON.parse(await readFile(`${MODEL_DIR}/metadata.json`, 'utf8')) as {
      testVectors: TestVector[];
    };
    const vectors = raw.testVectors;
    assert.ok(vectors.length >= 4);
    const width = bundle.metadata.window;
    const windows = new Float32Array(vectors.length * width);
    for (const [i, v] of vectors.entries()) windows.set(v.window, i * width);
    const { forecast, probability } = await scorer.score(windows, vectors.length);
    const horizons = bundle.metadata.horizons.length;
    vectors.forEach((v, i) => {
      assert.ok(
        Math.abs(probability[i]! - v.probability) < 1e-4,
        `probability ${probability[i]} vs ${v.probability}`,
      );
      v.forecastAbsolute.forEach((expected, h) => {
        assert.ok(
          Math.abs(forecast[i * horizons + h]! - expected) < 1e-4,
          `forecast[${h}] ${forecast[i * horizons + h]} vs ${expected}`,
        );
      });
    });
  });

  it('refuses a model file whose hash does not match its metadata', async () => {
    const raw = JSON.parse(await readFile(`${MODEL_DIR}/metadata.json`, 'utf8'));
    const metadata = ModelMetadata.parse(raw);
    assert.throws(() => checkConsistency({ ...metadata, window: metadata.window + 1 }), ModelContractError);
    assert.throws(
      () => checkConsistency({ ...metadata, classifier: { ...metadata.classifier, features: ['last'] } }),
      ModelContractError,
    );
  });
});
