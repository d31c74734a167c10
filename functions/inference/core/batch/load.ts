import type { LoadRequest, LoadResult } from '../ports.js';
import type { Batch } from './context.js';
import type { BatchInput } from './gather.js';

/** Round trip 1: store inventory, merge every series' new samples, read windows, states, inventory, events. */
export function loadWindows(batch: Batch, input: BatchInput): Promise<LoadResult> {
  batch.stats.redisRoundTrips++;
  return batch.deps.store.load(loadRequestOf(input));
}

function loadRequestOf(input: BatchInput): LoadRequest {
  return {
    appends: [...input.series.values()].map((s) => ({
      seriesKey: s.seriesKey,
      samples: [...s.samples.entries()].sort((a, b) => a[0] - b[0]),
    })),
    inventoryWrites: input.inventoryWrites,
    inventoryReads: [...input.podsToRead],
    eventsToCheck: input.events.map((e) => e.ref),
  };
}
