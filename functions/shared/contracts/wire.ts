import { gunzipSync, gzipSync } from 'node:zlib';
import { z } from 'zod';
import { MalformedMessageError, MessageTooLargeError } from '../errors.js';
import type { SampleBatch } from './shipper.js';

/**
 * SQS limits: a message (body + attributes) is at most 256 KiB and a batch request holds at most 10 entries
 * and 256 KiB in total. Bodies above COMPRESS_ABOVE_BYTES are gzipped and base64-encoded inside a small
 * envelope; anything still above MAX_BODY_BYTES must be split by the sender (see splitSampleBatch).
 */
export const SQS_MAX_MESSAGE_BYTES = 262_144;
export const SQS_MAX_BATCH_ENTRIES = 10;
/** Leaves room for message attributes. */
export const MAX_BODY_BYTES = 240 * 1024;
export const COMPRESS_ABOVE_BYTES = 16 * 1024;
/** Refuse to inflate more than this: a small gzip body must not become a memory bomb. */
export const MAX_DECOMPRESSED_BYTES = 8 * 1024 * 1024;

const GZIP_ENCODING = 'gzip+base64';

interface CompressedEnvelope {
  encoding: typeof GZIP_ENCODING;
  data: string;
}

/**
 * What SQS accepts in a body (XML 1.0's Char): #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF.
 * JSON.stringify escapes control characters and lone surrogates but leaves U+FFFE and U+FFFF raw, which SQS
 * refuses (or, through some paths, alters, breaking a plan's signature).
 */
const NOT_SQS_SAFE = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/**
 * JSON text with every character SQS refuses written as a `\uXXXX` escape. Outside strings JSON is ASCII, so
 * such a character can only be inside a string, where the escape decodes to the same character: the parsed value,
 * and so a signature over it, is unchanged.
 */
export function sqsSafeJson(json: string): string {
  return json.replace(NOT_SQS_SAFE, (char) =>
    Array.from(
      { length: char.length },
      (_, i) => `\\u${char.charCodeAt(i).toString(16).padStart(4, '0')}`,
    ).join(''),
  );
}

/** True when SQS would accept `text` as a body or attribute value. */
export function isSqsSafe(text: string): boolean {
  return !new RegExp(NOT_SQS_SAFE.source, 'u').test(text);
}

export function encodeMessageBody(message: unknown): string {
  const json = sqsSafeJson(JSON.stringify(message));
  const jsonBytes = Buffer.byteLength(json);
  if (jsonBytes <= COMPRESS_ABOVE_BYTES) return json;
  const envelope: CompressedEnvelope = {
    encoding: GZIP_ENCODING,
    data: gzipSync(json, { level: 6 }).toString('base64'),
  };
  const body = JSON.stringify(envelope);
  if (Buffer.byteLength(body) > MAX_BODY_BYTES) {
    throw new MessageTooLargeError(
      `message of ${jsonBytes} bytes is ${Buffer.byteLength(body)} bytes compressed, above ${MAX_BODY_BYTES}; split it`,
    );
  }
  return body;
}

/** Parses a body written by encodeMessageBody; the result still has to be validated against a schema. */
export function decodeMessageBody(body: string): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (error) {
    throw new MalformedMessageError(`body is not JSON: ${(error as Error).message}`, { cause: error });
  }
  if (!isCompressedEnvelope(parsed)) return parsed;
  let inflated: Buffer;
  try {
    inflated = gunzipSync(Buffer.from(parsed.data, 'base64'), { maxOutputLength: MAX_DECOMPRESSED_BYTES });
  } catch (error) {
    throw new MalformedMessageError(`compressed body does not inflate: ${(error as Error).message}`, {
      cause: error,
    });
  }
  try {
    return JSON.parse(inflated.toString('utf8'));
  } catch (error) {
    throw new MalformedMessageError(`inflated body is not JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

function isCompressedEnvelope(value: unknown): value is CompressedEnvelope {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { encoding?: unknown }).encoding === GZIP_ENCODING &&
    typeof (value as { data?: unknown }).data === 'string'
  );
}

/**
 * Splits a sample batch into batches whose encoded bodies fit maxBodyBytes: whole series where they fit,
 * a series' samples in halves where one series alone is too big. Each part gets a derived, stable batchId.
 */
export function splitSampleBatch(batch: SampleBatch, maxBodyBytes = MAX_BODY_BYTES): SampleBatch[] {
  const fits = (candidate: SampleBatch) => {
    try {
      return Buffer.byteLength(encodeMessageBody(candidate)) <= maxBodyBytes;
    } catch (error) {
      if (error instanceof MessageTooLargeError) return false;
      throw error;
    }
  };
  if (fits(batch)) return [batch];

  const parts: SampleBatch['series'][] = [];
  const pending = [...batch.series];
  let current: SampleBatch['series'] = [];
  while (pending.length > 0) {
    const series = pending.shift()!;
    const withSeries = [...current, series];
    if (fits({ ...batch, series: withSeries })) {
      current = withSeries;
      continue;
    }
    if (current.length > 0) {
      parts.push(current);
      current = [];
      pending.unshift(series);
      continue;
    }
    if (series.samples.length < 2) {
      throw new MessageTooLargeError(
        `a single sample of ${series.metric} does not fit in ${maxBodyBytes} bytes`,
      );
    }
    const half = Math.ceil(series.samples.length / 2);
    pending.unshift(
      { ...series, samples: series.samples.slice(0, half) },
      { ...series, samples: series.samples.slice(half) },
    );
  }
  if (current.length > 0) parts.push(current);
  return parts.map((series, index) => ({ ...batch, batchId: `${batch.batchId}.${index}`, series }));
}

/** Groups encoded bodies into SendMessageBatch requests within SQS's entry-count and total-size limits. */
export function groupForSendBatch<T extends { body: string }>(
  entries: readonly T[],
  maxEntries = SQS_MAX_BATCH_ENTRIES,
  maxBytes = SQS_MAX_MESSAGE_BYTES,
): T[][] {
  const groups: T[][] = [];
  let group: T[] = [];
  let groupBytes = 0;
  for (const entry of entries) {
    const bytes = Buffer.byteLength(entry.body);
    if (bytes > maxBytes) throw new MessageTooLargeError(`one body is ${bytes} bytes, above ${maxBytes}`);
    if (group.length === maxEntries || groupBytes + bytes > maxBytes) {
      groups.push(group);
      group = [];
      groupBytes = 0;
    }
    group.push(entry);
    groupBytes += bytes;
  }
  if (group.length > 0) groups.push(group);
  return groups;
}

/**
 * An SQS body holding one message of `schema`, plain or in the compressed envelope: for Powertools' parser, so a
 * body that does not decode fails validation like one that does not match.
 */
export function encodedBody<T extends z.ZodType>(schema: T) {
  return z
    .string()
    .transform((body, ctx) => {
      try {
        return decodeMessageBody(body);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    })
    .pipe(schema);
}
