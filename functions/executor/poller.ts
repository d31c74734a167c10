import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { decodeMessageBody, type ExecutionResult, RemediationPlan } from '../shared/contracts/index.js';
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
import { sweepAbandoned } from './core/sweeper.js';
import type { ExecutorMetrics } from './metrics.js';
import { PlanSlots, planKeysOf } from './plan-slots.js';

export interface PollerDeps {
  sqs: SQSClient;
  queues: { remediations: string; remediationsDlq: string; results: string };
  polling: {
    visibilityTimeoutSeconds: number;
    waitTimeSeconds: number;
    /** The first retry's delay; each further delivery doubles it, up to `maxRetryDelaySeconds`. */
    retryDelaySeconds: number;
    maxRetryDelaySeconds: number;
    /**
     * The queue's maxReceiveCount. On that delivery a plan still signed by an unknown key is dead-lettered with
     * its reason; a plan failing for a retryable reason (or one already claimed) is put back as a fresh message
     * instead, so that SQS's redrive never parks a claimed, possibly half-applied plan.
     */
    maxReceives: number;
    /**
     * Plans carried out side by side (runPoller; pollOnce takes one). Plans on different objects only: a plan
     * waits for an earlier one on any object it touches (plan-slots.ts). Default 1.
     */
    maxPlansInFlight?: number;
  };
  /** Settles plans left unfinished in the ledger: at start-up and then every `intervalSeconds`. */
  sweep?: { intervalSeconds: number; idleSeconds: number };
  executor: ExecutorDeps;
  logger: LoggerPort;
  metrics?: ExecutorMetrics;
  /** Told when the executor asks the queue for work and when it is busy with a plan (for /healthz). */
  health?: { polled(): void; busy(isBusy: boolean): void };
}

/**
 * Long-polls the remediations queue and carries out up to `maxPlansInFlight` plans at once, so that one plan's
 * verification (a rollout, tens of seconds) does not hold back another workload's plan. Plans for one workload
 * still run one at a time and in order: the FIFO queue holds a message group back while one of its messages is in
 * flight, and PlanSlots makes plans touching a common object wait for each other. Stops receiving once `signal`
 * is aborted, and resolves when the plans in progress have finished: a plan in progress is always finished.
 */
export async function runPoller(deps: PollerDeps, signal: AbortSignal): Promise<void> {
  const slots = new PlanSlots(deps.polling.maxPlansInFlight ?? 1);
  let lastSweep = Number.NEGATIVE_INFINITY;
  while (!signal.aborted) {
    const sinceSweep = performance.now() - lastSweep;
    const interval = (deps.sweep?.intervalSeconds ?? 0) * 1000;
    // The sweeper never works beside a plan in progress in this process: it runs when none is, and once a whole
    // interval overdue it stops receiving until they have finished.
    if (deps.sweep && sinceSweep >= interval && (slots.size === 0 || sinceSweep >= 2 * interval)) {
      await slots.idle();
      lastSweep = performance.now();
      await sweepOnce(deps).catch((error) =>
        deps.logger.error('sweeping the ledger failed; tried again next interval', {
          error: describeError(error),
        }),
      );
    }
    await slots.whenFree();
    if (signal.aborted) break;
    let messages: Message[];
    try {
      messages = await receive(deps, signal);
    } catch (error) {
      if (signal.aborted) break;
      deps.logger.error('polling the remediations queue failed', { error: describeError(error) });
      await sleep(5000, signal).catch(() => undefined);
      continue;
    }
    for (const message of messages) {
      // Invisible from now on, also while it waits for an earlier plan on the same object.
      const heartbeat = keepInvisible(message, deps);
      void slots
        .run(planKeysOf(message.Body ?? ''), () => handleTracked(message, deps, heartbeat))
        .catch((error) =>
          deps.logger.error('a plan message could not be settled; it will be delivered again', {
            messageId: message.MessageId,
            error: describeError(error),
          }),
        )
        .finally(() => heartbeat.stop());
    }
  }
  await slots.idle();
}

/**
 * One message per receive, also with slots free: the long poll then returns the moment one plan is queued (the
 * local emulator, unlike SQS, holds a long poll open until it has as many messages as were asked for), and the
 * loop asks again at once while slots are free. One request per plan costs nothing worth saving.
 */
async function receive(deps: PollerDeps, signal?: AbortSignal): Promise<Message[]> {
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
  return response.Messages ?? [];
}

async function handleTracked(message: Message, deps: PollerDeps, heartbeat?: { stop(): void }) {
  deps.health?.busy(true);
  try {
    await handleMessage(message, deps, heartbeat);
  } finally {
    deps.health?.busy(false);
  }
}

/** Receives at most one message and handles it; returns how many it handled. */
export async function pollOnce(deps: PollerDeps, signal?: AbortSignal): Promise<number> {
  const [message] = await receive(deps, signal);
  if (!message) return 0;
  await handleTracked(message, deps);
  return 1;
}

/**
 * One pass of the sweeper (core/sweeper.ts): the plans it settled are reported on the results queue like any
 * other; the ones it could not settle are logged as errors worth paging on and counted, and tried again next time.
 */
export async function sweepOnce(deps: PollerDeps): Promise<void> {
  if (!deps.sweep) return;
  const report = await sweepAbandoned(deps.executor, deps.sweep.idleSeconds);
  for (const result of report.settled) {
    deps.logger.warn('sweeper settled a plan left unfinished', {
      planId: result.planId,
      status: result.status,
      error: result.error,
    });
    await publishResult(result, deps);
    deps.metrics?.swept.inc({ outcome: result.status });
  }
  for (const { planId, reason } of report.unsettled) {
    deps.logger.error('sweeper could not settle a plan left unfinished; it may be half applied', {
      page: true,
      planId,
      reason,
    });
    deps.metrics?.swept.inc({ outcome: 'unsettled' });
  }
  deps.metrics?.unsettled.set(report.unsettled.length);
}

async function handleMessage(
  message: Message,
  deps: PollerDeps,
  heartbeat = keepInvisible(message, deps),
): Promise<void> {
  const started = performance.now();
  try {
    const outcome = await executePlanMessage(message.Body ?? '', deps.executor);
    if (outcome.kind === 'malformed') {
      await deadLetter(message, outcome.error, deps);
      deps.metrics?.plans.inc({ outcome: 'malformed' });
    } else {
      await publishResult(outcome.result, deps);
      if (outcome.security) deps.metrics?.securityRefusals.inc({ reason: outcome.security });
      if (outcome.limit) deps.metrics?.limitRefusals.inc({ reason: outcome.limit });
      deps.metrics?.recordResult(outcome.result, outcome.replayed, (performance.now() - started) / 1000);
    }
    await deleteMessage(message, deps);
  } catch (error) {
    heartbeat.stop();
    if (error instanceof UnknownSigningKeyError) {
      await unknownKey(message, error, deps);
      return;
    }
    await retryLater(message, error, deps);
  } finally {
    heartbeat.stop();
  }
}

/** The delay before delivery `receiveCount + 1`: doubling from the retry delay, capped. */
export function retryBackoffSeconds(
  receiveCount: number,
  polling: Pick<PollerDeps['polling'], 'retryDelaySeconds' | 'maxRetryDelaySeconds'>,
): number {
  const doubled = polling.retryDelaySeconds * 2 ** Math.min(30, Math.max(0, receiveCount - 1));
  return Math.min(polling.maxRetryDelaySeconds, doubled);
}

/**
 * A plan that could not finish now (the API server or SQS out, a conflict, or a fault it cannot judge). It stays
 * invisible with a doubling backoff and is resumed from the ledger on redelivery. A claimed plan is never
 * dead-lettered: it may be half applied, and only this executor (or its sweeper) can verify or undo it. So on
 * the queue's last delivery, before SQS's redrive would park it without a reason, it is put back as a fresh
 * message; only a plan never claimed that failed for a reason retrying cannot change goes to the DLQ, with it.
 */
async function retryLater(message: Message, error: unknown, deps: PollerDeps): Promise<void> {
  const receiveCount = Number(message.Attributes?.ApproximateReceiveCount ?? '1') || 1;
  const retryable = isRetryable(error);
  const last = receiveCount >= deps.polling.maxReceives;
  const backoff = retryBackoffSeconds(receiveCount, deps.polling);
  deps.logger[retryable ? 'warn' : 'error']('plan left for redelivery', {
    messageId: message.MessageId,
    receiveCount,
    backoffSeconds: backoff,
    error: describeError(error),
  });
  if (!last) {
    deps.metrics?.plans.inc({ outcome: 'retried' });
    await setVisibility(message, backoff, deps).catch(() => undefined);
    return;
  }
  const claimed = await claimState(message, deps);
  if (!retryable && claimed === 'unclaimed') {
    await deadLetter(message, asKubepulseError(error), deps);
    deps.metrics?.plans.inc({ outcome: 'dead-lettered' });
    await deleteMessage(message, deps);
    return;
  }
  deps.logger[claimed === 'unclaimed' ? 'warn' : 'error'](
    'plan put back as a fresh message on its last delivery instead of being dead-lettered',
    { page: claimed !== 'unclaimed', messageId: message.MessageId, receiveCount, claimed },
  );
  try {
    await requeue(message, receiveCount, deps);
    deps.metrics?.plans.inc({ outcome: 'requeued' });
    await deleteMessage(message, deps);
  } catch (requeueError) {
    // SQS itself is out: the message stays with its backoff; the sweeper settles the plan if it comes to that.
    deps.logger.error('could not put the plan back; it may reach the dead-letter queue', {
      page: true,
      messageId: message.MessageId,
      error: describeError(requeueError),
    });
    await setVisibility(message, backoff, deps).catch(() => undefined);
  }
}

/**
 * Whether the ledger holds the message's plan. Unknown when the API server cannot say, which is treated like
 * claimed: deny the dead-letter queue by default.
 */
async function claimState(message: Message, deps: PollerDeps): Promise<'claimed' | 'unclaimed' | 'unknown'> {
  let planId: string;
  try {
    const parsed = RemediationPlan.safeParse(decodeMessageBody(message.Body ?? ''));
    if (!parsed.success) return 'unclaimed';
    planId = parsed.data.planId;
  } catch {
    return 'unclaimed';
  }
  try {
    return (await deps.executor.ledger.find(planId)) ? 'claimed' : 'unclaimed';
  } catch {
    return 'unknown';
  }
}

/**
 * The same body again, in the same message group, delayed like a retry would be (FIFO queues take no
 * DelaySeconds per message, so the copy is visible at once and a receive re-applies the backoff after it fails
 * again). Deduplicated by the source message and its delivery, so a retried requeue does not send two.
 */
async function requeue(message: Message, receiveCount: number, deps: PollerDeps) {
  await sendAll(deps.sqs, deps.queues.remediations, [
    {
      id: message.MessageId ?? 'requeued',
      body: undefined,
      rawBody: message.Body ?? '',
      groupId: message.Attributes?.MessageGroupId ?? 'requeued',
      deduplicationId: `${message.MessageId ?? 'requeued'}-r${receiveCount}`.slice(0, 128),
      attributes: { 'kubepulse-requeued-from': message.MessageId ?? 'unknown' },
    },
  ]);
}

function asKubepulseError(error: unknown): KubepulseError {
  if (error instanceof Error && 'code' in error && 'retryable' in error) return error as KubepulseError;
  return new DependencyUnavailableError('executor', describeError(error).message, { cause: error });
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
