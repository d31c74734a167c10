import type { Anomaly } from '../../../shared/contracts/index.js';
import { ConcurrentUpdateError } from '../../../shared/errors.js';
import { lineageDocumentOf } from '../lineage.js';
import type { StateCommit } from '../ports.js';
import { encodeSeriesState, type SeriesState } from '../series-state.js';
import type { Batch, EventInput, SeriesInput } from './context.js';
import type { Judgement } from './judge.js';
import type { Lineages } from './lineage.js';

/** Round trip 2's writes, and what each series then has to publish. */
export interface PendingCommit {
  commits: StateCommit[];
  /** Each series' outbox: anomalies left from an earlier invocation, then the ones raised now. */
  outboxes: Map<string, Anomaly[]>;
}

/**
 * New states, with anything still to publish kept in the outbox; a series that did not change is left alone. A
 * series with a lineage leaves what it learnt there too.
 */
export function stateCommitsOf(
  states: Map<string, SeriesState>,
  judgement: Judgement,
  lineages: Lineages = new Map(),
): PendingCommit {
  const commits: StateCommit[] = [];
  const outboxes = new Map<string, Anomaly[]>();
  for (const [key, state] of states) {
    const next = judgement.nextStates.get(key) ?? state;
    const outbox = [...state.outbox, ...(judgement.newAnomalies.get(key) ?? [])];
    if (next === state && outbox.length === 0) continue;
    if (outbox.length > 0) outboxes.set(key, outbox);
    const lineage = lineages.get(key);
    commits.push({
      seriesKey: key,
      expectedVersion: state.version,
      fields: encodeSeriesState({ ...next, outbox }),
      ...(lineage && next !== state
        ? { lineage: { key: lineage.key, document: lineageDocumentOf(next, lineage.pod) } }
        : {}),
    });
  }
  return { commits, outboxes };
}

/** Round trip 2: compare-and-set every changed series' state; resolves to the series that lost the race. */
export function commitStates(batch: Batch, pending: PendingCommit): Promise<Set<string>> {
  batch.stats.redisRoundTrips++;
  return batch.deps.store.commit(pending.commits);
}

/** A series another invocation changed first: its records are retried, and nothing of it is published. */
export function retryConflicts(
  batch: Batch,
  series: Map<string, SeriesInput>,
  conflicts: Set<string>,
  outboxes: Map<string, Anomaly[]>,
): void {
  for (const key of conflicts) {
    const conflict = new ConcurrentUpdateError(`series ${key} was updated concurrently`);
    for (const recordId of series.get(key)!.recordIds) batch.failures.set(recordId, conflict);
    outboxes.delete(key);
    batch.deps.logger.warn('series state changed under us; its records will be retried', { seriesKey: key });
  }
}

/** Round trip 3, only after a publish: empty the outboxes and remember the forwarded events. */
export async function clearOutboxes(
  batch: Batch,
  states: Map<string, SeriesState>,
  judgement: Judgement,
  published: Map<string, Anomaly[]>,
  forwardedEvents: readonly EventInput[],
): Promise<void> {
  const clears: StateCommit[] = [...published.keys()].map((key) => {
    const next = judgement.nextStates.get(key) ?? states.get(key)!;
    return {
      seriesKey: key,
      expectedVersion: states.get(key)!.version + 1,
      fields: encodeSeriesState({ ...next, outbox: [] }),
    };
  });
  try {
    batch.stats.redisRoundTrips++;
    await batch.deps.store.commit(
      clears,
      forwardedEvents.map((e) => e.ref),
    );
  } catch (error) {
    // Already published: a later invocation will publish the outbox again under the same ids, which
    // consumers deduplicate. Failing the records here would only cause the same repeat sooner.
    batch.deps.logger.warn(
      'clearing the outbox failed after publishing; consumers may see a repeat with the same id',
      { error },
    );
  }
}
