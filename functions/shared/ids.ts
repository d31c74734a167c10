import { createHash } from 'node:crypto';

/**
 * An id derived from text: the first `length` hex digits (at most 64) of its SHA-256. The same text always gives
 * the same id, which is what lets a retry re-send a message under the id it had the first time.
 */
export function shortId(text: string, length: number): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length);
}
