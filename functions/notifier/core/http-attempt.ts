import type { HttpRequest } from './destination.js';
import { parseRetryAfter } from './retry.js';

export type AttemptResult =
  | { outcome: 'delivered'; status: number }
  | { outcome: 'retryable'; reason: string; retryAfterMs?: number | undefined }
  | { outcome: 'rejected'; reason: string };

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

/** One POST, bounded by `timeoutMs`. Never throws: a network error or a timeout is a retryable result. */
export async function attemptDelivery(request: HttpRequest, timeoutMs: number): Promise<AttemptResult> {
  try {
    const response = await fetch(request.url, {
      method: 'POST',
      headers: request.headers,
      body: request.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    const body = await response.text();
    return classifyResponse(response.status, body, response.headers.get('retry-after'), Date.now());
  } catch (error) {
    return { outcome: 'retryable', reason: networkReason(error, timeoutMs) };
  }
}

function networkReason(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && error.name === 'TimeoutError') return `no answer within ${timeoutMs} ms`;
  const cause = error instanceof Error ? (error.cause as { code?: string } | undefined) : undefined;
  // fetch's own message ('fetch failed') says nothing; the cause's code (ECONNREFUSED, ENOTFOUND …) does.
  return `network error: ${cause?.code ?? (error instanceof Error ? error.message : String(error))}`;
}
