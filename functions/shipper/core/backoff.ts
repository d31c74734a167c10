export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
}

/** Exponential backoff with full jitter: attempt 0 waits up to initialMs, each later one up to twice as long. */
export function backoffDelayMs(attempt: number, policy: BackoffPolicy, random = Math.random): number {
  const ceiling = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(attempt, 30));
  return Math.max(1, Math.round(ceiling * (0.5 + random() / 2)));
}

/** A sleep that a stop signal cuts short, so SIGTERM never waits for a backoff to end. */
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
