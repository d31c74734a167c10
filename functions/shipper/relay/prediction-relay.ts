import {
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { decodeMessageBody, PredictionDigest } from '../../shared/contracts/index.js';
import { describeError } from '../../shared/errors.js';
import type { LoggerPort } from '../../shared/logger.js';
import { sleep } from '../../shared/retry.js';
import type { PredictionGauges } from './prediction-gauges.js';

export interface PredictionRelayOptions {
  sqs: SQSClient;
  queueUrl: string;
  gauges: PredictionGauges;
  logger: LoggerPort;
  signal: AbortSignal;
  /** Long-poll wait, 0–20 s. */
  waitTimeSeconds?: number;
  nowSeconds?: () => number;
  onDigest?: (digest: PredictionDigest) => void;
}

/**
 * Pulls prediction digests into gauges until aborted. A malformed digest is logged and left undeleted, so the
 * queue's redrive policy moves it to the DLQ after a few receives instead of it vanishing.
 */
export async function runPredictionRelay(options: PredictionRelayOptions): Promise<void> {
  const { sqs, queueUrl, gauges, logger, signal } = options;
  const now = options.nowSeconds ?? (() => Date.now() / 1000);
  while (!signal.aborted) {
    let messages: Message[];
    try {
      ({ Messages: messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: options.waitTimeSeconds ?? 20,
        }),
        { abortSignal: signal },
      ));
    } catch (error) {
      if (signal.aborted) break;
      logger.warn('receiving prediction digests failed; retrying', { error: describeError(error) });
      await sleep(1000, signal);
      continue;
    }
    for (const message of messages) {
      let digest: PredictionDigest;
      try {
        digest = PredictionDigest.parse(decodeMessageBody(message.Body ?? ''));
      } catch (error) {
        logger.error('malformed prediction digest; left for the dead-letter queue', {
          messageId: message.MessageId,
          error: describeError(error),
        });
        continue;
      }
      if (!gauges.apply(digest, now())) {
        logger.warn('prediction digest for another cluster ignored', { clusterId: digest.clusterId });
      }
      options.onDigest?.(digest);
      try {
        await sqs.send(
          new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }),
        );
      } catch (error) {
        // Applying it again later is harmless: a digest is a snapshot.
        logger.warn('deleting a prediction digest failed', { error: describeError(error) });
      }
    }
    gauges.expire(now());
  }
}
