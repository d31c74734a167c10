import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Receives and deletes every message now visible in a queue (tests and tools read outputs and DLQs this way). */
export async function receiveAll(sqs: SQSClient, queueUrl: string): Promise<Message[]> {
  const messages: Message[] = [];
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        AttributeNames: ['All'],
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    if (Messages.length === 0) return messages;
    messages.push(...Messages);
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
      }),
    );
  }
}

/** True when a queue holds nothing, in flight included. */
export async function isQueueEmpty(sqs: SQSClient, queueUrl: string): Promise<boolean> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Attributes?.ApproximateNumberOfMessages === '0' &&
    Attributes.ApproximateNumberOfMessagesNotVisible === '0'
  );
}

/**
 * Calls `invoke` (one function invocation on the queue's next batch; undefined when it found none) until the
 * queue is empty, in flight included, so records that failed and come back after their visibility timeout are
 * processed too. Returns what each invocation reported; throws after `rounds` calls.
 */
export async function drainQueue<R>(
  sqs: SQSClient,
  queueUrl: string,
  invoke: () => Promise<R | undefined>,
  rounds = 400,
): Promise<R[]> {
  const reports: R[] = [];
  for (let i = 0; i < rounds; i++) {
    const report = await invoke();
    if (report) {
      reports.push(report);
      continue;
    }
    if (await isQueueEmpty(sqs, queueUrl)) return reports;
    await sleep(200);
  }
  throw new Error(`${queueUrl} did not drain in ${rounds} invocations`);
}
