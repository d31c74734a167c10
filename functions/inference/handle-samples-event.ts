import { randomUUID } from 'node:crypto';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { ClusterMismatchError, UnmappedQueueError } from '../shared/clusters.js';
import {
  encodedBody,
  type PredictionDigest,
  SCHEMA_VERSION,
  type SeriesPrediction,
  type ShipperMessage,
  ShipperMessage as ShipperMessageSchema,
} from '../shared/contracts/index.js';
import { handleSqsBatch, type RecordValidator, sqsRecordValidator } from '../shared/lambda/sqs-batch.js';
import type { MalformedRecord } from '../shared/lambda/sqs-records.js';
import type { LoggerPort } from '../shared/logger.js';
import type { InferenceClusters } from './config.js';
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

/** Sends prediction digests towards the in-cluster relay: each to its own cluster's predictions queue. */
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
  /** Each cluster's queues; which samples queue is whose (a record's cluster is the queue it came from). */
  clusters: Pick<InferenceClusters, 'byCluster' | 'bySource'>;
  logger: LoggerPort;
  validator: RecordValidator<ShipperMessage>;
  metrics?: InferenceMetrics;
}

/**
 * One SQS batch from the clusters' samples queues: validate every record on its own, quarantine the malformed ones
 * in the DLQ of the queue they came from with their reason, refuse (dead-letter with `cluster-mismatch`) every
 * record whose body claims a cluster other than its queue's, run the rest through the inference core, and say which
 * records must be retried.
 *
 * The sender is authenticated, not the body: only cluster X's shipper may send to X's samples queue (IAM), so the
 * queue is the cluster. A compromised shipper of A writing `clusterId: B` is refused here instead of opening B's
 * incidents, feeding B's planner log text, and driving plans that B's executor would accept.
 */
export async function handleSamplesEvent(
  records: readonly SQSRecord[],
  deps: SamplesEventDeps,
): Promise<{ failures: Map<string, Error>; outcome: BatchOutcome }> {
  const clusterOf = new Map<string, string>();
  const unmapped = new Map<string, Error>();
  const mapped: SQSRecord[] = [];
  for (const record of records) {
    const cluster = deps.clusters.bySource.get(record.eventSourceARN);
    if (cluster === undefined) {
      unmapped.set(
        record.messageId,
        new UnmappedQueueError(`no cluster's samples queue is ${record.eventSourceARN} (CLUSTER_QUEUES)`),
      );
      continue;
    }
    clusterOf.set(record.messageId, cluster);
    mapped.push(record);
  }
  if (unmapped.size > 0) {
    deps.logger.error('records from a queue CLUSTER_QUEUES does not name: left for SQS to redrive', {
      count: unmapped.size,
    });
  }
  const batch = await handleSqsBatch(
    mapped,
    {
      validator: deps.validator,
      dlq: (record) => deps.clusters.byCluster.get(clusterOf.get(record.messageId)!)!.samplesDlqUrl,
      process: async (valid) => {
        const rejected = new Map<string, MalformedRecord['error']>();
        const accepted = valid.filter(({ recordId, message }) => {
          const cluster = clusterOf.get(recordId);
          if (message.clusterId === cluster) return true;
          rejected.set(
            recordId,
            new ClusterMismatchError(
              `record from cluster ${cluster}'s samples queue claims cluster ${message.clusterId}`,
            ),
          );
          return false;
        });
        const outcome = await processShipperRecords(accepted, deps.core);
        await relayPredictions(outcome, deps);
        return { retry: outcome.failures, rejected, outcome };
      },
    },
    deps,
  );
  deps.metrics?.recordBatch(batch.processed.outcome.stats, batch.records, batch.seconds);
  return { failures: new Map([...batch.failures, ...unmapped]), outcome: batch.processed.outcome };
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
