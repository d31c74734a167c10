import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { Alert, encodedBody } from '../shared/contracts/index.js';
import { handleSqsBatch, type RecordValidator, sqsRecordValidator } from '../shared/lambda/sqs-batch.js';
import type { LoggerPort } from '../shared/logger.js';
import { type AlertsOutcome, deliverAlerts, type NotifierDeps } from './core/deliver-alerts.js';
import type { NotifierMetrics } from './metrics.js';

/** An alerts-queue body: plain or compressed JSON (see the wire codec) holding one alert. */
const AlertBody = encodedBody(Alert);

/** Validates each record on its own, so one malformed alert fails alone. */
export function createRecordValidator(logger: LoggerPort): RecordValidator<Alert> {
  return sqsRecordValidator(AlertBody, logger);
}

export interface AlertsEventDeps {
  core: NotifierDeps;
  sqs: SQSClient;
  alertsDlqUrl: string;
  logger: LoggerPort;
  validator: RecordValidator<Alert>;
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
  const batch = await handleSqsBatch(
    records,
    {
      validator: deps.validator,
      dlq: () => deps.alertsDlqUrl,
      process: (valid) =>
        deliverAlerts(
          valid.map(({ recordId, message }) => ({ recordId, alert: message })),
          deps.core,
          deadline,
        ),
    },
    deps,
  );
  deps.metrics?.recordBatch(batch.processed.deliveries, batch.records, batch.seconds);
  return { failures: batch.failures, outcome: batch.processed };
}
