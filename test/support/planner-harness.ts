import { type Message, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSHandler } from 'aws-lambda';
import { Redis } from 'ioredis';
import { readPlannerConfig } from '../../functions/planner/config.js';
import { incidentKeyOf } from '../../functions/planner/core/correlate.js';
import { evidenceFromBatch } from '../../functions/planner/core/evidence.js';
import { factsFromIncident } from '../../functions/planner/core/facts.js';
import {
  handlePlannerEvent,
  llmDeadlineOf,
  type PlannerEventOutcome,
} from '../../functions/planner/handle-planner-event.js';
import { createPlannerRuntime, type PlannerRuntime } from '../../functions/planner/runtime.js';
import type { TargetFacts } from '../../functions/shared/actions/index.js';
import {
  type Alert,
  type Anomaly,
  decodeMessageBody,
  encodeMessageBody,
  type RemediationPlan,
} from '../../functions/shared/contracts/index.js';
import { generateSigningKeyPair, type Keyring, parsePublicKeyring } from '../../functions/shared/signing.js';
import { type InvocationReport, invokeOnce } from '../../local/harness/lambda-runner/sqs-event-source.js';
import { PrivateRedisServer } from '../../local/harness/support/redis-server.js';
import { type FakeGemini, startFakeGemini } from '../../local/standins/fake-gemini/server.js';
import { localSqsClient } from '../../local/standins/sqs/client.js';
import { clusterQueuesEnv, type SqsEmulator, startSqsEmulator } from '../../local/standins/sqs/emulator.js';
import { drainQueue, receiveAll as receiveAllFrom } from '../../local/standins/sqs/queue-tools.js';
import { quietLogger } from './loggers.js';

/**
 * The planner on real services: a private Redis, the SQS emulator with every kubepulse queue, and the fake
 * Gemini server that the real @google/generative-ai client talks to. A "container" is one planner runtime
 * built from environment variables exactly as the Lambda builds it, invoked by the local SQS event source.
 */
export const GEMINI_API_KEY = 'fake-gemini-key';
export const quiet = quietLogger;

/** Auto for low and medium risk, and really applied: the most permissive policy a team might run. */
export const OPEN_POLICY = JSON.stringify({ modes: { low: 'auto', medium: 'auto' }, dryRun: false });

export interface PlannerContainer {
  runtime: PlannerRuntime;
  handler: SQSHandler;
  /** What each invocation decided, in order. */
  outcomes: PlannerEventOutcome[];
  close(): Promise<void>;
}

export interface PlannerHarness {
  redisServer: PrivateRedisServer;
  redis: Redis;
  emulator: SqsEmulator;
  sqs: SQSClient;
  fake: FakeGemini;
  /** The planner's environment, pointing at the services above. */
  env: Record<string, string>;
  /** The executors' view: the public half of the planner's key. */
  keyring: Keyring;
  container(overrides?: Record<string, string>): Promise<PlannerContainer>;
  sendAnomalies(bodies: readonly string[]): Promise<void>;
  send(queue: 'anomalies' | 'results', bodies: readonly string[]): Promise<void>;
  invoke(
    container: PlannerContainer,
    queue?: 'anomalies' | 'results',
    timeoutMs?: number,
  ): Promise<InvocationReport | undefined>;
  /** One invocation of any handler (the real Lambda module) from the anomalies queue. */
  invokeHandler(handler: SQSHandler): Promise<InvocationReport | undefined>;
  /** Invokes until the queue is empty, in flight included (retried records come back after 1 s). */
  drain(container: PlannerContainer, queue?: 'anomalies' | 'results'): Promise<InvocationReport[]>;
  receiveAll(queueUrl: string): Promise<Message[]>;
  plansSent(): Promise<Array<{ plan: RemediationPlan; message: Message }>>;
  alertsSent(): Promise<Alert[]>;
  /** Empties Redis, every queue and the fake's records. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

export async function startPlannerHarness(): Promise<PlannerHarness> {
  const redisServer = await PrivateRedisServer.start();
  const redis = new Redis(redisServer.url, { lazyConnect: true, retryStrategy: () => 100 });
  redis.on('error', () => {});
  await redis.connect();
  const emulator = await startSqsEmulator({
    port: 0,
    // the planner fixtures' one cluster (test/support/planner-fixtures.ts)
    clusters: ['prod-eu-1'],
    overrides: {
      anomalies: { visibilityTimeoutSeconds: 1, maxReceiveCount: 4 },
      results: { visibilityTimeoutSeconds: 1, maxReceiveCount: 4 },
    },
  });
  const sqs = localSqsClient(emulator.endpoint);
  const fake = await startFakeGemini({ apiKey: GEMINI_API_KEY });
  const signingPair = generateSigningKeyPair('k1');
  const env: Record<string, string> = {
    REDIS_URL: redisServer.url,
    ALERTS_QUEUE_URL: emulator.queueUrls.alerts!,
    ANOMALIES_DLQ_URL: emulator.dlqUrls.anomalies!,
    CLUSTER_QUEUES: clusterQueuesEnv(emulator).planner,
    PLAN_SIGNING_KEY: signingPair.signingKey,
    GEMINI_API_KEY,
    GEMINI_BASE_URL: fake.url,
    GEMINI_TIMEOUT_MS: '2000',
    LLM_RETRY_ATTEMPTS: '2',
    LLM_RETRY_DEADLINE_MS: '4000',
    AWS_ENDPOINT_URL_SQS: emulator.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
  };
  const containers: PlannerContainer[] = [];

  const container = async (overrides: Record<string, string> = {}): Promise<PlannerContainer> => {
    const config = readPlannerConfig({ ...env, ...overrides });
    const runtime = await createPlannerRuntime(config, quiet, { sqs });
    const outcomes: PlannerEventOutcome[] = [];
    const created: PlannerContainer = {
      runtime,
      outcomes,
      // What functions/planner/handler.ts does, keeping each invocation's outcome for the test to read.
      handler: async (event, context) => {
        const outcome = await handlePlannerEvent(event.Records, runtime, llmDeadlineOf(context));
        outcomes.push(outcome);
        return {
          batchItemFailures: [...outcome.failures.keys()].map((itemIdentifier) => ({ itemIdentifier })),
        };
      },
      close: () => runtime.close(),
    };
    containers.push(created);
    return created;
  };

  const send = async (queue: 'anomalies' | 'results', bodies: readonly string[]) => {
    for (let i = 0; i < bodies.length; i += 10) {
      await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: emulator.queueUrls[queue],
          Entries: bodies.slice(i, i + 10).map((body, k) => ({ Id: `e${k}`, MessageBody: body })),
        }),
      );
    }
  };

  const invokeHandler = (
    handler: SQSHandler,
    queue: 'anomalies' | 'results' = 'anomalies',
    timeoutMs = 30_000,
  ) =>
    invokeOnce({
      sqs,
      queueUrl: emulator.queueUrls[queue]!,
      queueArn: emulator.queueArns[queue]!,
      handler,
      batchSize: 10,
      waitTimeSeconds: 0,
      timeoutMs,
    });
  const invoke = (c: PlannerContainer, queue: 'anomalies' | 'results' = 'anomalies', timeoutMs = 30_000) =>
    invokeHandler(c.handler, queue, timeoutMs);

  const drain = (c: PlannerContainer, queue: 'anomalies' | 'results' = 'anomalies') =>
    drainQueue(sqs, emulator.queueUrls[queue]!, () => invoke(c, queue));
  const receiveAll = (queueUrl: string) => receiveAllFrom(sqs, queueUrl);

  return {
    redisServer,
    redis,
    emulator,
    sqs,
    fake,
    env,
    keyring: parsePublicKeyring(signingPair.publicKeyEntry),
    container,
    sendAnomalies: (bodies) => send('anomalies', bodies),
    send,
    invoke,
    invokeHandler: (handler) => invokeHandler(handler),
    drain,
    receiveAll,
    plansSent: async () =>
      (await receiveAll(emulator.queueUrls.remediations!)).map((message) => ({
        plan: decodeMessageBody(message.Body!) as RemediationPlan,
        message,
      })),
    alertsSent: async () =>
      (await receiveAll(emulator.queueUrls.alerts!)).map((m) => decodeMessageBody(m.Body!) as Alert),
    async reset() {
      await redis.flushall();
      // PurgeQueue may run once a minute per queue: receive and delete instead.
      for (const key of ['anomalies', 'results', 'remediations', 'alerts']) {
        await receiveAll(emulator.queueUrls[key]!);
        await receiveAll(emulator.dlqUrls[key]!);
      }
      fake.reset();
      fake.setDefault({ kind: 'derived' });
      fake.setLatency(0);
    },
    async close() {
      for (const c of containers) await c.close();
      redis.disconnect();
      await fake.close();
      await emulator.close();
      await redisServer.close();
    },
  };
}

export const encodeAll = (anomalies: readonly Anomaly[]) => anomalies.map((a) => encodeMessageBody(a));

/** The facts the planner judged an incident by: its anomalies and what the batch knew about its workload. */
export async function incidentFacts(anomalies: readonly Anomaly[]): Promise<TargetFacts> {
  const key = incidentKeyOf(anomalies[0]!);
  const mine = anomalies.filter((a) => incidentKeyOf(a).fingerprint === key.fingerprint);
  const evidence = await evidenceFromBatch(anomalies)(key);
  return factsFromIncident(key, mine, evidence.facts);
}
