import { setTimeout as sleep } from 'node:timers/promises';
import type { Alert } from '../../shared/contracts/index.js';
import { describeError } from '../../shared/errors.js';
import type { LoggerPort } from '../../shared/logger.js';
import { fullJitterDelayMs } from '../../shared/retry.js';
import type { Destination, DestinationName } from './destination.js';
import { DeliveryFailedError, DeliveryRejectedError } from './errors.js';
import type { DeliveryLedger, HttpAttempt } from './ports.js';
import type { RetryPolicy } from './retry.js';

export interface AlertRecord {
  recordId: string;
  alert: Alert;
}

export type DeliveryStatus = 'delivered' | 'already-delivered' | 'retry' | 'rejected';

export interface DestinationOutcome {
  recordId: string;
  destination: DestinationName;
  status: DeliveryStatus;
  /** HTTP requests made in this invocation. */
  attempts: number;
  reason?: string;
}

export interface NotifierDeps {
  destinations: readonly Destination[];
  ledger: DeliveryLedger;
  retry: RetryPolicy;
  logger: LoggerPort;
  /** One HTTP attempt: fetch in production (adapters/http-attempt.ts). */
  send: HttpAttempt;
  sleep?: (ms: number) => Promise<unknown>;
  random?: () => number;
}

export interface AlertsOutcome {
  /** Records SQS must deliver again: some destination may still take the alert. */
  retry: Map<string, DeliveryFailedError>;
  /** Records no retry can deliver, to be dead-lettered with the reason. */
  rejected: Map<string, DeliveryRejectedError>;
  deliveries: DestinationOutcome[];
}

/** Below this much time left, an attempt could not finish before Lambda's deadline; SQS redelivers instead. */
const MIN_ATTEMPT_MS = 200;

/**
 * Delivers each alert to every destination independently, skipping those that already took it on an earlier
 * delivery of the record. Alerts sharing a dedup key go in the order they were raised, and a later one waits when
 * an earlier one must be retried, so a resolve never overtakes its trigger.
 */
export async function deliverAlerts(
  records: readonly AlertRecord[],
  deps: NotifierDeps,
  deadline: number,
): Promise<AlertsOutcome> {
  const outcome: AlertsOutcome = { retry: new Map(), rejected: new Map(), deliveries: [] };
  await Promise.all(
    [...groupByDedupKey(records).values()].map(async (group) => {
      let blockedBy: string | undefined;
      for (const { recordId, alert } of group) {
        if (blockedBy) {
          outcome.retry.set(
            recordId,
            new DeliveryFailedError(
              `waiting for alert ${blockedBy} of the same dedup key to be delivered first`,
            ),
          );
          continue;
        }
        const results = await Promise.all(
          deps.destinations.map((destination) => deliverOne(recordId, alert, destination, deps, deadline)),
        );
        outcome.deliveries.push(...results);
        const summary = (status: DeliveryStatus) =>
          results
            .filter((r) => r.status === status)
            .map((r) => `${r.destination}: ${r.reason} (${r.attempts} attempts)`)
            .join('; ');
        if (results.some((r) => r.status === 'retry')) {
          outcome.retry.set(recordId, new DeliveryFailedError(summary('retry')));
          blockedBy = alert.alertId;
        } else if (results.some((r) => r.status === 'rejected')) {
          outcome.rejected.set(recordId, new DeliveryRejectedError(summary('rejected')));
        }
      }
    }),
  );
  return outcome;
}

function groupByDedupKey(records: readonly AlertRecord[]): Map<string, AlertRecord[]> {
  const groups = new Map<string, AlertRecord[]>();
  for (const record of records) {
    const key = `${record.alert.clusterId}\n${record.alert.dedupKey}`;
    groups.set(key, [...(groups.get(key) ?? []), record]);
  }
  for (const group of groups.values()) {
    group.sort(
      (a, b) =>
        Date.parse(a.alert.createdAt) - Date.parse(b.alert.createdAt) ||
        // Raised in the same millisecond: firing before resolved.
        Number(a.alert.status === 'resolved') - Number(b.alert.status === 'resolved'),
    );
  }
  return groups;
}

async function deliverOne(
  recordId: string,
  alert: Alert,
  destination: Destination,
  deps: NotifierDeps,
  deadline: number,
): Promise<DestinationOutcome> {
  const base = { recordId, destination: destination.name };
  let claim: Awaited<ReturnType<DeliveryLedger['claim']>>;
  try {
    claim = await deps.ledger.claim(alert.clusterId, alert.alertId, destination.name);
  } catch (error) {
    return { ...base, status: 'retry', attempts: 0, reason: describeError(error).message };
  }
  if (claim.state === 'delivered') return { ...base, status: 'already-delivered', attempts: 0 };
  if (claim.state === 'busy') {
    return { ...base, status: 'retry', attempts: 0, reason: 'another invocation is delivering it' };
  }

  const result = await sendWithRetries(alert, destination, deps, deadline);
  const log = { alertId: alert.alertId, destination: destination.name, attempts: result.attempts };
  try {
    if (result.status === 'delivered') await claim.markDelivered();
    else await claim.release();
  } catch (error) {
    // Delivered but not recorded: a redelivery of this record would send it again. The claim's lease expires
    // on its own, so a failed release only delays the next attempt.
    deps.logger.warn('could not record the delivery outcome', { ...log, error: describeError(error) });
  }
  if (result.status === 'rejected')
    deps.logger.error('destination rejected the alert', { ...log, reason: result.reason });
  if (result.status === 'retry')
    deps.logger.warn('alert not delivered yet', { ...log, reason: result.reason });
  return { ...base, ...result };
}

async function sendWithRetries(
  alert: Alert,
  destination: Destination,
  deps: NotifierDeps,
  deadline: number,
): Promise<{ status: 'delivered' | 'retry' | 'rejected'; attempts: number; reason?: string }> {
  const send = deps.send;
  const wait = deps.sleep ?? sleep;
  let reason = 'no time left in this invocation';
  for (let attempt = 1; ; attempt++) {
    const timeLeft = deadline - Date.now();
    if (timeLeft < MIN_ATTEMPT_MS) return { status: 'retry', attempts: attempt - 1, reason };
    const result = await send(
      destination.request(alert, new Date()),
      Math.min(deps.retry.requestTimeoutMs, timeLeft),
    );
    if (result.outcome === 'delivered') return { status: 'delivered', attempts: attempt };
    if (result.outcome === 'rejected')
      return { status: 'rejected', attempts: attempt, reason: result.reason };
    reason = result.reason;
    if (attempt >= deps.retry.maxAttempts) return { status: 'retry', attempts: attempt, reason };
    const delay = Math.max(fullJitterDelayMs(attempt, deps.retry, deps.random), result.retryAfterMs ?? 0);
    if (Date.now() + delay + MIN_ATTEMPT_MS > deadline) {
      return {
        status: 'retry',
        attempts: attempt,
        reason: `${reason}; next try in ${delay} ms is past the deadline`,
      };
    }
    await wait(delay);
  }
}
