import {
  encodeMessageBody,
  groupForSendBatch,
  type ShipperMessage,
  splitSampleBatch,
} from '../../shared/contracts/index.js';
import type { LoggerPort } from '../../shared/logger.js';
import { type BackoffPolicy, equalJitterDelayMs, sleep } from '../../shared/retry.js';
import type { ShipperMetrics } from '../metrics.js';
import type { QueueSender } from './ports.js';
import type { SampleWindow } from './time-window.js';

export interface OutboxLimits {
  maxMessages: number;
  maxBytes: number;
}

interface Entry {
  id: string;
  kind: ShipperMessage['kind'];
  body: string;
  bytes: number;
  /** Sample batches only: the window they carry, for the checkpoint. */
  window?: SampleWindow;
  inFlight: boolean;
}

export interface OutboxDeps {
  sender: QueueSender;
  metrics: ShipperMetrics;
  logger: LoggerPort;
  limits: OutboxLimits;
  backoff: BackoffPolicy;
}

/**
 * The shipper's only way to SQS: a bounded FIFO of encoded messages and one loop that sends them in
 * SendMessageBatch calls, retrying with backoff. When the bound is reached the OLDEST messages are dropped,
 * counted and logged. It also knows how far the sample windows have been delivered (sent, or dropped and
 * counted): that is the checkpoint, since nothing older is still waiting.
 */
export class Outbox {
  private readonly entries: Entry[] = [];
  private bytes = 0;
  private samplesQueuedThrough: number | undefined;
  private wake: (() => void) | undefined;
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly deps: OutboxDeps) {}

  /** Encodes the message (sample batches split to fit) and queues it, dropping the oldest if over the bound. */
  enqueue(message: ShipperMessage, window?: SampleWindow): void {
    const parts = message.kind === 'sample-batch' ? splitSampleBatch(message) : [message];
    for (const part of parts) {
      const body = encodeMessageBody(part);
      const entry: Entry = {
        id: idOf(part),
        kind: part.kind,
        body,
        bytes: Buffer.byteLength(body),
        inFlight: false,
      };
      if (window) entry.window = window;
      this.entries.push(entry);
      this.bytes += entry.bytes;
    }
    if (window)
      this.samplesQueuedThrough = Math.max(this.samplesQueuedThrough ?? window.through, window.through);
    this.enforceLimits();
    this.updateGauges();
    this.wake?.();
  }

  /** Records that every step through `through` has been read, including windows Prometheus had no data for. */
  markSamplesRead(through: number): void {
    this.samplesQueuedThrough = Math.max(this.samplesQueuedThrough ?? through, through);
  }

  /** The newest step such that every sample window up to it has left the outbox; undefined before the first. */
  get samplesDeliveredThrough(): number | undefined {
    let oldestPending: number | undefined;
    for (const entry of this.entries) {
      if (entry.window && (oldestPending === undefined || entry.window.after < oldestPending)) {
        oldestPending = entry.window.after;
      }
    }
    return oldestPending ?? this.samplesQueuedThrough;
  }

  get size(): { messages: number; bytes: number } {
    return { messages: this.entries.length, bytes: this.bytes };
  }

  /**
   * Sends until stopped. Every failure waits a backoff and retries the same head of the queue, so order is kept
   * and nothing is skipped; new messages keep queueing (within the bound) meanwhile.
   */
  async run(stop: AbortSignal): Promise<void> {
    let attempt = 0;
    while (!stop.aborted) {
      if (this.entries.length === 0) {
        this.notifyIdle();
        await this.waitForWork(stop);
        continue;
      }
      const sentAll = await this.sendHead();
      if (sentAll) {
        attempt = 0;
        continue;
      }
      await sleep(equalJitterDelayMs(attempt++, this.deps.backoff), stop);
    }
  }

  /** Resolves once the queue is empty (or after timeoutMs): SIGTERM's flush. */
  drained(timeoutMs: number): Promise<boolean> {
    if (this.entries.length === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(this.entries.length === 0), timeoutMs);
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  /** Sends the head of the queue (up to ten SendMessageBatch calls' worth); false if any entry must be retried. */
  private async sendHead(): Promise<boolean> {
    const { sender, metrics, logger } = this.deps;
    const groups = groupForSendBatch(this.entries.slice(0, 100)).slice(0, 10);
    for (const group of groups) {
      for (const entry of group) entry.inFlight = true;
      let outcome: Awaited<ReturnType<QueueSender['sendBatch']>>;
      try {
        outcome = await sender.sendBatch(group.map(({ id, body }) => ({ id, body })));
      } catch (error) {
        for (const entry of group) entry.inFlight = false;
        metrics.sendFailures.inc();
        logger.warn('sending to SQS failed; will retry', {
          error: (error as Error).message,
          queued: this.entries.length,
        });
        return false;
      }
      for (const entry of group) {
        entry.inFlight = false;
        const rejection = outcome.rejected.get(entry.id);
        if (rejection !== undefined) {
          this.remove(entry);
          metrics.dropped.inc({ kind: entry.kind, reason: 'rejected' });
          logger.error('SQS rejected a message; dropped', {
            id: entry.id,
            kind: entry.kind,
            reason: rejection,
          });
        } else if (!outcome.failed.has(entry.id)) {
          this.remove(entry);
          metrics.messagesSent.inc({ kind: entry.kind });
        }
      }
      this.updateGauges();
      if (outcome.failed.size > 0) {
        metrics.sendFailures.inc();
        logger.warn('SQS did not accept every entry; will retry them', {
          failed: [...outcome.failed.entries()].slice(0, 5),
        });
        return false;
      }
      metrics.batchesSent.inc();
    }
    return true;
  }

  private enforceLimits(): void {
    const { limits, metrics, logger } = this.deps;
    while (this.entries.length > limits.maxMessages || this.bytes > limits.maxBytes) {
      const oldest = this.entries.find((entry) => !entry.inFlight);
      if (!oldest) return;
      this.remove(oldest);
      metrics.dropped.inc({ kind: oldest.kind, reason: 'outbox-full' });
      logger.warn('outbox full: dropped the oldest message', {
        id: oldest.id,
        kind: oldest.kind,
        bytes: oldest.bytes,
        ...(oldest.window ? { window: oldest.window } : {}),
        queuedMessages: this.entries.length,
        queuedBytes: this.bytes,
      });
    }
  }

  private remove(entry: Entry): void {
    const index = this.entries.indexOf(entry);
    if (index < 0) return;
    this.entries.splice(index, 1);
    this.bytes -= entry.bytes;
  }

  private updateGauges(): void {
    this.deps.metrics.outboxMessages.set(this.entries.length);
    this.deps.metrics.outboxBytes.set(this.bytes);
  }

  private waitForWork(stop: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.wake = undefined;
        stop.removeEventListener('abort', done);
        resolve();
      };
      this.wake = done;
      stop.addEventListener('abort', done, { once: true });
    });
  }

  private notifyIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const notify of waiters) notify();
  }
}

function idOf(message: ShipperMessage): string {
  switch (message.kind) {
    case 'sample-batch':
    case 'failure-events':
      return message.batchId;
    case 'inventory-snapshot':
      return message.snapshotId;
  }
}
