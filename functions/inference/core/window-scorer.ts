import { extractFeatures, FEATURE_NAMES } from './features.js';
import type { ModelMetadata } from './model-metadata.js';
import type { ModelInputs, ModelOutputs, ModelRunnerPort, ScorerPort, WindowScores } from './ports.js';

/**
 * Scores many normalised windows with one call per model. The forecaster sees each window relative to its
 * last value (so it learns shapes, not levels); its output is shifted back here. The models themselves run
 * behind `ModelRunnerPort` (onnxruntime in adapters/ort-window-scorer.ts).
 */
export class WindowScorer implements ScorerPort {
  private readonly featureCount = FEATURE_NAMES.length;

  constructor(
    readonly metadata: ModelMetadata,
    private readonly models: ModelRunnerPort,
  ) {}

  get window(): number {
    return this.metadata.window;
  }

  /** `windows` holds `count` windows of `metadata.window` values each, row-major, already normalised. */
  async score(windows: Float32Array, count: number): Promise<WindowScores> {
    if (count === 0) return { forecast: new Float32Array(0), probability: new Float32Array(0) };
    const inputs = this.prepare(windows, count);
    const outputs = await this.run(inputs);
    return this.interpret(windows, count, outputs);
  }

  /** The models' inputs for `count` windows: each window relative to its last value, and its features. */
  prepare(windows: Float32Array, count: number): ModelInputs {
    const width = this.metadata.window;
    if (windows.length < count * width)
      throw new RangeError(`need ${count * width} values, got ${windows.length}`);
    const relative = new Float32Array(count * width);
    const features = new Float32Array(count * this.featureCount);
    for (let i = 0; i < count; i++) {
      const row = windows.subarray(i * width, (i + 1) * width);
      const last = row[width - 1]!;
      for (let j = 0; j < width; j++) relative[i * width + j] = row[j]! - last;
      extractFeatures(row, features, i * this.featureCount);
    }
    return { count, relative, features };
  }

  /** The model calls alone: one run per model (what the benchmark's model-only figure times). */
  run(inputs: ModelInputs): Promise<ModelOutputs> {
    return this.models.run(inputs);
  }

  private interpret(windows: Float32Array, count: number, outputs: ModelOutputs): WindowScores {
    const width = this.metadata.window;
    const horizons = this.metadata.horizons.length;
    const forecast = new Float32Array(outputs.forecast);
    for (let i = 0; i < count; i++) {
      const last = windows[i * width + width - 1]!;
      for (let h = 0; h < horizons; h++) forecast[i * horizons + h]! += last;
    }
    const { anomalousColumn } = this.metadata.classifier.outputs.probabilities;
    const probability = new Float32Array(count);
    for (let i = 0; i < count; i++) probability[i] = outputs.probabilities[i * 2 + anomalousColumn]!;
    return { forecast, probability };
  }
}
