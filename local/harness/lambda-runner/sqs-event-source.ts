// Local stand-in for Lambda's SQS event-source mapping: poll a queue, build a real-shaped SQSEvent, invoke the
// handler with a Lambda-like context, then delete what succeeded (partial batch responses honoured).
//
// Semantics kept from Lambda:
// - batches of up to `batchSize`, filled until full or until `maximumBatchingWindowMs` after the first message;
// - a thrown error, a rejected promise or a timeout fails the whole batch: nothing is deleted;
// - with ReportBatchItemFailures (on by default) only the records not listed in `batchItemFailures` are
//   deleted; an invalid response (an itemIdentifier that is empty, null or not in the batch, or a
//   `batchItemFailures` that isn't a list) fails the whole batch, as Lambda does;
// - records left undeleted reappear after the visibility timeout and are redriven to the DLQ by the queue's
//   own RedrivePolicy; the runner never changes visibility or moves messages itself.
// Not emulated: concurrent pollers/scaling, the 6 MB payload cap, killing a handler that overruns its timeout
// (the batch is failed but the handler's promise keeps running), filters.
import { randomBytes, randomUUID } from 'node:crypto';
import {
  DeleteMessageBatchCommand,
  type Message,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type {
  Context,
  SQSEvent,
  SQSHandler,
  SQSMessageAttributes,
  SQSRecord,
  SQSRecordAttributes,
} from 'aws-lambda';
import { sleep } from '../../../functions/shared/retry.js';

export type SqsLambdaHandler = SQSHandler;

export interface SqsEventSourceOptions {
  sqs: SQSClient;
  queueUrl: string;
  /** `arn:aws:sqs:REGION:ACCOUNT:NAME`; becomes `eventSourceARN`, and gives `awsRegion` and the account. */
  queueArn: string;
  handler: SqsLambdaHandler;
  /** Records per invocation (Lambda: 1–10,000; above 10 needs a batching window). Default 10. */
  batchSize?: number;
  /** How long to keep filling a batch after its first message. Default 0: invoke with what one poll gets. */
  maximumBatchingWindowMs?: number;
  /** VisibilityTimeout passed on ReceiveMessage; the queue's own setting when omitted (as Lambda does). */
  visibilityTimeoutSeconds?: number;
  signal?: AbortSignal;
  /** Called after every invocation, deletes done. Errors it throws are reported to `onError`. */
  onInvoke?: (report: InvocationReport) => void | Promise<void>;
  /** Polling/deleting errors (the loop backs off and goes on). Default: console.error. */
  onError?: (err: unknown) => void;
  /** Function name in the context. Default: `<queue name>-consumer`. */
  functionName?: string;
  /** The function's timeout: `getRemainingTimeInMillis` counts down from it; overrunning fails the batch. Default 30 s. */
  timeoutMs?: number;
  /** `memoryLimitInMB` in the context. Default 1024. */
  memoryLimitInMB?: number;
  /** Long-poll wait while the queue is empty, 0–20 s. Default 20 (what Lambda's pollers use). */
  waitTimeSeconds?: number;
  /** FunctionResponseTypes: ['ReportBatchItemFailures']. Default true; false deletes the whole batch on success. */
  reportBatchItemFailures?: boolean;
  /** Pause after a failed poll before trying again. Default 1000 ms. */
  errorBackoffMs?: number;
}

export type InvocationOutcome = 'success' | 'partial' | 'error' | 'timeout' | 'invalid-response';

export interface InvocationReport {
  requestId: string;
  functionName: string;
  event: SQSEvent;
  outcome: InvocationOutcome;
  /** What the handler returned (success/partial/invalid-response). */
  response?: unknown;
  /** What the handler threw, or a timeout error. */
  error?: unknown;
  /** messageIds deleted from the queue. */
  deleted: string[];
  /** messageIds left on the queue, to reappear after the visibility timeout. */
  failed: string[];
  /** Deletes SQS refused (e.g. an expired receipt handle); those messages will be delivered again. */
  deleteErrors: { messageId: string; code?: string; message?: string }[];
  durationMs: number;
  /** When the handler was called (epoch ms): the batching window is over by then. */
  startedAt: number;
  /** When the handler settled (epoch ms), before the deletes. */
  handlerSettledAt: number;
}

const MAX_RECEIVE = 10;
const DEFAULT_TIMEOUT_MS = 30_000;

interface ParsedArn {
  region: string;
  account: string;
  name: string;
}

function parseQueueArn(arn: string): ParsedArn {
  const parts = arn.split(':');
  if (parts.length !== 6 || parts[0] !== 'arn' || parts[2] !== 'sqs')
    throw new Error(`not an SQS queue ARN: ${arn}`);
  return { region: parts[3]!, account: parts[4]!, name: parts[5]! };
}

function isAbortError(err: unknown, signal?: AbortSignal): boolean {
  return signal?.aborted === true || (err instanceof Error && err.name === 'AbortError');
}

async function receive(
  opts: SqsEventSourceOptions,
  max: number,
  waitTimeSeconds: number,
  signal: AbortSignal | undefined,
): Promise<Message[]> {
  const out = await opts.sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: opts.queueUrl,
      MaxNumberOfMessages: max,
      WaitTimeSeconds: waitTimeSeconds,
      ...(opts.visibilityTimeoutSeconds !== undefined
        ? { VisibilityTimeout: opts.visibilityTimeoutSeconds }
        : {}),
      // Real SQS reads MessageSystemAttributeNames; local-aws-sqs only reads the older AttributeNames.
      MessageSystemAttributeNames: ['All'],
      AttributeNames: ['All'],
      MessageAttributeNames: ['All'],
    }),
    signal ? { abortSignal: signal } : {},
  );
  return out.Messages ?? [];
}

/**
 * Polls until at least one message arrives (long poll, `waitTimeSeconds` at a time, once if `once`), then
 * fills the batch until `batchSize` or the batching window closes. Returns [] if nothing came or on abort
 * before the first message. Abort after the first message stops filling and returns what is held, so that
 * no received message is left unprocessed.
 */
async function pollBatch(opts: SqsEventSourceOptions, once: boolean): Promise<Message[]> {
  const signal = opts.signal;
  const batchSize = opts.batchSize ?? 10;
  const windowMs = opts.maximumBatchingWindowMs ?? 0;
  const idleWait = Math.min(20, Math.max(0, Math.floor(opts.waitTimeSeconds ?? 20)));
  // Keyed by messageId: one receive can return the same message twice (see fill below), keep the newest copy,
  // whose receipt handle is the valid one.
  const held = new Map<string, Message>();
  const add = (messages: Message[]) => {
    for (const m of messages) held.set(m.MessageId ?? randomUUID(), m);
  };

  // Idle phase: ask for ONE message so the long poll returns as soon as anything arrives. (local-aws-sqs keeps
  // a long poll open until MaxNumberOfMessages are collected or the wait is over, unlike SQS, which returns
  // as soon as it has any; asking for one behaves the same on both.)
  while (held.size === 0) {
    if (signal?.aborted) return [];
    try {
      add(await receive(opts, 1, idleWait, signal));
    } catch (err) {
      if (isAbortError(err, signal)) return [];
      throw err;
    }
    if (once && held.size === 0) return [];
  }

  // Fill phase, bounded by the batching window; with no window, one immediate poll for what is queued already.
  const deadline = Date.now() + windowMs;
  while (held.size < batchSize && !signal?.aborted) {
    const remainingMs = deadline - Date.now();
    const wait = Math.min(20, Math.max(0, Math.floor(remainingMs / 1000)));
    let got: Message[];
    try {
      got = await receive(opts, Math.min(MAX_RECEIVE, batchSize - held.size), wait, signal);
    } catch (err) {
      if (isAbortError(err, signal)) break;
      // Keep what we hold: those messages are in flight already and are better processed than dropped.
      opts.onError?.(err);
      break;
    }
    add(got);
    if (Date.now() >= deadline) break;
    if (got.length === 0 && wait === 0) await sleep(Math.min(remainingMs, 50), signal);
  }
  return [...held.values()];
}

function toRecordAttributes(attrs: Record<string, string> | undefined): SQSRecordAttributes {
  const a = attrs ?? {};
  return {
    ...a,
    ApproximateReceiveCount: a.ApproximateReceiveCount ?? '1',
    SentTimestamp: a.SentTimestamp ?? String(Date.now()),
    SenderId: a.SenderId ?? 'AIDAKUBEPULSELOCAL',
    ApproximateFirstReceiveTimestamp: a.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
  };
}

function toMessageAttributes(attrs: Record<string, MessageAttributeValue> | undefined): SQSMessageAttributes {
  const out: SQSMessageAttributes = {};
  for (const [name, v] of Object.entries(attrs ?? {})) {
    out[name] = {
      ...(v.StringValue !== undefined ? { stringValue: v.StringValue } : {}),
      // Lambda hands binary values over base64-encoded; the SDK decoded them to bytes.
      ...(v.BinaryValue !== undefined ? { binaryValue: Buffer.from(v.BinaryValue).toString('base64') } : {}),
      stringListValues: v.StringListValues ?? [],
      binaryListValues: (v.BinaryListValues ?? []).map((b) => Buffer.from(b).toString('base64')),
      dataType: v.DataType ?? 'String',
    };
  }
  return out;
}

/** The SQSEvent Lambda would build from these received messages. */
export function buildSqsEvent(messages: Message[], queueArn: string): SQSEvent {
  const { region } = parseQueueArn(queueArn);
  return {
    Records: messages.map(
      (m): SQSRecord => ({
        messageId: m.MessageId!,
        receiptHandle: m.ReceiptHandle!,
        body: m.Body ?? '',
        attributes: toRecordAttributes(m.Attributes),
        messageAttributes: toMessageAttributes(m.MessageAttributes),
        md5OfBody: m.MD5OfBody!,
        ...(m.MD5OfMessageAttributes ? { md5OfMessageAttributes: m.MD5OfMessageAttributes } : {}),
        eventSource: 'aws:sqs',
        eventSourceARN: queueArn,
        awsRegion: region,
      }),
    ),
  };
}

/** A Lambda-like context whose clock starts now. */
export function createLambdaContext(options: {
  functionName: string;
  region: string;
  account: string;
  timeoutMs?: number;
  memoryLimitInMB?: number;
  awsRequestId?: string;
}): Context {
  const deadline = Date.now() + (options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const day = new Date().toISOString().slice(0, 10).replaceAll('-', '/');
  const unsupported = (name: string) => () => {
    throw new Error(
      `context.${name}() is deprecated and not supported by the local runner; return or use the callback`,
    );
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: options.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${options.region}:${options.account}:function:${options.functionName}`,
    memoryLimitInMB: String(options.memoryLimitInMB ?? 1024),
    awsRequestId: options.awsRequestId ?? randomUUID(),
    logGroupName: `/aws/lambda/${options.functionName}`,
    logStreamName: `${day}/[$LATEST]${randomBytes(16).toString('hex')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: unsupported('done'),
    fail: unsupported('fail'),
    succeed: unsupported('succeed'),
  };
}

class HandlerTimeoutError extends Error {
  override name = 'HandlerTimeoutError';
}

/** Runs the handler the way Lambda's Node runtime does: a returned promise, or the callback, settles it. */
function callHandler(
  handler: SqsLambdaHandler,
  event: SQSEvent,
  context: Context,
  timeoutMs: number,
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new HandlerTimeoutError(`Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`)),
      timeoutMs,
    );
    const settle = (fn: () => void) => {
      clearTimeout(timer);
      fn();
    };
    // The handler type's callback takes `SQSBatchResponse | void`.
    const callback: Parameters<SqsLambdaHandler>[2] = (err, result) =>
      settle(() => (err ? reject(typeof err === 'string' ? new Error(err) : err) : resolve(result)));
    try {
      const ret = handler(event, context, callback) as unknown;
      if (ret && typeof (ret as PromiseLike<unknown>).then === 'function') {
        (ret as PromiseLike<unknown>).then(
          (v) => settle(() => resolve(v)),
          (e) => settle(() => reject(e)),
        );
      } else if (handler.length < 3) {
        settle(() => resolve(ret)); // synchronous handler that doesn't take the callback
      }
    } catch (err) {
      settle(() => reject(err));
    }
  });
}

/** Which records to keep, per Lambda's rules for partial batch responses; undefined = the whole batch fails. */
function failedIdsFromResponse(response: unknown, batchIds: Set<string>): Set<string> | undefined {
  if (response === undefined || response === null || typeof response !== 'object') return new Set();
  if (!('batchItemFailures' in response)) return new Set();
  const failures = (response as { batchItemFailures: unknown }).batchItemFailures;
  if (failures === null || failures === undefined) return new Set();
  if (!Array.isArray(failures)) return undefined;
  const ids = new Set<string>();
  for (const f of failures) {
    const id = f && typeof f === 'object' ? (f as { itemIdentifier?: unknown }).itemIdentifier : undefined;
    if (typeof id !== 'string' || id === '' || !batchIds.has(id)) return undefined;
    ids.add(id);
  }
  return ids;
}

async function deleteRecords(opts: SqsEventSourceOptions, records: SQSRecord[]) {
  const deleted: string[] = [];
  const deleteErrors: InvocationReport['deleteErrors'] = [];
  for (let i = 0; i < records.length; i += MAX_RECEIVE) {
    const chunk = records.slice(i, i + MAX_RECEIVE);
    try {
      const out = await opts.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: opts.queueUrl,
          Entries: chunk.map((r, j) => ({ Id: String(j), ReceiptHandle: r.receiptHandle })),
        }),
      );
      for (const ok of out.Successful ?? []) deleted.push(chunk[Number(ok.Id)]!.messageId);
      for (const bad of out.Failed ?? []) {
        deleteErrors.push({
          messageId: chunk[Number(bad.Id)]!.messageId,
          code: bad.Code,
          message: bad.Message,
        });
      }
    } catch (err) {
      for (const r of chunk) {
        deleteErrors.push({
          messageId: r.messageId,
          message: err instanceof Error ? err.message : String(err),
        });
      }
    }
  }
  return { deleted, deleteErrors };
}

async function invokeBatch(opts: SqsEventSourceOptions, messages: Message[]): Promise<InvocationReport> {
  const arn = parseQueueArn(opts.queueArn);
  const functionName = opts.functionName ?? `${arn.name.replace(/\.fifo$/, '')}-consumer`;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const event = buildSqsEvent(messages, opts.queueArn);
  const context = createLambdaContext({
    functionName,
    region: arn.region,
    account: arn.account,
    timeoutMs,
    ...(opts.memoryLimitInMB !== undefined ? { memoryLimitInMB: opts.memoryLimitInMB } : {}),
  });
  const started = Date.now();

  let outcome: InvocationOutcome;
  let response: unknown;
  let error: unknown;
  let failedIds: Set<string>;
  const allIds = new Set(event.Records.map((r) => r.messageId));
  try {
    response = await callHandler(opts.handler, event, context, timeoutMs);
    const reported =
      opts.reportBatchItemFailures === false ? new Set<string>() : failedIdsFromResponse(response, allIds);
    if (reported === undefined) {
      outcome = 'invalid-response';
      failedIds = allIds;
    } else {
      outcome = reported.size === 0 ? 'success' : 'partial';
      failedIds = reported;
    }
  } catch (err) {
    error = err;
    outcome = err instanceof HandlerTimeoutError ? 'timeout' : 'error';
    failedIds = allIds;
  }
  const handlerSettledAt = Date.now();

  const toDelete = event.Records.filter((r) => !failedIds.has(r.messageId));
  const { deleted, deleteErrors } =
    toDelete.length > 0 ? await deleteRecords(opts, toDelete) : { deleted: [], deleteErrors: [] };
  const report: InvocationReport = {
    requestId: context.awsRequestId,
    functionName,
    event,
    outcome,
    ...(response !== undefined ? { response } : {}),
    ...(error !== undefined ? { error } : {}),
    deleted,
    failed: event.Records.filter((r) => failedIds.has(r.messageId)).map((r) => r.messageId),
    deleteErrors,
    durationMs: Date.now() - started,
    startedAt: started,
    handlerSettledAt,
  };
  if (opts.onInvoke) {
    try {
      await opts.onInvoke(report);
    } catch (err) {
      (opts.onError ?? console.error)(err);
    }
  }
  return report;
}

/**
 * Exactly one poll-and-invoke: waits up to `waitTimeSeconds` (default 20) for a first message, fills the batch
 * per the batching window, invokes, deletes. Resolves undefined if no message came (or on abort before one).
 */
export async function invokeOnce(options: SqsEventSourceOptions): Promise<InvocationReport | undefined> {
  const messages = await pollBatch(options, true);
  if (messages.length === 0) return undefined;
  return invokeBatch(options, messages);
}

/**
 * Polls and invokes until `signal` aborts; then finishes the invocation in progress (handler and deletes) and
 * resolves. Poll errors (e.g. the emulator is down) go to `onError` and are retried after `errorBackoffMs`.
 */
export async function runSqsEventSource(options: SqsEventSourceOptions): Promise<void> {
  parseQueueArn(options.queueArn); // fail fast on a bad ARN
  const onError = options.onError ?? ((err: unknown) => console.error('[sqs-event-source]', err));
  const opts = { ...options, onError };
  while (!options.signal?.aborted) {
    let messages: Message[];
    try {
      messages = await pollBatch(opts, false);
    } catch (err) {
      if (isAbortError(err, options.signal)) break;
      onError(err);
      await sleep(options.errorBackoffMs ?? 1000, options.signal);
      continue;
    }
    if (messages.length > 0) await invokeBatch(opts, messages);
  }
}
