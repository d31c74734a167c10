import type { PlanProposal } from '../../shared/contracts/index.js';

/** An action the planner may propose, as the LLM is told about it (from the action registry). */
export interface ActionDescription {
  name: string;
  description: string;
}

/** Everything the LLM sees. Every string in here has already been redacted by the caller. */
export interface PlanRequest {
  /** Stable per incident: the cache key, so one incident costs at most one LLM call. */
  incidentFingerprint: string;
  /** The redacted incident context (anomaly, forecast, inventory, events, log tail) as prompt text. */
  context: string;
  allowedActions: readonly ActionDescription[];
}

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
}

export interface PlanAnswer {
  proposal: PlanProposal;
  model: string;
  usage: TokenUsage;
  /** 1, or 2 when the first answer was invalid and the repair attempt succeeded. */
  attempts: number;
  /** True when the answer came from the per-incident cache and cost nothing. */
  cached: boolean;
}

/**
 * The seam between planning and a language model. Implementations throw typed errors (see ./errors.ts):
 * the caller falls back to a runbook on any of them and never lets an exception pick an action.
 */
export interface LlmPlanner {
  propose(request: PlanRequest, options?: ProposeOptions): Promise<PlanAnswer>;
}

export interface ProposeOptions {
  /** Aborts the call when the caller's deadline passes (the Lambda's remaining time, a retry budget). */
  signal?: AbortSignal;
}
