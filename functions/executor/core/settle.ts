import type { Progress } from './appliers/applier.js';

export interface SettleOptions {
  timeoutSeconds: number;
  pollMilliseconds: number;
  now: () => Date;
  sleep: (milliseconds: number) => Promise<void>;
  /** Runs between polls: the ledger heartbeat, so a long verification is not mistaken for a crash. */
  betweenPolls: () => Promise<void>;
}

/** Polls every step until all have settled, one reports it never will, or time runs out. */
export async function waitUntilSettled(
  steps: ReadonlyArray<() => Promise<Progress>>,
  options: SettleOptions,
): Promise<{ ok: boolean; detail: string }> {
  const deadline = options.now().getTime() + options.timeoutSeconds * 1000;
  const pending = new Set(steps.keys());
  let lastDetail = '';
  for (;;) {
    for (const index of [...pending]) {
      const progress = await steps[index]!();
      lastDetail = `action ${index + 1}: ${progress.detail}`;
      if (progress.failed) return { ok: false, detail: `verification failed: ${lastDetail}` };
      if (progress.done) pending.delete(index);
    }
    if (pending.size === 0) return { ok: true, detail: 'all steps settled' };
    if (options.now().getTime() >= deadline) {
      return { ok: false, detail: `not settled within ${options.timeoutSeconds} s: ${lastDetail}` };
    }
    await options.sleep(options.pollMilliseconds);
    await options.betweenPolls();
  }
}
