import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { describeError, type KubepulseError } from '../errors.js';
import type { LoggerPort } from '../logger.js';
import { sendAll } from '../sqs-publisher.js';

/** A record that can never succeed as it is: malformed, or refused for good by whoever it was for. */
export interface MalformedRecord {
  record: SQSRecord;
  error: KubepulseError & { readonly retryable: false };
}

export const QUARANTINE_ATTRIBUTES = {
  code: 'kubepulse-error-code',
  reason: 'kubepulse-error-reason',
  sourceMessageId: 'kubepulse-source-message-id',
  sourceQueue: 'kubepulse-source-queue',
  receiveCount: 'kubepulse-receive-count',
} as const;

/**
 * Moves records that can never succeed straight to the dead-letter queue, with the reason attached as message
 * attributes, instead of letting them be retried until SQS redrives them without one. Returns the ids that could
 * not be quarantined: those must be reported as failed, so SQS keeps them and redrives them later.
 */
export async function quarantine(
  sqs: SQSClient,
  deadLetterQueueUrl: string,
  malformed: readonly MalformedRecord[],
  logger: LoggerPort,
): Promise<Set<string>> {
  const notQuarantined = new Set<string>();
  // One message per request, so a single oversized body cannot fail the others.
  for (const { record, error } of malformed) {
    logger.error('unprocessable message: quarantining it in the dead-letter queue with its reason', {
      messageId: record.messageId,
      code: error.code,
      reason: error.message,
      receiveCount: record.attributes?.ApproximateReceiveCount,
    });
    try {
      await sendAll(sqs, deadLetterQueueUrl, [
        {
          id: record.messageId,
          body: undefined,
          rawBody: record.body,
          attributes: {
            [QUARANTINE_ATTRIBUTES.code]: error.code,
            [QUARANTINE_ATTRIBUTES.reason]: error.message,
            [QUARANTINE_ATTRIBUTES.sourceMessageId]: record.messageId,
            [QUARANTINE_ATTRIBUTES.sourceQueue]: record.eventSourceARN ?? 'unknown',
            [QUARANTINE_ATTRIBUTES.receiveCount]: record.attributes?.ApproximateReceiveCount ?? '1',
          },
        },
      ]);
    } catch (sendError) {
      logger.error('could not quarantine a malformed message; leaving it for SQS to redrive', {
        messageId: record.messageId,
        error: describeError(sendError),
      });
      notQuarantined.add(record.messageId);
    }
  }
  return notQuarantined;
}
