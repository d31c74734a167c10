import type { Redis } from 'ioredis';
import type { LoggerPort } from '../../shared/logger.js';
import { sleep } from '../../shared/retry.js';
import { LlmBudget, type LlmBudgetLimits } from './budget.js';
import { CircuitBreaker } from './circuit-breaker.js';
import {
  LlmCallInProgressError,
  LlmError,
  LlmInvalidAnswerError,
  LlmRecentlyFailedError,
  LlmRequestRejectedError,
  LlmTimeoutError,
  LlmUnavailableError,
} from './errors.js';
import { IncidentAnswers } from './incident-answers.js';
import type { LlmMetrics } from './metrics.js';
import type { LlmPlanner, PlanAnswer, PlanRequest, ProposeOptions, TokenUsage } from './provider.js';

export interface RetryOptions {
  /** Provider calls per propose(), the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** All attempts and waits together; Lambda time is money, so this is small. */
  deadlineMs: number;
}

export interface GuardedPlannerOptions {
  redis: Redis;
  metrics: LlmMetrics;
  keyPrefix?: string;
  answerTtlSeconds: number;
  failureTtlSeconds: number;
  budget: LlmBudgetLimits;
  circuit: { failureThreshold: number; coolDownMs: number };
  retry: RetryOptions;
  logger?: LoggerPort;
  /** Wall clock for budget windows and the circuit's cool-down; injectable so tests can move time. */
  clock?: () => number;
  /** For backoff jitter. */
  random?: () => number;
}

/** Room beyond the retry deadline for Redis round trips, before a lock or a probe is considered abandoned. */
const LOCK_MARGIN_MS = 5000;

/**
 * Cost control around a planner: one provider call per incident fingerprint (cached, and locked so
 * concurrent requests share it), hourly and daily budgets, a circuit breaker, and a short, bounded retry of
 * 429/5xx/timeouts that honours the provider's retry delay. Everything it throws is an `LlmError`.
 */
export function createGuardedPlanner(inner: LlmPlanner, options: GuardedPlannerOptions): LlmPlanner {
  return new GuardedPlanner(inner, options);
}

class GuardedPlanner implements LlmPlanner {
  private readonly answers: IncidentAnswers;
  private readonly budget: LlmBudget;
  private readonly circuit: CircuitBreaker;
  private readonly lockTtlMs: number;
  private readonly clock: () => number;
  private readonly random: () => number;

  constructor(
    private readonly inner: LlmPlanner,
    private readonly options: GuardedPlannerOptions,
  ) {
    const keyPrefix = options.keyPrefix ?? 'kubepulse:llm:';
    this.lockTtlMs = options.retry.deadlineMs + LOCK_MARGIN_MS;
    this.answers = new IncidentAnswers(options.redis, keyPrefix, {
      answerTtlSeconds: options.answerTtlSeconds,
      failureTtlSeconds: options.failureTtlSeconds,
      lockTtlMs: this.lockTtlMs,
    });
    this.budget = new LlmBudget(options.redis, keyPrefix, options.budget);
    this.circuit = new CircuitBreaker(options.redis, keyPrefix, {
      ...options.circuit,
      probeTimeoutMs: this.lockTtlMs,
    });
    this.clock = options.clock ?? Date.now;
    this.random = options.random ?? Math.random;
  }

  async propose(request: PlanRequest, { signal }: ProposeOptions = {}): Promise<PlanAnswer> {
    const { metrics } = this.options;
    try {
      const answer = await this.answerOnce(request, signal);
      metrics.calls.inc({ outcome: answer.cached ? 'cached' : 'ok' });
      return answer;
    } catch (error) {
      const failure = asLlmError(error);
      metrics.calls.inc({ outcome: failure.code });
      throw failure;
    }
  }

  private async answerOnce(request: PlanRequest, signal?: AbortSignal): Promise<PlanAnswer> {
    const { answers } = this;
    const fingerprint = request.incidentFingerprint;
    const waitUntil = Date.now() + this.lockTtlMs;
    for (;;) {
      const seen = await answers.lookup(fingerprint);
      if (seen.answer) return seen.answer;
      if (seen.failureCode) throw new LlmRecentlyFailedError(seen.failureCode);
      const token = await answers.tryLock(fingerprint);
      if (!token) {
        await this.waitForPeer(fingerprint, waitUntil);
        continue;
      }
      try {
        // A peer may have finished between the lookup and the lock.
        const again = await answers.lookup(fingerprint);
        if (again.answer) return again.answer;
        if (again.failureCode) throw new LlmRecentlyFailedError(again.failureCode);
        return await this.callProvider(request, signal);
      } finally {
        await answers.unlock(fingerprint, token).catch((error: unknown) => {
          this.options.logger?.warn('releasing an incident lock failed; it expires by itself', {
            error: String(error),
          });
        });
      }
    }
  }

  /** Waits while another invocation holds the incident's lock, polling gently. */
  private async waitForPeer(fingerprint: string, waitUntil: number): Promise<void> {
    for (let poll = 0; await this.answers.isLocked(fingerprint); poll += 1) {
      if (Date.now() >= waitUntil) {
        throw new LlmCallInProgressError('another invocation is still asking the LLM about this incident');
      }
      await sleep(Math.min(250, 20 * 2 ** poll));
    }
  }

  /** The provider, with budget, circuit and retries; only ever run by the holder of the incident's lock. */
  private async callProvider(request: PlanRequest, callerSignal?: AbortSignal): Promise<PlanAnswer> {
    const { retry, metrics, logger } = this.options;
    await this.circuit.admit(this.clock());
    const deadline = AbortSignal.timeout(retry.deadlineMs);
    const signal = callerSignal ? AbortSignal.any([deadline, callerSignal]) : deadline;
    const deadlineAt = Date.now() + retry.deadlineMs;
    for (let attempt = 1; ; attempt += 1) {
      await this.reserveCall();
      const stopTimer = metrics.latency.startTimer();
      let failure: LlmError;
      try {
        const answer = await this.inner.propose(request, { signal });
        stopTimer();
        await this.recordTokens(answer.usage);
        await this.circuit.recordSuccess();
        await this.answers.storeAnswer(request.incidentFingerprint, answer);
        return answer;
      } catch (error) {
        stopTimer();
        failure = asLlmError(error);
      }
      if (failure instanceof LlmInvalidAnswerError) await this.recordTokens(failure.usage);
      const delayMs = this.retryDelayMs(failure, attempt, deadlineAt);
      if (delayMs !== undefined && !signal.aborted) {
        logger?.warn('LLM call failed; retrying', { code: failure.code, attempt, delayMs });
        await sleep(delayMs, signal);
      }
      if (delayMs === undefined || signal.aborted) {
        await this.settleFailure(request.incidentFingerprint, failure);
        throw failure;
      }
    }
  }

  private retryDelayMs(failure: LlmError, attempt: number, deadlineAt: number): number | undefined {
    const { retry } = this.options;
    if (!(failure instanceof LlmUnavailableError) || attempt >= retry.maxAttempts) return undefined;
    const exponential = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (attempt - 1));
    const backoff = exponential * (0.5 + this.random() / 2);
    const delay = Math.max(backoff, failure.retryAfterMs ?? 0);
    // A wait that would end past the deadline is pointless: give up now and let the runbook act.
    return Date.now() + delay < deadlineAt ? Math.round(delay) : undefined;
  }

  /** Records a final failure; a Redis error here is logged so the caller still sees the real failure. */
  private async settleFailure(fingerprint: string, failure: LlmError): Promise<void> {
    const { logger } = this.options;
    try {
      // An invalid plan means the provider is up: the failure streak ends (and a half-open probe is released).
      if (failure instanceof LlmUnavailableError || failure instanceof LlmRequestRejectedError) {
        const streak = await this.circuit.recordFailure(this.clock());
        logger?.warn('LLM call failed', { code: failure.code, consecutiveFailures: streak });
      } else {
        await this.circuit.recordSuccess();
      }
      await this.answers.storeFailure(fingerprint, failure.code);
    } catch (error) {
      logger?.error('recording an LLM failure failed', { code: failure.code, error: String(error) });
    }
  }

  private async recordTokens(usage: TokenUsage): Promise<void> {
    const { metrics } = this.options;
    metrics.tokens.inc({ kind: 'prompt' }, usage.promptTokens);
    metrics.tokens.inc({ kind: 'completion' }, usage.completionTokens);
    await this.budget.recordTokens(this.clock(), usage);
  }

  private async reserveCall(): Promise<void> {
    const remaining = await this.budget.reserveCall(this.clock());
    for (const window of ['hour', 'day'] as const) {
      for (const kind of ['calls', 'tokens'] as const) {
        this.options.metrics.budgetRemaining.set({ window, kind }, Math.max(0, remaining[window][kind]));
      }
    }
  }
}

/** Whatever the inner planner throws leaves as an LlmError, so the caller's fallback always applies. */
function asLlmError(error: unknown): LlmError {
  if (error instanceof LlmError) return error;
  if (error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError')) {
    return new LlmTimeoutError('the LLM call was cut off by its deadline', { cause: error });
  }
  return new LlmUnavailableError(`unexpected LLM failure: ${String(error)}`, { cause: error });
}
