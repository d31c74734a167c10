import type { HttpRequest } from '../core/destination.js';
import type { AttemptResult, HttpAttempt } from '../core/ports.js';
import { classifyResponse } from '../core/retry.js';

/** One POST, bounded by `timeoutMs`. Never throws: a network error or a timeout is a retryable result. */
export const attemptDelivery: HttpAttempt = async (
  request: HttpRequest,
  timeoutMs: number,
): Promise<AttemptResult> => {
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
};

function networkReason(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && error.name === 'TimeoutError') return `no answer within ${timeoutMs} ms`;
  const cause = error instanceof Error ? (error.cause as { code?: string } | undefined) : undefined;
  // fetch's own message ('fetch failed') says nothing; the cause's code (ECONNREFUSED, ENOTFOUND …) does.
  return `network error: ${cause?.code ?? (error instanceof Error ? error.message : String(error))}`;
}
