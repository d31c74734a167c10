/**
 * Waiting between tries. Two backoff strategies live here under distinct names, because they give different
 * numbers for the same inputs: the shipper's loops use equal jitter counted from 0, the notifier full jitter
 * counted from 1.
 */

/** The first retry waits about `initialMs`, each later one about twice as long, never more than `maxMs`. */
export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
}

/**
 * Equal jitter: between half and all of a cap that doubles per retry, at least 1 ms. `retryIndex` counts from 0:
 * 0 before the first retry.
 */
export function equalJitterDelayMs(retryIndex: number, policy: BackoffPolicy, random = Math.random): number {
  const ceiling = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(retryIndex, 30));
  return Math.max(1, Math.round(ceiling * (0.5 + random() / 2)));
}

/**
 * Full jitter: anything from 0 up to a cap that doubles per attempt, so the retries of many senders spread out.
 * `attemptsMade` counts from 1: 1 after the first attempt failed, when the cap is `baseDelayMs`.
 */
export function fullJitterDelayMs(
  attemptsMade: number,
  policy: { baseDelayMs: number; maxDelayMs: number },
  random = Math.random,
): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attemptsMade - 1));
  return Math.round(random() * cap);
}

/** A sleep that an abort cuts short (resolving, not rejecting), so a stop never waits for a backoff to end. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
