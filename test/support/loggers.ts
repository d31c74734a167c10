import type { LoggerPort } from '../../functions/shared/logger.js';

/** Drops every line: for tests and benches whose subject is not the log. */
export const quietLogger: LoggerPort = { debug() {}, info() {}, warn() {}, error() {} };

/** Drops all but errors, which go to stderr, so a failing run still says why. */
export const errorsOnlyLogger: LoggerPort = {
  ...quietLogger,
  error: (message, ...extra) => console.error(message, ...extra),
};
