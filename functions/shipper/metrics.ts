import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export type ShipperMetrics = ReturnType<typeof createShipperMetrics>;

/** Everything the shipper counts, served on /metrics (registered in this order, which /metrics keeps). */
export function createShipperMetrics(registry: Registry) {
  const registers = [registry];
  return {
    ...sampleMetrics(registers),
    ...outboxMetrics(registers),
    ...lagMetrics(registers),
    ...clusterWatchMetrics(registers),
  };
}

/** What was read from Prometheus. */
function sampleMetrics(registers: Registry[]) {
  return {
    samplesRead: new Counter({
      name: 'kubepulse_shipper_samples_read_total',
      help: 'Samples read from Prometheus, by metric',
      labelNames: ['metric'],
      registers,
    }),
    seriesSkipped: new Counter({
      name: 'kubepulse_shipper_series_skipped_total',
      help: 'Result series without valid namespace/pod/container labels, by metric',
      labelNames: ['metric'],
      registers,
    }),
  };
}

/** What the outbox sent, dropped and holds. */
function outboxMetrics(registers: Registry[]) {
  return {
    messagesSent: new Counter({
      name: 'kubepulse_shipper_messages_sent_total',
      help: 'Messages accepted by SQS, by kind',
      labelNames: ['kind'],
      registers,
    }),
    batchesSent: new Counter({
      name: 'kubepulse_shipper_send_batches_total',
      help: 'SendMessageBatch calls that SQS accepted in full',
      registers,
    }),
    sendFailures: new Counter({
      name: 'kubepulse_shipper_send_failures_total',
      help: 'SendMessageBatch calls that failed in whole or in part (retried)',
      registers,
    }),
    dropped: new Counter({
      name: 'kubepulse_shipper_dropped_messages_total',
      help: 'Messages dropped, by kind and reason (outbox-full: oldest dropped; rejected: SQS refused it)',
      labelNames: ['kind', 'reason'],
      registers,
    }),
    outboxMessages: new Gauge({
      name: 'kubepulse_shipper_outbox_messages',
      help: 'Messages waiting to be sent',
      registers,
    }),
    outboxBytes: new Gauge({
      name: 'kubepulse_shipper_outbox_bytes',
      help: 'Encoded bytes waiting to be sent',
      registers,
    }),
  };
}

/** How far behind reading is, and how long Prometheus takes to answer. */
function lagMetrics(registers: Registry[]) {
  return {
    checkpointLagSeconds: new Gauge({
      name: 'kubepulse_shipper_checkpoint_lag_seconds',
      help: 'Now minus the newest step delivered to SQS',
      registers,
    }),
    backfillSkippedSeconds: new Counter({
      name: 'kubepulse_shipper_backfill_skipped_seconds_total',
      help: 'History older than the maximum backfill that was not read after an outage or restart',
      registers,
    }),
    prometheusQuerySeconds: new Histogram({
      name: 'kubepulse_shipper_prometheus_query_seconds',
      help: 'Latency of query_range calls, by metric and outcome',
      labelNames: ['metric', 'outcome'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
  };
}

/** What the informers saw and reported. */
function clusterWatchMetrics(registers: Registry[]) {
  return {
    failureEvents: new Counter({
      name: 'kubepulse_shipper_failure_events_total',
      help: 'Failure events detected, by reason',
      labelNames: ['reason'],
      registers,
    }),
    inventorySnapshots: new Counter({
      name: 'kubepulse_shipper_inventory_snapshots_total',
      help: 'Inventory snapshots queued, by completeness',
      labelNames: ['complete'],
      registers,
    }),
    watchErrors: new Counter({
      name: 'kubepulse_shipper_watch_errors_total',
      help: 'Informer errors (each restarts its watch), by resource',
      labelNames: ['resource'],
      registers,
    }),
  };
}
