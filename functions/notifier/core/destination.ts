import type { Alert } from '../../shared/contracts/index.js';

export type DestinationName = 'slack' | 'pagerduty' | 'webhook';

/** One HTTP POST with a JSON body. The URL may hold a secret (Slack's does): it never goes into logs or reasons. */
export interface HttpRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** Somewhere an alert is sent; it only says what to send, delivery and retries are the same for all. */
export interface Destination {
  readonly name: DestinationName;
  /** Built again for every attempt: the webhook signs the time of sending. */
  request(alert: Alert, now: Date): HttpRequest;
}

export const JSON_HEADERS = { 'content-type': 'application/json', 'user-agent': 'kubepulse-notifier' };
