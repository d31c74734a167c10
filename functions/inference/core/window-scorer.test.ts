import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { FEATURE_COUNT } from './features.js';
import { ModelMetadata } from './model-metadata.js';
import type { ModelInputs, ModelOutputs, ModelRunnerPort } from './ports.js';
import { WindowScorer } from './window-scorer.js';

const metadata = ModelMetadata.parse(
  JSON.parse(readFileSync(new URL('../../../models/dist/metadata.json', import.meta.url), 'utf8')),
);

/** Stands in for the models: records what it was given and answers with fixed outputs. */
class RecordingRunner implements ModelRunnerPort {
  seen: ModelInputs[] = [];
  constructor(private readonly outputs: ModelOutputs) {}
  async run(inputs: ModelInputs): Promise<ModelOutputs> {
    this.seen.push(inputs);
    return this.outputs;
  }
}

describe('window scorer behind its model port', () => {
  const width = metadata.window;
  const horizons = metadata.horizons.length;
  const { anomalousColumn } = metadata.classifier.outputs.probabilities;

  it('gives the models each window relative to its last value, and shifts the forecast back', async () => {
    const count = 2;
    const windows = new Float32Array(count * width);
    for (let i = 0; i < windows.length; i++)
      windows[i] = 0.25 + (i % width) / 256 + Math.floor(i / width) / 8;
    const forecast = new Float32Array(count * horizons).fill(0.5);
    const probabilities = new Float32Array(count * 2);
    probabilities[anomalousColumn] = 0.75;
    probabilities[2 + anomalousColumn] = 0.125;
    const runner = new RecordingRunner({ forecast, probabilities });
    const scores = await new WindowScorer(metadata, runner).score(windows, count);

    const [inputs] = runner.seen;
    assert.equal(runner.seen.length, 1, 'one model call for the whole batch');
    assert.equal(inputs!.count, count);
    assert.equal(inputs!.features.length, count * FEATURE_COUNT);
    for (let i = 0; i < count; i++) {
      const last = windows[i * width + width - 1]!;
      assert.equal(inputs!.relative[i * width + width - 1], 0);
      assert.equal(inputs!.relative[i * width], windows[i * width]! - last);
      for (let h = 0; h < horizons; h++)
        assert.equal(scores.forecast[i * horizons + h], Math.fround(0.5 + last));
    }
    assert.deepEqual(Array.from(scores.probability), [0.75, 0.125]);
    assert.deepEqual(
      Array.from(forecast),
      new Array(count * horizons).fill(0.5),
      "the models' output is not changed",
    );
  });

  it('calls no model for an empty batch', async () => {
    const runner = new RecordingRunner({ forecast: new Float32Array(0), probabilities: new Float32Array(0) });
    const scores = await new WindowScorer(metadata, runner).score(new Float32Array(0), 0);
    assert.equal(runner.seen.length, 0);
    assert.equal(scores.probability.length, 0);
  });
});
