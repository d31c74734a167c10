import { BatchProcessor, EventType } from '@aws-lambda-powertools/batch';
import { parser } from '@aws-lambda-powertools/batch/parser';
import { SqsRecordSchema } from '@aws-lambda-powertools/parser/schemas/sqs';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { Alert, encodedBody } from '../shared/contracts/index.js';
import { describeError, MalformedMessageError } from '../shared/errors.js';
import { type MalformedRecord, quarantine } from '../shared/lambda/sqs-records.js';
import type { LoggerPort } from '../shared/logger.js';
import {
  type AlertRecord,
  type AlertsOutcome,
  deliverAlerts,
  type NotifierDeps,
} from './core/deliver-alerts.js';
import type { NotifierMetrics } from './metrics.js';

/** An alerts-queue body: plain or compressed JSON (see the wire codec) holding one alert. */
const AlertBody = encodedBody(Alert);

// Built once: given only `innerSchema`, Powertools extends the record schema again for every record.
const AlertRecordSchema = SqsRecordSchema.extend({ body: AlertBody });

/** Powertools' batch processor validates each record on its own, so one malformed alert fails alone. */
export function createRecordValidator(logger: LoggerPort): BatchProcessor {
  return new BatchProcessor(EventType.SQS, { parser, schema: AlertRecordSchema, logger });
}

export interface AlertsEventDeps {
  core: NotifierDeps;
  sqs: SQSClient;
  alertsDlqUrl: string;
  logger: LoggerPort;
  validator: BatchProcessor;
  metrics?: NotifierMetrics;
}

/**
 * One SQS batch from the alerts queue: validate every record, deliver the valid alerts, dead-letter (with the
 * reason) what is malformed or was refused by a destination, and say which records must be retried.
 */
export async function handleAlertsEvent(
  records: readonly SQSRecord[],
  deps: AlertsEventDeps,
  deadline: number,
): Promise<{ failures: Map<string, Error>; outcome: AlertsOutcome }> {
  const started = performance.now();
  const byId = new Map(records.map((record) => [record.messageId, record]));
  const valid: AlertRecord[] = [];
  deps.validator.register(
    [...records],
    (record: SQSRecord & { body: Alert }) => {
      valid.push({ recordId: record.messageId, alert: record.body });
    },
    // A batch of nothing but malformed records is quarantined like any other, not thrown back at SQS whole.
    { throwOnFullBatchFailure: false },
  );
  const unusable: MalformedRecord[] = [];
  for (const [status, detail, record] of await deps.validator.process()) {
    if (status === 'fail')
      unusable.push({ record: record as SQSRecord, error: new MalformedMessageError(String(detail)) });
  }
  const outcome = await deliverAlerts(valid, deps.core, deadline);
  for (const [recordId, error] of outcome.rejected) {
    unusable.push({ record: byId.get(recordId)!, error });
  }
  const notQuarantined = await quarantine(deps.sqs, deps.alertsDlqUrl, unusable, deps.logger);
  const failures = new Map<string, Error>(outcome.retry);
  for (const { record, error } of unusable)
    if (notQuarantined.has(record.messageId)) failures.set(record.messageId, error);
  if (failures.size > 0) {
    deps.logger.warn('records left for retry', {
      count: failures.size,
      reasons: [...new Set([...failures.values()].map((e) => describeError(e).code))],
    });
  }
  const quarantined = unusable.length - notQuarantined.size;
  deps.metrics?.recordBatch(
    outcome.deliveries,
    { ok: records.length - failures.size - quarantined, retried: failures.size, quarantined },
    (performance.now() - started) / 1000,
  );
  return { failures, outcome };
}
