import { KubepulseError } from '../../shared/errors.js';
import type { TokenUsage } from './provider.js';

/**
 * Every way asking the language model for a plan can fail. The planner falls back to a runbook on any
 * `LlmError`, so none of these may ever pick an action; `retryable` only says whether SQS redelivery of the
 * incident could get a different outcome.
 */
export abstract class LlmError extends KubepulseError {}

/** The provider did not answer: 429, 5xx, a network failure or a malformed HTTP reply. */
export class LlmUnavailableError extends LlmError {
  readonly retryable = true;
  readonly code: string = 'llm-unavailable';
  /** HTTP status when the provider answered at all. */
  readonly status: number | undefined;
  /** How long the provider asked us to wait (Gemini's RetryInfo), when it said. */
  readonly retryAfterMs: number | undefined;

  constructor(message: string, details: { status?: number; retryAfterMs?: number; cause?: unknown } = {}) {
    super(message, { cause: details.cause });
    this.status = details.status;
    this.retryAfterMs = details.retryAfterMs;
  }
}

/** No answer within the time allowed (the request timeout or the caller's deadline). */
export class LlmTimeoutError extends LlmUnavailableError {
  override readonly code = 'llm-timeout';
}

/** The provider refused the request itself (bad key, unknown model, invalid schema); retrying cannot help. */
export class LlmRequestRejectedError extends LlmError {
  readonly retryable = false;
  readonly code = 'llm-request-rejected';

  constructor(
    message: string,
    readonly status: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The answer was still not a valid proposal after the one repair attempt. */
export class LlmInvalidAnswerError extends LlmError {
  readonly retryable = false;
  readonly code = 'llm-invalid-answer';

  constructor(
    readonly issues: readonly string[],
    /** Tokens spent on the attempts, so budgets count them even though the answer is unusable. */
    readonly usage: TokenUsage,
  ) {
    super(`the model's answer is not a valid plan proposal: ${issues.slice(0, 5).join('; ')}`);
  }
}

export class LlmBudgetExceededError extends LlmError {
  readonly retryable = false;
  readonly code = 'llm-budget-exceeded';
}

/** Too many consecutive failures: calls are refused until the cool-down ends. */
export class LlmCircuitOpenError extends LlmError {
  readonly retryable = true;
  readonly code = 'llm-circuit-open';

  constructor(readonly retryAfterMs: number) {
    super(`the LLM circuit is open after repeated failures; next probe in ${retryAfterMs} ms`);
  }
}

/** Another invocation is already asking about this incident and did not finish within our wait. */
export class LlmCallInProgressError extends LlmError {
  readonly retryable = true;
  readonly code = 'llm-call-in-progress';
}

/** The call for this incident failed moments ago; it is not repeated until the failure marker expires. */
export class LlmRecentlyFailedError extends LlmError {
  readonly retryable = true;
  readonly code = 'llm-recently-failed';

  constructor(readonly failureCode: string) {
    super(`the LLM call for this incident failed recently (${failureCode}); not calling again yet`);
  }
}

/** Redis, which holds the budgets, the cache and the circuit, did not answer: no call is made unguarded. */
export class LlmGuardUnavailableError extends LlmError {
  readonly retryable = true;
  readonly code = 'llm-guard-unavailable';
}
