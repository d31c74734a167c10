import { randomUUID } from 'node:crypto';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import {
  encodedBody,
  type PredictionDigest,
  SCHEMA_VERSION,
  type SeriesPrediction,
  type ShipperMessage,
  ShipperMessage as ShipperMessageSchema,
} from '../shared/contracts/index.js';
import { handleSqsBatch, type RecordValidator, sqsRecordValidator } from '../shared/lambda/sqs-batch.js';
import type { LoggerPort } from '../shared/logger.js';
import { type BatchOutcome, type InferenceDeps, processShipperRecords } from './core/process-batch.js';
import type { InferenceMetrics } from './metrics.js';

/** A samples-queue body: plain or compressed JSON (see the wire codec) holding one shipper message. */
const ShipperBody = encodedBody(ShipperMessageSchema);

/**
 * Each record validated on its own, so a malformed message fails alone. Valid records are collected rather than
 * handled one by one, because the core reads and writes every series of an invocation in one or two Redis round
 * trips.
 */
export function createRecordValidator(logger: LoggerPort): RecordValidator<ShipperMessage> {
  return sqsRecordValidator(ShipperBody, logger);
}

/** Sends prediction digests towards the in-cluster relay. */
export interface PredictionRelay {
  send(digests: readonly PredictionDigest[]): Promise<void>;
}

/** Predictions per digest: keeps a compressed digest well inside SQS's 256 KiB. */
const PREDICTIONS_PER_DIGEST = 400;

export function predictionDigests(
  predictions: ReadonlyMap<string, readonly SeriesPrediction[]>,
  modelVersion: string,
  invocationId: string,
): PredictionDigest[] {
  const digests: PredictionDigest[] = [];
  for (const [clusterId, list] of predictions) {
    for (let i = 0; i < list.length; i += PREDICTIONS_PER_DIGEST) {
      digests.push({
        schemaVersion: SCHEMA_VERSION,
        kind: 'prediction-digest',
        clusterId,
        digestId: `${invocationId}:${clusterId}:${i / PREDICTIONS_PER_DIGEST}`,
        modelVersion,
        predictions: list.slice(i, i + PREDICTIONS_PER_DIGEST),
      });
    }
  }
  return digests;
}

export interface SamplesEventDeps {
  core: InferenceDeps;
  /** Absent when no relay is deployed. */
  predictionRelay?: PredictionRelay;
  sqs: SQSClient;
  samplesDlqUrl: string;
  logger: LoggerPort;
  validator: RecordValidator<ShipperMessage>;
  metrics?: InferenceMetrics;
}

/**
 * One SQS batch from the samples queue: validate every record on its own, quarantine the malformed ones in the DLQ
 * with their reason, run the rest through the inference core, and say which records must be retried.
 */
export async function handleSamplesEvent(
  records: readonly SQSRecord[],
  deps: SamplesEventDeps,
): Promise<{ failures: Map<string, Error>; outcome: BatchOutcome }> {
  const batch = await handleSqsBatch(
    records,
    {
      validator: deps.validator,
      dlq: () => deps.samplesDlqUrl,
      process: async (valid) => {
        const outcome = await processShipperRecords(valid, deps.core);
        await relayPredictions(outcome, deps);
        return { retry: outcome.failures, outcome };
      },
    },
    deps,
  );
  deps.metrics?.recordBatch(batch.processed.outcome.stats, batch.records, batch.seconds);
  return { failures: batch.failures, outcome: batch.processed.outcome };
}

/**
 * Best effort on purpose: a digest is a snapshot that the next invocation replaces, so a failed send is logged and
 * counted, and never turns already-scored records into retries (which would score them twice).
 */
async function relayPredictions(outcome: BatchOutcome, deps: SamplesEventDeps): Promise<void> {
  if (!deps.predictionRelay || outcome.predictions.size === 0) return;
  const digests = predictionDigests(
    outcome.predictions,
    deps.core.scorer.metadata.modelVersion,
    randomUUID(),
  );
  try {
    await deps.predictionRelay.send(digests);
    deps.metrics?.predictionDigests.inc({ outcome: 'sent' }, digests.length);
  } catch (error) {
    deps.metrics?.predictionDigests.inc({ outcome: 'failed' }, digests.length);
    deps.logger.warn('prediction digests not relayed; the next invocation sends fresh ones', {
      error,
      digests: digests.length,
    });
  }
}
