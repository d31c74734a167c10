import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { ShipperMessage } from '../shared/contracts/index.js';
import { describeError } from '../shared/errors.js';
import type { LoggerPort } from '../shared/logger.js';
import { parseRecords, quarantine } from '../shared/sqs-records.js';
import { type BatchOutcome, type InferenceDeps, processShipperRecords } from './core/process-batch.js';
import type { InferenceMetrics } from './metrics.js';

export interface SamplesEventDeps {
  core: InferenceDeps;
  sqs: SQSClient;
  samplesDlqUrl: string;
  logger: LoggerPort;
  metrics?: InferenceMetrics;
}

/**
 * One SQS batch from the samples queue: validate every record on its own, quarantine the malformed ones with
 * their reason, run the rest through the inference core, and say which records must be retried.
 */
export async function handleSamplesEvent(
  records: readonly SQSRecord[],
  deps: SamplesEventDeps,
): Promise<{ failures: Map<string, Error>; outcome: BatchOutcome }> {
  const started = performance.now();
  const { valid, malformed } = parseRecords(records, ShipperMessage);
  const notQuarantined = await quarantine(deps.sqs, deps.samplesDlqUrl, malformed, deps.logger);
  const outcome = await processShipperRecords(
    valid.map(({ record, message }) => ({ recordId: record.messageId, message })),
    deps.core,
  );
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
