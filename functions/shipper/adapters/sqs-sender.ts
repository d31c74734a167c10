import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { OutgoingEntry, QueueSender, SendOutcome } from '../core/ports.js';

/** SendMessageBatch to one queue. Entries SQS blames on the sender are reported as rejected, the rest as failed. */
export class SqsQueueSender implements QueueSender {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async sendBatch(entries: readonly OutgoingEntry[]): Promise<SendOutcome> {
    const response = await this.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: this.queueUrl,
        Entries: entries.map((entry, index) => ({ Id: `m${index}`, MessageBody: entry.body })),
      }),
    );
    const outcome: SendOutcome = { rejected: new Map(), failed: new Map() };
    for (const failure of response.Failed ?? []) {
      const entry = entries[Number(failure.Id?.slice(1))];
      if (!entry) continue;
      const reason = `${failure.Code ?? 'unknown'} ${failure.Message ?? ''}`.trim();
      (failure.SenderFault ? outcome.rejected : outcome.failed).set(entry.id, reason);
    }
    return outcome;
  }
}
