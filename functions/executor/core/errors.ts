import { KubepulseError } from '../../shared/errors.js';

/** The API server refused a request for a reason that retrying will not change (403, 422, 400…). */
export class KubernetesRequestError extends KubepulseError {
  readonly retryable = false;
  readonly code: string;

  constructor(
    readonly status: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.code = status === 403 ? 'kubernetes-forbidden' : `kubernetes-${status}`;
  }
}

/** The object changed between our read and our write (HTTP 409); a fresh read and a new patch resolve it. */
export class KubernetesConflictError extends KubepulseError {
  readonly retryable = true;
  readonly code = 'kubernetes-conflict';
}

/** A step's target is gone or not what the plan expects; the plan cannot be applied as signed. */
export class TargetMismatchError extends KubepulseError {
  readonly retryable = false;
  readonly code = 'target-mismatch';
}

/** Another executor holds this plan's ledger entry and is still working on it. */
export class PlanBusyError extends KubepulseError {
  readonly retryable = true;
  readonly code = 'plan-busy';
}

/**
 * A plan signed with a key id this executor does not trust. Retryable on purpose: the usual cause is a key
 * rotation done in the wrong order (the planner switched before the executors learnt the new public key), and
 * deleting the plan would lose it. The poller backs off, pages, and dead-letters it with this reason at the end.
 */
export class UnknownSigningKeyError extends KubepulseError {
  readonly retryable = true;
  readonly code = 'unknown-signing-key';

  constructor(
    readonly keyId: string,
    readonly planId: string,
  ) {
    super(`plan ${planId} is signed with key ${keyId}, which this executor does not trust (yet)`);
  }
}

/**
 * The API server refused to evict a pod because a PodDisruptionBudget allows no disruption now (HTTP 429 on the
 * eviction subresource). Not retryable within the plan: nothing was deleted, and the plan is refused with this
 * reason so the incident is escalated instead of waiting, muted, until the budget allows it.
 */
export class EvictionBlockedError extends KubepulseError {
  readonly retryable = false;
  readonly code = 'eviction-blocked';
}

/**
 * The executor's own safety limits say no to a plan that is otherwise fine: its hourly write budget is spent, or
 * its circuit breaker is open after repeated rollbacks. Thrown only while nothing of the plan was written; the
 * plan is refused with the reason, which starts with `write-budget` or `circuit-open`.
 */
export class SafetyLimitError extends KubepulseError {
  readonly retryable = false;
  constructor(
    readonly code: 'write-budget' | 'circuit-open',
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}
