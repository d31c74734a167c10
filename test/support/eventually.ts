import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Polls `probe` every 250 ms until it returns a value, for at most `boundMs`: how the tests wait for a
 * controller, the API server or a queue to catch up. A probe that throws counts as "not yet"; the last error
 * is kept as the cause of the time-out.
 */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  boundMs = 90_000,
): Promise<T> {
  const deadline = Date.now() + boundMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await sleep(250);
  }
  throw new Error(`${what}: not reached within ${boundMs / 1000} s`, { cause: lastError });
}
