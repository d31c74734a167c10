import { Counter, Histogram, type Registry } from 'prom-client';
import type { IncidentOutcome } from './core/plan-incident.js';

export type PlannerMetrics = ReturnType<typeof createPlannerMetrics>;

export function createPlannerMetrics(registry: Registry) {
  const counter = (name: string, help: string, labelNames: string[]) =>
    new Counter({ name, help, labelNames, registers: [registry] });
  const metrics = {
    records: counter('kubepulse_planner_records_total', 'SQS records handled, by outcome', ['outcome']),
    incidents: counter(
      'kubepulse_planner_incidents_total',
      'Incidents seen, by result (planned, pending-approval, escalated, …), plan source (llm, runbook) and episode (first, or again: the incident came back after its last episode ended)',
      ['result', 'source', 'episode'],
    ),
    messages: counter('kubepulse_planner_messages_sent_total', 'Messages sent, by kind (plan, alert)', [
      'kind',
    ]),
    batchSeconds: new Histogram({
      name: 'kubepulse_planner_batch_seconds',
      help: 'Time to handle one SQS batch',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30],
      registers: [registry],
    }),
  };
  return {
    ...metrics,
    recordBatch(
      incidents: readonly IncidentOutcome[],
      sent: { plans: number; alerts: number },
      records: { ok: number; retried: number; quarantined: number },
      seconds: number,
    ) {
      for (const incident of incidents) {
        metrics.incidents.inc({
          result: incident.result,
          source: incident.source ?? 'none',
          episode: incident.returning ? 'again' : 'first',
        });
      }
      metrics.messages.inc({ kind: 'plan' }, sent.plans);
      metrics.messages.inc({ kind: 'alert' }, sent.alerts);
      metrics.records.inc({ outcome: 'ok' }, records.ok);
      metrics.records.inc({ outcome: 'retried' }, records.retried);
      metrics.records.inc({ outcome: 'quarantined' }, records.quarantined);
      metrics.batchSeconds.observe(seconds);
    },
  };
}
