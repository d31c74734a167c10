/**
 * Typed errors that say whether trying again can help. Handlers turn retryable errors into SQS redelivery
 * and non-retryable ones into a dead-letter entry with a reason.
 */
export abstract class KubepulseError extends Error {
  abstract readonly retryable: boolean;
  abstract readonly code: string;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Configuration missing or invalid at start-up; nothing will work until it is fixed. */
export class ConfigError extends KubepulseError {
  readonly retryable = false;
  readonly code = 'config-invalid';
}

/** A message that can never be processed as it is (bad JSON, wrong schema, unknown version). */
export class MalformedMessageError extends KubepulseError {
  readonly retryable = false;
  readonly code = 'malformed-message';
}

/** A message or batch that would exceed a transport limit and must be split by the sender. */
export class MessageTooLargeError extends KubepulseError {
  readonly retryable = false;
  readonly code = 'message-too-large';
}

/** Redis, SQS, the API server or another dependency did not answer; the work should be retried. */
export class DependencyUnavailableError extends KubepulseError {
  readonly retryable = true;
  readonly code: string;

  constructor(dependency: string, message: string, options?: { cause?: unknown }) {
    super(`${dependency}: ${message}`, options);
    this.code = `${dependency}-unavailable`;
  }
}

/** Another worker changed the same state first; retrying with a fresh read resolves it. */
export class ConcurrentUpdateError extends KubepulseError {
  readonly retryable = true;
  readonly code = 'concurrent-update';
}

/** A model file or its metadata does not match what this code expects. */
export class ModelContractError extends KubepulseError {
  readonly retryable = false;
  readonly code = 'model-contract';
}

/** Unknown errors are assumed transient: losing a message is worse than retrying it. */
export function isRetryable(error: unknown): boolean {
  return error instanceof KubepulseError ? error.retryable : true;
}

export function describeError(error: unknown): { code: string; message: string; retryable: boolean } {
  if (error instanceof KubepulseError) {
    return { code: error.code, message: error.message, retryable: error.retryable };
  }
  return {
    code: 'unexpected',
    message: error instanceof Error ? error.message : String(error),
    retryable: true,
  };
}
