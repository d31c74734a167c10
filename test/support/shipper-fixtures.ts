// Shared by the shipper's tests (unit and integration); not part of the shipper process.
import { DeleteMessageBatchCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { decodeMessageBody, ShipperMessage } from '../../functions/shared/contracts/index.js';
import type { LoggerPort } from '../../functions/shared/logger.js';

/** Receives (and deletes) every message on the queue until `done` holds or the time is up; each must be valid. */
export async function collectMessages(
  sqs: SQSClient,
  queueUrl: string,
  received: ShipperMessage[],
  done: (messages: readonly ShipperMessage[]) => boolean,
  timeoutMs: number,
): Promise<ShipperMessage[]> {
  const deadline = Date.now() + timeoutMs;
  while (!done(received) && Date.now() < deadline) {
    const response = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    const messages = response.Messages ?? [];
    for (const message of messages)
      received.push(ShipperMessage.parse(decodeMessageBody(message.Body ?? '')));
    if (messages.length > 0) {
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: messages.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle! })),
        }),
      );
    }
  }
  return received;
}

/** A logger that keeps what it was told, so a test can check a drop was said out loud. */
export function recordingLogger(): LoggerPort & { lines: Array<{ level: string; message: string }> } {
  const lines: Array<{ level: string; message: string }> = [];
  const at = (level: string) => (message: string) => {
    lines.push({ level, message });
  };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** Every [timestamp] per series key `metric|namespace/pod/container` in the sample batches received. */
export function timestampsBySeries(messages: readonly ShipperMessage[]): Map<string, number[]> {
  const series = new Map<string, number[]>();
  for (const message of messages) {
    if (message.kind !== 'sample-batch') continue;
    for (const s of message.series) {
      const key = `${s.metric}|${s.namespace}/${s.pod}/${s.container}`;
      const list = series.get(key) ?? [];
      list.push(...s.samples.map(([at]) => at));
      series.set(key, list);
    }
  }
  return series;
}

export async function eventually<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
