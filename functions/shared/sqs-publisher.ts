import {
  type MessageAttributeValue,
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { encodeMessageBody, groupForSendBatch } from './contracts/index.js';
import { DependencyUnavailableError } from './errors.js';

/** Characters SQS refuses in a string attribute (outside XML 1.0's Char). */
const NOT_SQS_SAFE_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

export interface OutgoingMessage {
  /** Becomes the batch entry id; must be unique within one send. */
  id: string;
  body: unknown;
  /** Sent verbatim instead of encoding `body`: for forwarding a message exactly as it was received. */
  rawBody?: string;
  attributes?: Record<string, string>;
  /** FIFO queues only. */
  groupId?: string;
  deduplicationId?: string;
}

/**
 * Sends messages in SendMessageBatch requests within SQS's limits. Throws a retryable error if any entry fails,
 * naming them: the caller retries the whole set, which is safe because every message carries a stable id.
 */
export async function sendAll(
  sqs: SQSClient,
  queueUrl: string,
  messages: readonly OutgoingMessage[],
): Promise<void> {
  const entries = messages.map((message, index) => {
    const entry: SendMessageBatchRequestEntry = {
      Id: `m${index}`,
      MessageBody: message.rawBody ?? encodeMessageBody(message.body),
      ...(message.groupId ? { MessageGroupId: message.groupId } : {}),
      ...(message.deduplicationId ? { MessageDeduplicationId: message.deduplicationId } : {}),
      ...(message.attributes ? { MessageAttributes: stringAttributes(message.attributes) } : {}),
    };
    return { body: entry.MessageBody!, entry, id: message.id };
  });
  for (const group of groupForSendBatch(entries)) {
    let failed: string[];
    try {
      const response = await sqs.send(
        new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: group.map((g) => g.entry) }),
      );
      failed = (response.Failed ?? []).map((f) => `${f.Id}: ${f.Code} ${f.Message ?? ''}`.trim());
    } catch (error) {
      throw new DependencyUnavailableError(
        'sqs',
        `SendMessageBatch to ${queueUrl} failed: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
    if (failed.length > 0) {
      throw new DependencyUnavailableError(
        'sqs',
        `${failed.length} entries were not accepted: ${failed.join('; ')}`,
      );
    }
  }
}

function stringAttributes(attributes: Record<string, string>): Record<string, MessageAttributeValue> {
  return Object.fromEntries(
    Object.entries(attributes).map(([name, value]) => [
      name,
      // Attribute values are not JSON, so nothing can be escaped: what SQS refuses becomes U+FFFD.
      { DataType: 'String', StringValue: value.slice(0, 1024).replace(NOT_SQS_SAFE_CHAR, '\uFFFD') },
    ]),
  );
}
