import type { AttemptResult } from './ports.js';

export interface RetryPolicy {
  /** Attempts per destination within one invocation; after that SQS delivers the record again. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Longest wait for one answer. */
  requestTimeoutMs: number;
}

/** Retry-After as delay-seconds or an HTTP date, in milliseconds from `now`; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** What a destination's answer means: 2xx delivered; 408, 429, 5xx and no answer are worth another try. */
export function classifyResponse(
  status: number,
  body: string,
  retryAfter: string | null,
  now: number,
): AttemptResult {
  if (status >= 200 && status < 300) return { outcome: 'delivered', status };
  const reason = `HTTP ${status}${body.trim() ? `: ${body.trim().slice(0, 500)}` : ''}`;
  if (status === 408 || status === 429 || status >= 500) {
    return { outcome: 'retryable', reason, retryAfterMs: parseRetryAfter(retryAfter, now) };
  }
  // Including 3xx: a webhook endpoint that redirects is misconfigured, and following it could resend the secret.
  return { outcome: 'rejected', reason };
}
