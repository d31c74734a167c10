import type { Anomaly, PodInventory, SeriesPrediction } from '../../../shared/contracts/index.js';
import { type PodRef, podRefOf } from '../series-keys.js';
import type { Batch, EventInput, SeriesInput } from './context.js';
import { eventAnomaly } from './messages.js';

/** The newest prediction of every series whose state was committed, by cluster, for the relay. */
export function collectPredictions(
  batch: Batch,
  series: Map<string, SeriesInput>,
  latest: Map<string, SeriesPrediction>,
  conflicts: Set<string>,
): void {
  for (const [key, prediction] of latest) {
    if (conflicts.has(key)) continue;
    const clusterId = series.get(key)!.clusterId;
    const forCluster = batch.predictions.get(clusterId);
    if (forCluster) forCluster.push(prediction);
    else batch.predictions.set(clusterId, [prediction]);
  }
}

export function eventAnomaliesOf(
  newEvents: readonly EventInput[],
  inventory: Map<PodRef, PodInventory | null>,
): Anomaly[] {
  return newEvents.map((e) =>
    eventAnomaly(e, inventory.get(podRefOf(e.clusterId, e.event.namespace, e.event.pod)) ?? null),
  );
}

/**
 * Sends every anomaly; true when all went. On failure the records they came from are failed, to be retried:
 * the outbox keeps the series' anomalies, and a retry publishes them again with the same ids.
 */
export async function publishAnomalies(
  batch: Batch,
  toPublish: Anomaly[],
  series: Map<string, SeriesInput>,
  outboxes: Map<string, Anomaly[]>,
  newEvents: readonly EventInput[],
): Promise<boolean> {
  try {
    await batch.deps.publisher.publish(toPublish);
    batch.stats.anomaliesPublished = toPublish.length;
    return true;
  } catch (error) {
    batch.deps.logger.error('publishing anomalies failed; their records will be retried', {
      error,
      count: toPublish.length,
    });
    for (const key of outboxes.keys()) {
      for (const recordId of series.get(key)!.recordIds) batch.failures.set(recordId, error as Error);
    }
    for (const e of newEvents) batch.failures.set(e.recordId, error as Error);
    return false;
  }
}
