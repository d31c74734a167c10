import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { ExecutionResult } from '../shared/contracts/index.js';

export type ExecutorMetrics = ReturnType<typeof createExecutorMetrics>;

export function createExecutorMetrics(registry: Registry) {
  const metrics = {
    plans: new Counter({
      name: 'kubepulse_executor_plans_total',
      help: 'Plans handled, by outcome (a result status, replayed, malformed or retried)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    steps: new Counter({
      name: 'kubepulse_executor_steps_total',
      help: 'Plan steps reported, by action and status',
      labelNames: ['action', 'status'],
      registers: [registry],
    }),
    securityRefusals: new Counter({
      name: 'kubepulse_executor_security_refusals_total',
      help: 'Plans refused because their signature or validity period did not check out, by reason',
      labelNames: ['reason'],
      registers: [registry],
    }),
    limitRefusals: new Counter({
      name: 'kubepulse_executor_limit_refusals_total',
      help: 'Plans refused by a limit of the executor’s own: write-budget, circuit-open or eviction-blocked',
      labelNames: ['reason'],
      registers: [registry],
    }),
    swept: new Counter({
      name: 'kubepulse_executor_swept_plans_total',
      help: 'Plans left unfinished that the sweeper settled, by result status, or could not (unsettled)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    unsettled: new Gauge({
      name: 'kubepulse_executor_unsettled_plans',
      help: 'Plans left unfinished that the last sweep could not settle (page when above 0: possibly half applied)',
      registers: [registry],
    }),
    planSeconds: new Histogram({
      name: 'kubepulse_executor_plan_seconds',
      help: 'Time from receiving a plan to reporting its result',
      buckets: [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
      registers: [registry],
    }),
    lastPoll: new Gauge({
      name: 'kubepulse_executor_last_poll_timestamp_seconds',
      help: 'When the executor last asked the remediations queue for work',
      registers: [registry],
    }),
  };
  return {
    ...metrics,
    recordResult(result: ExecutionResult, replayed: boolean, seconds: number) {
      metrics.plans.inc({ outcome: replayed ? 'replayed' : result.status });
      if (!replayed)
        for (const step of result.steps)
          metrics.steps.inc({ action: step.action.action, status: step.status });
      metrics.planSeconds.observe(seconds);
    },
  };
}
