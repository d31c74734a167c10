import type { MetricName, PodInventory, ScoredSignal } from '../../../shared/contracts/index.js';
import { eventRefOf, type PodRef, podRefOf, seriesKeyOf } from '../series-keys.js';
import type { BatchStats, EventInput, SeriesInput, ShipperRecord } from './context.js';

const SCORED_METRICS: Partial<Record<MetricName, ScoredSignal>> = {
  memory_working_set_bytes: 'memory',
  cpu_usage_cores: 'cpu',
};

/** The batch's records sorted by what they ask of the store: samples per series, inventory, failure events. */
export interface BatchInput {
  series: Map<string, SeriesInput>;
  events: EventInput[];
  inventoryWrites: Array<{ clusterId: string; pod: PodInventory }>;
  podsToRead: Set<PodRef>;
}

export function gather(records: readonly ShipperRecord[], stats: BatchStats): BatchInput {
  const input: BatchInput = { series: new Map(), events: [], inventoryWrites: [], podsToRead: new Set() };
  for (const { recordId, message } of records) {
    switch (message.kind) {
      case 'sample-batch':
        for (const s of message.series) {
          const series = seriesInputOf(input, message.clusterId, message.stepSeconds, s);
          series.recordIds.add(recordId);
          if (s.valueRange) series.valueRange = s.valueRange;
          for (const [ts, value] of s.samples) {
            stats.samplesIn++;
            if (!series.samples.has(ts)) series.samples.set(ts, value);
          }
        }
        break;
      case 'inventory-snapshot':
        for (const pod of message.pods) input.inventoryWrites.push({ clusterId: message.clusterId, pod });
        break;
      case 'failure-events':
        for (const event of message.events) {
          input.events.push({
            clusterId: message.clusterId,
            event,
            ref: eventRefOf(message.clusterId, event.eventId),
            recordId,
          });
          input.podsToRead.add(podRefOf(message.clusterId, event.namespace, event.pod));
        }
        break;
    }
  }
  return input;
}

function seriesInputOf(
  input: BatchInput,
  clusterId: string,
  stepSeconds: number,
  s: { namespace: string; pod: string; container: string; metric: MetricName },
): SeriesInput {
  const seriesKey = seriesKeyOf(clusterId, s.namespace, s.pod, s.container, s.metric);
  let series = input.series.get(seriesKey);
  if (!series) {
    series = {
      seriesKey,
      clusterId,
      namespace: s.namespace,
      pod: s.pod,
      container: s.container,
      metric: s.metric,
      signal: SCORED_METRICS[s.metric],
      stepSeconds,
      samples: new Map(),
      recordIds: new Set(),
    };
    input.series.set(seriesKey, series);
    // The series key holds the pod, so its pod needs adding once, not once per record.
    if (series.signal) input.podsToRead.add(podRefOf(clusterId, s.namespace, s.pod));
  }
  return series;
}

export function isEmpty(input: BatchInput): boolean {
  return input.series.size === 0 && input.events.length === 0 && input.inventoryWrites.length === 0;
}
