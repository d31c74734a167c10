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
