import type { LoggerPort } from '../../functions/shared/logger.js';

/** Drops every line: for tests and benches whose subject is not the log. */
export const quietLogger: LoggerPort = { debug() {}, info() {}, warn() {}, error() {} };

/** Drops all but errors, which go to stderr, so a failing run still says why. */
export const errorsOnlyLogger: LoggerPort = {
  ...quietLogger,
  error: (message, ...extra) => console.error(message, ...extra),
};

/** Keeps every line, so a test can assert what was logged (a security event, a page). */
export class RecordingLogger implements LoggerPort {
  readonly lines: Array<{ level: string; message: string; fields: Record<string, unknown> }> = [];
  private record(level: string, message: string, extra: Record<string, unknown>[]) {
    this.lines.push({ level, message, fields: Object.assign({}, ...extra) });
  }
  debug(message: string, ...extra: Record<string, unknown>[]) {
    this.record('debug', message, extra);
  }
  info(message: string, ...extra: Record<string, unknown>[]) {
    this.record('info', message, extra);
  }
  warn(message: string, ...extra: Record<string, unknown>[]) {
    this.record('warn', message, extra);
  }
  error(message: string, ...extra: Record<string, unknown>[]) {
    this.record('error', message, extra);
  }
}
