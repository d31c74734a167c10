import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export type LlmMetrics = ReturnType<typeof createLlmMetrics>;

export function createLlmMetrics(registry: Registry) {
  return {
    /** One per propose(): `ok`, `cached`, or the error code it ended with. */
    calls: new Counter({
      name: 'kubepulse_planner_llm_calls_total',
      help: 'Plan requests to the LLM, by outcome',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    tokens: new Counter({
      name: 'kubepulse_planner_llm_tokens_total',
      help: 'Tokens spent, by kind (prompt, completion)',
      labelNames: ['kind'],
      registers: [registry],
    }),
    latency: new Histogram({
      name: 'kubepulse_planner_llm_latency_seconds',
      help: 'Time for one provider call, including its repair round',
      buckets: [0.25, 0.5, 1, 2, 4, 8, 15, 30],
      registers: [registry],
    }),
    budgetRemaining: new Gauge({
      name: 'kubepulse_planner_llm_budget_remaining',
      help: 'What is left of the LLM budget, by window (hour, day) and kind (calls, tokens)',
      labelNames: ['window', 'kind'],
      registers: [registry],
    }),
  };
}
