import { BatchProcessor, EventType } from '@aws-lambda-powertools/batch';
import { parser } from '@aws-lambda-powertools/batch/parser';
import { SqsRecordSchema } from '@aws-lambda-powertools/parser/schemas/sqs';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import type { z } from 'zod';
import { describeError, MalformedMessageError } from '../errors.js';
import type { LoggerPort } from '../logger.js';
import { type MalformedRecord, quarantine } from './sqs-records.js';

declare const body: unique symbol;

/**
 * Powertools' batch processor set to validate each record on its own against the SQS record schema with a `T`
 * body (parser integration), so one malformed message fails alone. The type parameter only records what the body
 * parses to.
 */
export type RecordValidator<T> = BatchProcessor & { readonly [body]?: T };

/**
 * Built once per container: given only `innerSchema`, Powertools extends the record schema again for every record,
 * and zod compiles each new object schema on its first parse.
 */
export function sqsRecordValidator<B extends z.ZodType>(
  bodySchema: B,
  logger: LoggerPort,
): RecordValidator<z.output<B>> {
  const schema = SqsRecordSchema.extend({ body: bodySchema });
  return new BatchProcessor(EventType.SQS, { parser, schema, logger });
}

/** A record that passed validation. */
export interface ValidRecord<T> {
  recordId: string;
  message: T;
}

/** What processing decided; a record in neither map was fully processed. */
export interface ProcessedRecords {
  /** Records to retry, with why, by record id. */
  retry: ReadonlyMap<string, Error>;
  /** Records that can never succeed (refused for good downstream), by record id: quarantined like malformed ones. */
  rejected?: ReadonlyMap<string, MalformedRecord['error']>;
}

export interface SqsBatch<T, P extends ProcessedRecords> {
  validator: RecordValidator<T>;
  /** The dead-letter queue a record that can never succeed is moved to. */
  dlq(record: SQSRecord): string;
  /** The function's own work, on the valid records only. */
  process(valid: ValidRecord<T>[]): Promise<P>;
}

export interface SqsBatchOutcome<P> {
  /** Records SQS must deliver again, by messageId: what processing left for retry, then what could not be quarantined. */
  failures: Map<string, Error>;
  processed: P;
  records: { ok: number; retried: number; quarantined: number };
  /** The whole batch, for the function's batch-duration metric. */
  seconds: number;
}

/**
 * One SQS batch, as every SQS-triggered function takes it: validate every record on its own, quarantine the
 * malformed ones in the DLQ with their reason, process the rest, quarantine what processing refused for good, and
 * say which records must be retried. Powertools alone would leave a malformed record to be retried until SQS
 * redrives it without a reason; it is moved to the DLQ now, with the reason attached, and only left for redrive if
 * that move fails.
 */
export async function handleSqsBatch<T, P extends ProcessedRecords>(
  records: readonly SQSRecord[],
  batch: SqsBatch<T, P>,
  io: { sqs: SQSClient; logger: LoggerPort },
): Promise<SqsBatchOutcome<P>> {
  const started = performance.now();
  const { valid, malformed } = await validate(records, batch.validator);
  const malformedLeft = await quarantineEach(malformed, batch, io);
  const processed = await batch.process(valid);
  const byId = new Map(records.map((record) => [record.messageId, record]));
  const rejected = [...(processed.rejected ?? [])].map(([recordId, error]) => ({
    record: byId.get(recordId)!,
    error,
  }));
  const rejectedLeft = await quarantineEach(rejected, batch, io);

  const failures = new Map(processed.retry);
  for (const [unusable, left] of [
    [malformed, malformedLeft],
    [rejected, rejectedLeft],
  ] as const) {
    for (const { record, error } of unusable)
      if (left.has(record.messageId)) failures.set(record.messageId, error);
  }
  if (failures.size > 0) {
    io.logger.warn('records left for retry', {
      count: failures.size,
      reasons: [...new Set([...failures.values()].map((e) => describeError(e).code))],
    });
  }
  const quarantined = malformed.length + rejected.length - malformedLeft.size - rejectedLeft.size;
  return {
    failures,
    processed,
    records: { ok: records.length - failures.size - quarantined, retried: failures.size, quarantined },
    seconds: (performance.now() - started) / 1000,
  };
}

async function validate<T>(
  records: readonly SQSRecord[],
  validator: RecordValidator<T>,
): Promise<{ valid: ValidRecord<T>[]; malformed: MalformedRecord[] }> {
  const valid: ValidRecord<T>[] = [];
  validator.register(
    [...records],
    (record: SQSRecord & { body: T }) => {
      valid.push({ recordId: record.messageId, message: record.body });
    },
    // A batch of nothing but malformed records is quarantined like any other, not thrown back at SQS whole.
    { throwOnFullBatchFailure: false },
  );
  const malformed: MalformedRecord[] = [];
  for (const [status, detail, record] of await validator.process()) {
    if (status === 'fail')
      malformed.push({ record: record as SQSRecord, error: new MalformedMessageError(String(detail)) });
  }
  return { valid, malformed };
}

/** Quarantines each record in its own DLQ; returns the ids that could not be, which must be retried. */
async function quarantineEach(
  unusable: readonly MalformedRecord[],
  batch: Pick<SqsBatch<unknown, ProcessedRecords>, 'dlq'>,
  io: { sqs: SQSClient; logger: LoggerPort },
): Promise<Set<string>> {
  const byQueue = new Map<string, MalformedRecord[]>();
  for (const entry of unusable) {
    const url = batch.dlq(entry.record);
    byQueue.set(url, [...(byQueue.get(url) ?? []), entry]);
  }
  const notQuarantined = new Set<string>();
  for (const [url, group] of byQueue) {
    for (const id of await quarantine(io.sqs, url, group, io.logger)) notQuarantined.add(id);
  }
  return notQuarantined;
}
