import { describeError } from '../../shared/errors.js';
import type { LoggerPort } from '../../shared/logger.js';
import { type BackoffPolicy, equalJitterDelayMs, sleep } from '../../shared/retry.js';
import type { ShipperMetrics } from '../metrics.js';
import type { CheckpointStore } from './ports.js';
import type { SampleReader } from './sample-reader.js';
import type { WindowPolicy } from './time-window.js';

/**
 * Reads windows as they settle. An error (Prometheus away) waits a growing backoff and retries the same window;
 * once caught up it sleeps until the next step settles.
 */
export async function runSampling(
  reader: Pick<SampleReader, 'readNext'>,
  stop: AbortSignal,
  options: { policy: WindowPolicy; backoff: BackoffPolicy; logger: LoggerPort; nowMs?: () => number },
): Promise<void> {
  const nowMs = options.nowMs ?? Date.now;
  let attempt = 0;
  while (!stop.aborted) {
    try {
      const outcome = await reader.readNext();
      if (attempt > 0) options.logger.info('reading from Prometheus again', { afterAttempts: attempt });
      attempt = 0;
      if (outcome.kind === 'idle') await sleep(msUntilNextStep(nowMs(), options.policy), stop);
    } catch (error) {
      const delay = equalJitterDelayMs(attempt++, options.backoff);
      options.logger.warn('reading from Prometheus failed; retrying the same window', {
        error: describeError(error),
        attempt,
        retryInMs: delay,
      });
      await sleep(delay, stop);
    }
  }
}

/** Time until now - lag crosses the next step boundary (plus a little, so the step has surely settled). */
export function msUntilNextStep(nowMs: number, policy: WindowPolicy): number {
  const stepMs = policy.stepSeconds * 1000;
  const sinceBoundary = (nowMs - policy.lagSeconds * 1000) % stepMs;
  return Math.max(50, stepMs - sinceBoundary + 50);
}

export interface CheckpointKeeperDeps {
  store: CheckpointStore;
  outbox: { readonly samplesDeliveredThrough: number | undefined };
  metrics: ShipperMetrics;
  logger: LoggerPort;
  nowSeconds: () => number;
}

/**
 * Saves how far samples have been delivered. It saves only what has left the outbox, so a crash re-reads
 * (at most one save interval of) samples rather than losing queued ones; consumers drop repeated timestamps.
 */
export class CheckpointKeeper {
  private saved: number | undefined;

  constructor(
    private readonly deps: CheckpointKeeperDeps,
    loaded: number | undefined,
  ) {
    this.saved = loaded;
  }

  get savedThrough(): number | undefined {
    return this.saved;
  }

  async saveIfAdvanced(): Promise<void> {
    const delivered = this.deps.outbox.samplesDeliveredThrough;
    if (delivered !== undefined) {
      this.deps.metrics.checkpointLagSeconds.set(Math.max(0, this.deps.nowSeconds() - delivered));
    }
    if (delivered === undefined || (this.saved !== undefined && delivered <= this.saved)) return;
    await this.deps.store.save(delivered);
    this.saved = delivered;
  }

  async run(stop: AbortSignal, intervalMs: number): Promise<void> {
    while (!stop.aborted) {
      await sleep(intervalMs, stop);
      if (stop.aborted) return;
      try {
        await this.saveIfAdvanced();
      } catch (error) {
        this.deps.logger.warn('saving the checkpoint failed; will try again', {
          error: describeError(error),
        });
      }
    }
  }
}
