import { z } from 'zod';
import { ModelContractError } from '../../shared/errors.js';
import { FEATURE_NAMES } from './features.js';

/** A tensor as the metadata describes it; the batch dimension is symbolic ("N"). */
const TensorSpec = z.object({
  name: z.string().min(1),
  shape: z.array(z.union([z.number().int().positive(), z.string()])),
  dtype: z.string(),
});

/** The metadata file written by models/kubepulse_models/train.py, as far as this code relies on it. */
export const ModelMetadata = z.object({
  schemaVersion: z.literal(1),
  modelVersion: z.string().min(1),
  window: z.number().int().min(8).max(1024),
  stepSeconds: z.number().int().positive(),
  horizons: z.array(z.number().int().positive()).min(1),
  forecaster: z.object({
    file: z.string().min(1),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    input: TensorSpec.extend({ dtype: z.literal('float32') }),
    output: TensorSpec.extend({ dtype: z.literal('float32') }),
    inputTransform: z.literal('subtract_last'),
    outputTransform: z.literal('add_last'),
    residualStd: z.array(z.number().nonnegative()),
  }),
  classifier: z.object({
    file: z.string().min(1),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    input: TensorSpec.extend({ dtype: z.literal('float32') }),
    outputs: z.object({
      label: TensorSpec,
      probabilities: TensorSpec.extend({
        dtype: z.literal('float32'),
        anomalousColumn: z.number().int().min(0),
      }),
    }),
    features: z.array(z.string()).min(1),
    /** Per window: the best-F1 cut on validation windows (reported, not what opens incidents). */
    threshold: z.number().min(0).max(1),
    /**
     * Per incident: classifier-only evidence opens one after `openAfter` consecutive windows with
     * P(anomalous) >= `threshold`, calibrated on long benign series for a false-incident budget.
     */
    incident: z.object({
      threshold: z.number().min(0).max(1),
      openAfter: z.number().int().min(1),
    }),
  }),
});
export type ModelMetadata = z.infer<typeof ModelMetadata>;

export interface ModelBundle {
  metadata: ModelMetadata;
  forecasterBytes: Uint8Array;
  classifierBytes: Uint8Array;
}

/** The metadata file's content as this code relies on it, or a ModelContractError saying what differs. */
export function parseModelMetadata(raw: unknown): ModelMetadata {
  const parsed = ModelMetadata.safeParse(raw);
  if (!parsed.success) {
    throw new ModelContractError(
      `model metadata does not match the expected contract: ${z.prettifyError(parsed.error)}`,
    );
  }
  return parsed.data;
}

export function checkConsistency(metadata: ModelMetadata): void {
  const problems: string[] = [];
  const { forecaster, classifier, window, horizons } = metadata;
  if (forecaster.input.shape.at(-1) !== window) {
    problems.push(`forecaster input width ${forecaster.input.shape.at(-1)} != window ${window}`);
  }
  if (forecaster.output.shape.at(-1) !== horizons.length) {
    problems.push(`forecaster output width ${forecaster.output.shape.at(-1)} != ${horizons.length} horizons`);
  }
  if (forecaster.residualStd.length !== horizons.length) problems.push('residualStd length != horizons');
  if (classifier.input.shape.at(-1) !== classifier.features.length) {
    problems.push('classifier input width != number of features');
  }
  if (classifier.outputs.probabilities.shape.at(-1) !== 2)
    problems.push('classifier must output two class probabilities');
  if (JSON.stringify(classifier.features) !== JSON.stringify(FEATURE_NAMES)) {
    problems.push(
      `classifier features ${classifier.features.join(',')} != code's ${FEATURE_NAMES.join(',')}`,
    );
  }
  if (horizons.some((h, i) => i > 0 && h <= horizons[i - 1]!)) problems.push('horizons must increase');
  if (problems.length > 0)
    throw new ModelContractError(`model metadata inconsistent: ${problems.join('; ')}`);
}
