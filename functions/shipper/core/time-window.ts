/** How the shipper walks Prometheus' timeline: fixed steps, a little behind now, with a bounded catch-up. */
export interface WindowPolicy {
  stepSeconds: number;
  /** Steps newer than now - lag are not read yet: their scrapes may not have landed in Prometheus. */
  lagSeconds: number;
  /** After an outage or a restart, read at most this far back; older steps are skipped, and said so. */
  maxBackfillSeconds: number;
  /** Steps per query_range call (Prometheus refuses more than 11,000 points per series). */
  maxStepsPerQuery: number;
}

/** A run of steps to read: every step t with after < t <= through, t a multiple of the step. */
export interface SampleWindow {
  after: number;
  through: number;
}

export interface NextWindow {
  window: SampleWindow;
  /** Seconds of history beyond maxBackfillSeconds that will never be read. */
  skippedSeconds: number;
}

export const alignDown = (unixSeconds: number, stepSeconds: number) =>
  Math.floor(unixSeconds / stepSeconds) * stepSeconds;

/** The newest step whose data has settled in Prometheus. */
export function settledThrough(nowSeconds: number, policy: WindowPolicy): number {
  return alignDown(nowSeconds - policy.lagSeconds, policy.stepSeconds);
}

/** Where to start when there is no checkpoint: `lookbackSeconds` of history before the newest settled step. */
export function initialCursor(nowSeconds: number, lookbackSeconds: number, policy: WindowPolicy): number {
  return (
    settledThrough(nowSeconds, policy) - alignDown(lookbackSeconds, policy.stepSeconds) - policy.stepSeconds
  );
}

/**
 * The next window after `cursor` (the last step already read), or undefined when no new step has settled.
 * A cursor older than the backfill bound jumps forward to it; the skipped span is reported, never hidden.
 */
export function nextWindow(cursor: number, nowSeconds: number, policy: WindowPolicy): NextWindow | undefined {
  const step = policy.stepSeconds;
  const latest = settledThrough(nowSeconds, policy);
  const oldestAfter = latest - alignDown(policy.maxBackfillSeconds, step) - step;
  let after = alignDown(cursor, step);
  let skippedSeconds = 0;
  if (after < oldestAfter) {
    skippedSeconds = oldestAfter - after;
    after = oldestAfter;
  }
  if (after + step > latest) return undefined;
  const through = Math.min(latest, after + policy.maxStepsPerQuery * step);
  return { window: { after, through }, skippedSeconds };
}
