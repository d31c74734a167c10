import { randomUUID } from 'node:crypto';
import { BatchProcessor, EventType } from '@aws-lambda-powertools/batch';
import { parser } from '@aws-lambda-powertools/batch/parser';
import { SqsRecordSchema } from '@aws-lambda-powertools/parser/schemas/sqs';
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
import { describeError, MalformedMessageError } from '../shared/errors.js';
import { type MalformedRecord, quarantine } from '../shared/lambda/sqs-records.js';
import type { LoggerPort } from '../shared/logger.js';
import {
  type BatchOutcome,
  type InferenceDeps,
  processShipperRecords,
  type ShipperRecord,
} from './core/process-batch.js';
import type { InferenceMetrics } from './metrics.js';

/** A samples-queue body: plain or compressed JSON (see the wire codec) holding one shipper message. */
const ShipperBody = encodedBody(ShipperMessageSchema);

/**
 * The SQS record schema with our body in it, built once: given only `innerSchema`, Powertools extends the record
 * schema again for every record, and zod compiles each new object schema on its first parse.
 */
const ShipperRecordSchema = SqsRecordSchema.extend({ body: ShipperBody });

/**
 * Powertools' batch processor validates each record on its own against the record schema (parser integration), so
 * a malformed message fails alone. Valid records are collected rather than handled one by one, because the core
 * reads and writes every series of an invocation in one or two Redis round trips.
 */
export function createRecordValidator(logger: LoggerPort): BatchProcessor {
  return new BatchProcessor(EventType.SQS, { parser, schema: ShipperRecordSchema, logger });
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
  validator: BatchProcessor;
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
  const started = performance.now();
  const valid: ShipperRecord[] = [];
  deps.validator.register(
    [...records],
    (record: SQSRecord & { body: ShipperMessage }) => {
      valid.push({ recordId: record.messageId, message: record.body });
    },
    // A batch of nothing but malformed records is quarantined like any other, not thrown back at SQS whole.
    { throwOnFullBatchFailure: false },
  );
  const malformed: MalformedRecord[] = [];
  for (const [status, detail, record] of await deps.validator.process()) {
    if (status === 'fail')
      malformed.push({ record: record as SQSRecord, error: new MalformedMessageError(String(detail)) });
  }
  // Powertools would leave a malformed record to be retried until SQS redrives it without a reason; it is moved to
  // the DLQ now, with the reason attached, and only left for redrive if that move fails.
  const notQuarantined = await quarantine(deps.sqs, deps.samplesDlqUrl, malformed, deps.logger);
  const outcome = await processShipperRecords(valid, deps.core);
  await relayPredictions(outcome, deps);
  const failures = new Map(outcome.failures);
  for (const { record, error } of malformed)
    if (notQuarantined.has(record.messageId)) failures.set(record.messageId, error);
  if (failures.size > 0) {
    deps.logger.warn('records left for retry', {
      count: failures.size,
      reasons: [...new Set([...failures.values()].map((e) => describeError(e).code))],
    });
  }
  deps.metrics?.recordBatch(
    outcome.stats,
    {
      ok: records.length - failures.size - (malformed.length - notQuarantined.size),
      retried: failures.size,
      quarantined: malformed.length - notQuarantined.size,
    },
    (performance.now() - started) / 1000,
  );
  return { failures, outcome };
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
