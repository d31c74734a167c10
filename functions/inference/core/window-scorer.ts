import type * as OrtApi from 'onnxruntime-web';
import { extractFeatures, FEATURE_NAMES } from './features.js';
import type { ModelBundle, ModelMetadata } from './model-metadata.js';

/** The part of onnxruntime's API both onnxruntime-web and onnxruntime-node share. */
export type OrtModule = Pick<typeof OrtApi, 'InferenceSession' | 'Tensor'>;

export interface WindowScores {
  /** Forecast in normalised units, `count * horizons.length`, row-major. */
  forecast: Float32Array;
  /** P(anomalous) per window. */
  probability: Float32Array;
}

/**
 * Scores many normalised windows with one call per model. The forecaster sees each window relative to its
 * last value (so it learns shapes, not levels); its output is shifted back here.
 */
export class WindowScorer {
  readonly metadata: ModelMetadata;
  private readonly featureCount = FEATURE_NAMES.length;

  private constructor(
    private readonly ort: OrtModule,
    private readonly forecaster: OrtApi.InferenceSession,
    private readonly classifier: OrtApi.InferenceSession,
    bundle: ModelBundle,
  ) {
    this.metadata = bundle.metadata;
  }

  /** `executionProvider`: 'wasm' for onnxruntime-web (production), 'cpu' for onnxruntime-node (the reference). */
  static async create(
    ort: OrtModule,
    bundle: ModelBundle,
    executionProvider: 'wasm' | 'cpu' = 'wasm',
  ): Promise<WindowScorer> {
    const options: OrtApi.InferenceSession.SessionOptions = {
      graphOptimizationLevel: 'all',
      executionProviders: [executionProvider],
    };
    const [forecaster, classifier] = await Promise.all([
      ort.InferenceSession.create(bundle.forecasterBytes, options),
      ort.InferenceSession.create(bundle.classifierBytes, options),
    ]);
    return new WindowScorer(ort, forecaster, classifier, bundle);
  }

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

  /** The model calls alone: one onnxruntime run per model (what the benchmark's model-only figure times). */
  async run(inputs: ModelInputs): Promise<ModelOutputs> {
    const { forecaster, classifier } = this.metadata;
    const width = this.metadata.window;
    const [forecastOut, classifierOut] = await Promise.all([
      this.forecaster.run({
        [forecaster.input.name]: new this.ort.Tensor('float32', inputs.relative, [inputs.count, width]),
      }),
      this.classifier.run({
        [classifier.input.name]: new this.ort.Tensor('float32', inputs.features, [
          inputs.count,
          this.featureCount,
        ]),
      }),
    ]);
    return {
      forecast: forecastOut[forecaster.output.name]!.data as Float32Array,
      probabilities: classifierOut[classifier.outputs.probabilities.name]!.data as Float32Array,
    };
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

export interface ModelInputs {
  count: number;
  relative: Float32Array;
  features: Float32Array;
}

export interface ModelOutputs {
  forecast: Float32Array;
  probabilities: Float32Array;
}
