import { pathToFileURL } from 'node:url';
import type * as OrtApi from 'onnxruntime-web';
import { FEATURE_NAMES } from '../core/features.js';
import type { ModelBundle, ModelMetadata } from '../core/model-metadata.js';
import type { ModelInputs, ModelOutputs, ModelRunnerPort } from '../core/ports.js';
import { WindowScorer } from '../core/window-scorer.js';

/** The part of onnxruntime's API both onnxruntime-web and onnxruntime-node share. */
export type OrtModule = Pick<typeof OrtApi, 'InferenceSession' | 'Tensor'>;

/** onnxruntime-web with one thread (Lambda gives no SharedArrayBuffer workers) and its files where we ship them. */
export async function loadOrtWeb(wasmDir: string | undefined): Promise<OrtModule> {
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = 1;
  if (wasmDir) ort.env.wasm.wasmPaths = pathToFileURL(`${wasmDir.replace(/\/$/, '')}/`).href;
  return ort;
}

/**
 * The window scorer with its two models in onnxruntime sessions. `executionProvider`: 'wasm' for
 * onnxruntime-web (production), 'cpu' for onnxruntime-node (the reference).
 */
export async function createOrtWindowScorer(
  ort: OrtModule,
  bundle: ModelBundle,
  executionProvider: 'wasm' | 'cpu' = 'wasm',
): Promise<WindowScorer> {
  return new WindowScorer(bundle.metadata, await OrtModelRunner.create(ort, bundle, executionProvider));
}

/** One onnxruntime session per model, each run once per batch. */
export class OrtModelRunner implements ModelRunnerPort {
  private readonly featureCount = FEATURE_NAMES.length;

  private constructor(
    private readonly ort: OrtModule,
    private readonly forecaster: OrtApi.InferenceSession,
    private readonly classifier: OrtApi.InferenceSession,
    private readonly metadata: ModelMetadata,
  ) {}

  static async create(
    ort: OrtModule,
    bundle: ModelBundle,
    executionProvider: 'wasm' | 'cpu',
  ): Promise<OrtModelRunner> {
    const options: OrtApi.InferenceSession.SessionOptions = {
      graphOptimizationLevel: 'all',
      executionProviders: [executionProvider],
    };
    const [forecaster, classifier] = await Promise.all([
      ort.InferenceSession.create(bundle.forecasterBytes, options),
      ort.InferenceSession.create(bundle.classifierBytes, options),
    ]);
    return new OrtModelRunner(ort, forecaster, classifier, bundle.metadata);
  }

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
}
