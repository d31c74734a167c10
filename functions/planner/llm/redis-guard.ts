import { LlmError, LlmGuardUnavailableError } from './errors.js';

/** A Redis failure inside a guard becomes an `LlmError`: with no budget or cache to consult, no call is made. */
export async function guardRedis<T>(what: string, operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (error instanceof LlmError) throw error;
    throw new LlmGuardUnavailableError(`redis: ${what} failed: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
