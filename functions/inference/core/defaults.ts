import type { HysteresisPolicy } from './hysteresis.js';

/**
 * `openAfter` counts samples whose forecast reaches the limit in time; how long classifier-only evidence must
 * persist, and from which probability, is the model's calibration (`metadata.classifier.incident`).
 */
export interface DetectionPolicy extends HysteresisPolicy {
  /** A forecast reaching the limit sooner than this counts as anomalous even if the shape looks normal. */
  timeToLimitAlertSeconds: number;
}

/**
 * The deployed function's policy when its environment sets none (config.ts), and so the one the benches, the
 * model card's plots and `kubepulse score` measure: a copy of these numbers would drift from what runs.
 */
export const DEFAULT_DETECTION_POLICY: Readonly<DetectionPolicy> = Object.freeze({
  openAfter: 2,
  closeAfter: 10,
  timeToLimitAlertSeconds: 1800,
});
