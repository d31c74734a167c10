import { clearOutboxes, commitStates, retryConflicts, stateCommitsOf } from './batch/commit.js';
import {
  type BatchOutcome,
  orFailBatch,
  outcomeOf,
  type ShipperRecord,
  startBatch,
} from './batch/context.js';
import { gather, isEmpty } from './batch/gather.js';
import { judgeRows } from './batch/judge.js';
import { inheritLineages } from './batch/lineage.js';
import { loadWindows } from './batch/load.js';
import { collectPredictions, eventAnomaliesOf, publishAnomalies } from './batch/publish.js';
import { buildRows, scoreRows } from './batch/rows.js';
import type { InferenceDeps } from './ports.js';

export type { BatchOutcome, BatchStats, RowScore, ShipperRecord } from './batch/context.js';
export type { AnomalyPublisher, InferenceDeps } from './ports.js';

/**
 * The inference core: merge each record's samples into its series' window in Redis, score every new sample's
 * window with one batched call per model, run each series' incident hysteresis, and publish anomalies through an
 * outbox, so a failure at any step leaves the records to be retried without losing or duplicating an incident.
 *
 * One pass of named phases (core/batch/): gather → load (round trip 1) → inherit (round trip 1b, only for new
 * series of owned pods) → rows → score → judge → commit (round trip 2) → publish → clear the outboxes (round trip
 * 3, only after a publish).
 */
export async function processShipperRecords(
  records: readonly ShipperRecord[],
  deps: InferenceDeps,
): Promise<BatchOutcome> {
  const batch = startBatch(records, deps);
  const input = gather(records, batch.stats);
  if (isEmpty(input)) return outcomeOf(batch);

  const loaded = await orFailBatch(
    batch,
    'loading windows from Redis failed; the batch will be retried',
    () => loadWindows(batch, input),
  );
  if (!loaded) return outcomeOf(batch);
  const lineages = await orFailBatch(
    batch,
    'loading lineages from Redis failed; the batch will be retried',
    () => inheritLineages(batch, input.series, loaded),
  );
  if (!lineages) return outcomeOf(batch);

  const rows = buildRows(batch, input.series, loaded);
  const scores = await orFailBatch(batch, 'scoring failed; the batch will be retried', () =>
    scoreRows(batch, rows),
  );
  if (!scores) return outcomeOf(batch);

  const judgement = judgeRows(batch, rows, scores, loaded.inventory);

  const pending = stateCommitsOf(rows.states, judgement, lineages);
  const conflicts = await orFailBatch(
    batch,
    'committing series state to Redis failed; the batch will be retried',
    () => commitStates(batch, pending),
  );
  if (!conflicts) return outcomeOf(batch);
  retryConflicts(batch, input.series, conflicts, pending.outboxes);
  collectPredictions(batch, input.series, judgement.latest, conflicts);

  const newEvents = input.events.filter((e) => !loaded.seenEvents.has(e.ref));
  const toPublish = [
    ...[...pending.outboxes.values()].flat(),
    ...eventAnomaliesOf(newEvents, loaded.inventory),
  ];
  if (toPublish.length === 0) return outcomeOf(batch);
  const sent = await publishAnomalies(batch, toPublish, input.series, pending.outboxes, newEvents);
  if (!sent) return outcomeOf(batch);

  await clearOutboxes(batch, rows.states, judgement, pending.outboxes, newEvents);
  return outcomeOf(batch, toPublish);
}
