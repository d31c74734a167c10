import { inherit, lineageDocumentOf, lineageKeyOf } from '../lineage.js';
import type { LoadResult } from '../ports.js';
import { podRefOf } from '../series-keys.js';
import { encodeSeriesState, type SeriesState } from '../series-state.js';
import type { Batch, SeriesInput } from './context.js';

/** Each scored series' lineage key and pod, for the lineage written with its state. */
export type Lineages = Map<string, { key: string; pod: string }>;

/**
 * Round trip 1b, only when the batch holds a series with no state of its own yet whose pod has an owner: read its
 * lineage and start the series from it (lineage.ts). The inherited state stands in for the stored one before the
 * rows are built, with the stored version (0), so the compare-and-set is unchanged. A lineage that cannot be read
 * is logged and not inherited; the series starts from nothing, as before.
 */
export async function inheritLineages(
  batch: Batch,
  series: Map<string, SeriesInput>,
  loaded: LoadResult,
): Promise<Lineages> {
  const lineages: Lineages = new Map();
  const newcomers: Array<{ seriesKey: string; key: string }> = [];
  for (const input of series.values()) {
    if (!input.signal) continue;
    const inventory = loaded.inventory.get(podRefOf(input.clusterId, input.namespace, input.pod)) ?? null;
    const key = lineageKeyOf(input.clusterId, inventory, input.container, input.metric);
    if (key === null) continue;
    lineages.set(input.seriesKey, { key, pod: input.pod });
    const stored = loaded.series.get(input.seriesKey)!.state;
    if (stored.s === undefined && Number(stored.v ?? 0) === 0)
      newcomers.push({ seriesKey: input.seriesKey, key });
  }
  if (newcomers.length === 0) return lineages;
  batch.stats.redisRoundTrips++;
  const documents = await batch.deps.store.loadLineages([...new Set(newcomers.map((n) => n.key))]);
  for (const { seriesKey, key } of newcomers) {
    const raw = documents.get(key);
    const inheritance = inherit(raw);
    if (inheritance.inherited === null) {
      if (raw !== undefined)
        batch.deps.logger.warn('series not started from its lineage', {
          seriesKey,
          reason: inheritance.reason,
        });
      continue;
    }
    const stored = loaded.series.get(seriesKey)!;
    const state: Omit<SeriesState, 'version'> = {
      lastScoredAt: -1,
      outbox: [],
      // The unusual-behaviour detector starts afresh: it learns a pod's start-up as part of the pod, and a
      // successor's warm-up judged against its predecessor's steady state would page at every rollout.
      unusual: null,
      ...inheritance.inherited,
    };
    stored.state = { ...stored.state, s: encodeSeriesState(state).s! };
    batch.deps.logger.info('series started from its lineage', {
      seriesKey,
      predecessor: inheritance.inherited.inheritedFrom!.pod,
      partial: inheritance.inherited.inheritedFrom!.partial,
    });
  }
  return lineages;
}

export { lineageDocumentOf };
