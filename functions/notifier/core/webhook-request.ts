import { createHmac } from 'node:crypto';
import type { Alert } from '../../shared/contracts/index.js';
import { type Destination, JSON_HEADERS } from './destination.js';
import { shownToHumans } from './text.js';

export const SIGNATURE_HEADER = 'x-kubepulse-signature';
export const TIMESTAMP_HEADER = 'x-kubepulse-timestamp';
export const ALERT_ID_HEADER = 'x-kubepulse-alert-id';

/**
 * `sha256=<hex>` HMAC of `<timestamp>.<raw body>`. The timestamp is signed with the body so a captured request
 * cannot be replayed later under a fresh timestamp; receivers reject timestamps too far from their clock.
 */
export function webhookSignature(secret: string, timestampSeconds: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestampSeconds}.${body}`).digest('hex')}`;
}

/** The alert itself as the body; signed when a secret is configured. The alert id lets receivers drop repeats. */
export function webhookDestination(url: string, secret: string | undefined): Destination {
  return {
    name: 'webhook',
    request: (alert: Alert, now: Date) => {
      // Receivers show the alert to people too: the same neutralised text as Slack and PagerDuty get.
      const body = JSON.stringify(shownToHumans(alert));
      const timestamp = Math.floor(now.getTime() / 1000);
      return {
        url,
        body,
        headers: {
          ...JSON_HEADERS,
          [ALERT_ID_HEADER]: alert.alertId,
          [TIMESTAMP_HEADER]: String(timestamp),
          ...(secret ? { [SIGNATURE_HEADER]: webhookSignature(secret, timestamp, body) } : {}),
        },
      };
    },
  };
}
