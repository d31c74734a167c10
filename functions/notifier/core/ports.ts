import type { DestinationName, HttpRequest } from './destination.js';

/**
 * What the notifier's core needs from the world: one HTTP attempt and a ledger of deliveries. The adapters
 * (../adapters/) implement them with fetch and Redis.
 */

export type AttemptResult =
  | { outcome: 'delivered'; status: number }
  | { outcome: 'retryable'; reason: string; retryAfterMs?: number | undefined }
  | { outcome: 'rejected'; reason: string };

/** One POST, bounded by `timeoutMs`; never throws: a network error or a timeout is a retryable result. */
export type HttpAttempt = (request: HttpRequest, timeoutMs: number) => Promise<AttemptResult>;

export type Claim =
  | { state: 'claimed'; release(): Promise<void>; markDelivered(): Promise<void> }
  | { state: 'delivered' }
  /** Another invocation holds this delivery (SQS can hand one message to two consumers); it is not ours to send. */
  | { state: 'busy' };

/** Which (alert, destination) pairs were delivered, so that a redelivered record skips them. */
export interface DeliveryLedger {
  claim(clusterId: string, alertId: string, destination: DestinationName): Promise<Claim>;
}
