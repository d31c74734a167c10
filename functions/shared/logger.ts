import { Logger } from '@aws-lambda-powertools/logger';

/** The narrow logging surface the cores need; Powertools' Logger satisfies it, and so does a test spy. */
export interface LoggerPort {
  debug(message: string, ...extra: Record<string, unknown>[]): void;
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
}

/** Structured JSON logs (Powertools) for a named service; LOG_LEVEL / POWERTOOLS_LOG_LEVEL set the level. */
export function createLogger(serviceName: string, persistentKeys: Record<string, string> = {}): Logger {
  return new Logger({ serviceName, persistentKeys });
}
