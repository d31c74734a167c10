import { Counter, Histogram, type Registry } from 'prom-client';
import type { DestinationOutcome } from './core/deliver-alerts.js';

export type NotifierMetrics = ReturnType<typeof createNotifierMetrics>;

export function createNotifierMetrics(registry: Registry) {
  const counter = (name: string, help: string, labelNames: string[]) =>
    new Counter({ name, help, labelNames, registers: [registry] });
  const metrics = {
    deliveries: counter(
      'kubepulse_notifier_deliveries_total',
      'Alert deliveries per destination, by outcome',
      ['destination', 'outcome'],
    ),
    attempts: counter('kubepulse_notifier_http_attempts_total', 'HTTP requests sent, per destination', [
      'destination',
    ]),
    records: counter('kubepulse_notifier_records_total', 'SQS records handled, by outcome', ['outcome']),
    batchSeconds: new Histogram({
      name: 'kubepulse_notifier_batch_seconds',
      help: 'Time to handle one SQS batch',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20],
      registers: [registry],
    }),
  };
  return {
    ...metrics,
    recordBatch(
      deliveries: readonly DestinationOutcome[],
      records: { ok: number; retried: number; quarantined: number },
      seconds: number,
    ) {
      for (const { destination, status, attempts } of deliveries) {
        metrics.deliveries.inc({ destination, outcome: status });
        metrics.attempts.inc({ destination }, attempts);
      }
      metrics.records.inc({ outcome: 'ok' }, records.ok);
      metrics.records.inc({ outcome: 'retried' }, records.retried);
      metrics.records.inc({ outcome: 'quarantined' }, records.quarantined);
      metrics.batchSeconds.observe(seconds);
    },
  };
}
