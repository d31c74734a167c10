import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { ExecutionResult } from '../shared/contracts/index.js';
import {
  DependencyUnavailableError,
  describeError,
  isRetryable,
  type KubepulseError,
} from '../shared/errors.js';
import { QUARANTINE_ATTRIBUTES } from '../shared/lambda/sqs-records.js';
import type { LoggerPort } from '../shared/logger.js';
import { sleep } from '../shared/retry.js';
import { sendAll } from '../shared/sqs-publisher.js';
import { UnknownSigningKeyError } from './core/errors.js';
import { type ExecutorDeps, executePlanMessage } from './core/execute-plan.js';
import type { ExecutorMetrics } from './metrics.js';

export interface PollerDeps {
  sqs: SQSClient;
  queues: { remediations: string; remediationsDlq: string; results: string };
  polling: {
    visibilityTimeoutSeconds: number;
    waitTimeSeconds: number;
    retryDelaySeconds: number;
    /** The queue's maxReceiveCount: on that delivery a plan still signed by an unknown key is dead-lettered. */
    maxReceives: number;
  };
  executor: ExecutorDeps;
  logger: LoggerPort;
  metrics?: ExecutorMetrics;
  /** Told when the executor asks the queue for work and when it is busy with a plan (for /healthz). */
  health?: { polled(): void; busy(isBusy: boolean): void };
}

/**
 * Long-polls the remediations queue for one message at a time and carries out its plan. One at a time is also
 * one per message group (a FIFO queue holds a group back while one of its messages is in flight), so two plans
 * for the same workload never interleave. Stops between messages once `signal` is aborted: a plan in progress
 * is always finished.
 */
export async function runPoller(deps: PollerDeps, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    try {
      await pollOnce(deps, signal);
    } catch (error) {
      if (signal.aborted) break;
      deps.logger.error('polling the remediations queue failed', { error: describeError(error) });
      await sleep(5000, signal);
    }
  }
}

/** Receives at most one message and handles it; returns how many it handled. */
export async function pollOnce(deps: PollerDeps, signal?: AbortSignal): Promise<number> {
  deps.health?.polled();
  deps.metrics?.lastPoll.setToCurrentTime();
  const response = await deps.sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: deps.queues.remediations,
      MaxNumberOfMessages: 1,
      WaitTimeSeconds: deps.polling.waitTimeSeconds,
      VisibilityTimeout: deps.polling.visibilityTimeoutSeconds,
      // The deprecated form, which SQS still honours and the local emulator understands (it ignores the new one).
      AttributeNames: ['All'],
    }),
    signal ? { abortSignal: signal } : {},
  );
  const message = response.Messages?.[0];
  if (!message) return 0;
  deps.health?.busy(true);
  try {
    await handleMessage(message, deps);
  } finally {
    deps.health?.busy(false);
  }
  return 1;
}

async function handleMessage(message: Message, deps: PollerDeps): Promise<void> {
  const started = performance.now();
  const heartbeat = keepInvisible(message, deps);
  try {
    const outcome = await executePlanMessage(message.Body ?? '', deps.executor);
    if (outcome.kind === 'malformed') {
      await deadLetter(message, outcome.error, deps);
      deps.metrics?.plans.inc({ outcome: 'malformed' });
    } else {
      await publishResult(outcome.result, deps);
      if (outcome.security) deps.metrics?.securityRefusals.inc({ reason: outcome.security });
      deps.metrics?.recordResult(outcome.result, outcome.replayed, (performance.now() - started) / 1000);
    }
    await deleteMessage(message, deps);
  } catch (error) {
    if (error instanceof UnknownSigningKeyError) {
      await unknownKey(message, error, deps);
      return;
    }
    // Left in the queue: redelivered after the retry delay, resumed from the ledger, and dead-lettered by SQS
    // after maxReceiveCount deliveries if it never succeeds.
    deps.metrics?.plans.inc({ outcome: 'retried' });
    deps.logger[isRetryable(error) ? 'warn' : 'error']('plan left for redelivery', {
      messageId: message.MessageId,
      receiveCount: message.Attributes?.ApproximateReceiveCount,
      error: describeError(error),
    });
    await setVisibility(message, deps.polling.retryDelaySeconds, deps).catch(() => undefined);
  } finally {
    heartbeat.stop();
  }
}

/** Longest backoff for a plan signed by an unknown key: SQS allows 12 h, a plan lives an hour at most. */
const MAX_UNKNOWN_KEY_BACKOFF_SECONDS = 900;

/**
 * A plan signed with a key id this executor does not trust. Not deleted: the likely cause is a key rotation
 * done in the wrong order, and the plan becomes valid once the public key is deployed. It is retried with a
 * doubling delay and, on the queue's last delivery, moved to the dead-letter queue with the reason (rather than
 * by SQS's redrive, which carries none). Logged as an error worth paging on, and counted.
 */
async function unknownKey(message: Message, error: UnknownSigningKeyError, deps: PollerDeps): Promise<void> {
  const receiveCount = Number(message.Attributes?.ApproximateReceiveCount ?? '1') || 1;
  const last = receiveCount >= deps.polling.maxReceives;
  deps.metrics?.securityRefusals.inc({ reason: 'unknown-key' });
  deps.logger.error('security: plan signed with an unknown key id; check the key rotation order', {
    security: true,
    page: true,
    planId: error.planId,
    keyId: error.keyId,
    messageId: message.MessageId,
    receiveCount,
    next: last ? 'dead-letter queue' : 'retry',
  });
  if (last) {
    await deadLetter(message, error, deps);
    deps.metrics?.plans.inc({ outcome: 'dead-lettered' });
    await deleteMessage(message, deps);
    return;
  }
  deps.metrics?.plans.inc({ outcome: 'retried' });
  const backoff = Math.min(
    MAX_UNKNOWN_KEY_BACKOFF_SECONDS,
    Math.max(1, deps.polling.retryDelaySeconds) * 2 ** (receiveCount - 1),
  );
  await setVisibility(message, backoff, deps).catch(() => undefined);
}

/** Keeps the message invisible while its plan runs (verification can outlast one visibility timeout). */
function keepInvisible(message: Message, deps: PollerDeps): { stop(): void } {
  const seconds = deps.polling.visibilityTimeoutSeconds;
  const timer = setInterval(
    () => {
      setVisibility(message, seconds, deps).catch((error) =>
        deps.logger.warn('could not extend the message visibility', { error: describeError(error) }),
      );
    },
    Math.max(1000, (seconds * 1000) / 3),
  );
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

function setVisibility(message: Message, seconds: number, deps: PollerDeps) {
  return deps.sqs.send(
    new ChangeMessageVisibilityCommand({
      QueueUrl: deps.queues.remediations,
      ReceiptHandle: message.ReceiptHandle,
      VisibilityTimeout: seconds,
    }),
  );
}

async function publishResult(result: ExecutionResult, deps: PollerDeps): Promise<void> {
  await sendAll(deps.sqs, deps.queues.results, [
    {
      id: result.planId,
      body: result,
      attributes: { 'kubepulse-kind': 'execution-result', 'kubepulse-cluster': result.clusterId },
    },
  ]);
}

/**
 * A body that is not a plan at all (or one no key here will ever verify) goes to the (FIFO) dead-letter queue
 * with its reason, in its own message group, deduplicated by the source message id so a retry of this move
 * cannot park it twice.
 */
async function deadLetter(message: Message, error: KubepulseError, deps: PollerDeps): Promise<void> {
  deps.logger.error('plan moved to the dead-letter queue with its reason', {
    messageId: message.MessageId,
    reason: error.message,
  });
  await sendAll(deps.sqs, deps.queues.remediationsDlq, [
    {
      id: message.MessageId ?? 'malformed',
      body: undefined,
      rawBody: message.Body ?? '',
      groupId: message.Attributes?.MessageGroupId ?? 'malformed',
      deduplicationId: message.MessageId ?? String(Date.now()),
      attributes: {
        [QUARANTINE_ATTRIBUTES.code]: error.code,
        [QUARANTINE_ATTRIBUTES.reason]: error.message,
        [QUARANTINE_ATTRIBUTES.sourceMessageId]: message.MessageId ?? 'unknown',
        [QUARANTINE_ATTRIBUTES.sourceQueue]: deps.queues.remediations,
        [QUARANTINE_ATTRIBUTES.receiveCount]: message.Attributes?.ApproximateReceiveCount ?? '1',
      },
    },
  ]);
}

async function deleteMessage(message: Message, deps: PollerDeps): Promise<void> {
  try {
    await deps.sqs.send(
      new DeleteMessageCommand({ QueueUrl: deps.queues.remediations, ReceiptHandle: message.ReceiptHandle }),
    );
  } catch (error) {
    // Harmless beyond a redelivery: the ledger makes the plan's second delivery re-send its result only.
    throw new DependencyUnavailableError('sqs', `DeleteMessage failed: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
