import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSRecord } from 'aws-lambda';
import { z } from 'zod';
import { ClusterMismatchError, UnknownClusterError } from '../shared/clusters.js';
import {
  type Alert,
  Anomaly,
  ExecutionResult,
  encodedBody,
  type RemediationPlan,
} from '../shared/contracts/index.js';
import { describeError } from '../shared/errors.js';
import {
  handleSqsBatch,
  type RecordValidator,
  sqsRecordValidator,
  type ValidRecord,
} from '../shared/lambda/sqs-batch.js';
import type { MalformedRecord } from '../shared/lambda/sqs-records.js';
import type { LoggerPort } from '../shared/logger.js';
import { type OutputQueues, sendAlerts, sendPlans } from './adapters/sqs-outputs.js';
import { evidenceFromBatch } from './core/evidence.js';
import { type IncidentOutcome, type PlannerDeps, planIncidents } from './core/plan-incident.js';
import { alertForResult } from './core/result-alert.js';
import type { LlmPlanner } from './llm/provider.js';
import type { PlannerMetrics } from './metrics.js';

/** What the planner consumes: anomalies from the inference function, execution results from the executor. */
const PlannerMessage = z.discriminatedUnion('kind', [Anomaly, ExecutionResult]);
type PlannerMessage = z.infer<typeof PlannerMessage>;

/** A body on either queue: plain or compressed JSON (see the wire codec) holding one message. */
const PlannerBody = encodedBody(PlannerMessage);

/** Validates each record on its own, so one malformed message fails alone. */
export function createRecordValidator(logger: LoggerPort): RecordValidator<PlannerMessage> {
  return sqsRecordValidator(PlannerBody, logger);
}

export interface PlannerQueues extends OutputQueues {
  anomaliesDlqUrl: string;
  clusters: ReadonlyMap<string, { remediationsQueueUrl: string; resultsDlqUrl: string }>;
  /**
   * Each cluster's results queue ARN -> cluster id: a result's cluster is the queue it came from (only that
   * cluster's executor may send there). Records from any other queue are from the anomalies queue.
   */
  clusterByResultsQueue: ReadonlyMap<string, string>;
}

export interface PlannerEventDeps {
  /** The planning core's dependencies; the lookup is made per batch. */
  core: Omit<PlannerDeps, 'lookup'>;
  sqs: SQSClient;
  queues: PlannerQueues;
  logger: LoggerPort;
  validator: RecordValidator<PlannerMessage>;
  metrics?: PlannerMetrics;
}

/** Time kept back from Lambda's deadline to fall back to a runbook, send, answer and push metrics. */
const FINISHING_MS = 5000;

/** When the LLM must have answered in this invocation (epoch ms). */
export const llmDeadlineOf = (context: Context) =>
  Date.now() + context.getRemainingTimeInMillis() - FINISHING_MS;

export interface PlannerEventOutcome {
  /** Records to retry, by messageId. */
  failures: Map<string, Error>;
  incidents: IncidentOutcome[];
}

/**
 * One SQS batch from the anomalies or the results queue: validate every record, dead-letter the malformed ones
 * (with the reason) in the DLQ of the queue they came from, plan the anomalies' incidents and send what planning
 * decided, turn execution results into alerts, and say which records must be retried. A retry is always safe:
 * planning is idempotent per incident and a redelivery re-sends the same messages with the same ids.
 *
 * `deadline` (epoch ms) is when the LLM must have answered, so that a slow model still leaves the invocation
 * time to fall back to a runbook and send the result.
 */
export async function handlePlannerEvent(
  records: readonly SQSRecord[],
  deps: PlannerEventDeps,
  deadline: number,
): Promise<PlannerEventOutcome> {
  const { anomaliesDlqUrl, clusterByResultsQueue } = deps.queues;
  // The cluster whose results queue a record came from; none: the anomalies queue.
  const resultsClusterOf = new Map<string, string | undefined>(
    records.map((record) => [record.messageId, clusterByResultsQueue.get(record.eventSourceARN)]),
  );
  const batch = await handleSqsBatch(
    records,
    {
      validator: deps.validator,
      // A malformed record goes to the DLQ of the queue it came from.
      dlq: (record) => {
        const cluster = resultsClusterOf.get(record.messageId);
        return cluster ? deps.queues.clusters.get(cluster)!.resultsDlqUrl : anomaliesDlqUrl;
      },
      process: (valid) => planBatch(valid, resultsClusterOf, deps, deadline),
    },
    deps,
  );
  const { incidents, sent } = batch.processed;
  deps.metrics?.recordBatch(incidents, sent, batch.records, batch.seconds);
  return { failures: batch.failures, incidents };
}

/**
 * Sorts the valid records, refusing for good (dead-letter with the reason) what no sender could honestly have sent:
 * a result whose clusterId is not its results queue's cluster (`cluster-mismatch`: one cluster's executor reporting
 * on another's incidents), a result that came from the anomalies queue or an anomaly from a results queue
 * (`cluster-mismatch`: only the inference function sends anomalies, and only executors results), and an anomaly for
 * a cluster this deployment does not serve (`unknown-cluster`: it has no remediations queue and no key).
 */
function sortByKind(
  valid: readonly ValidRecord<PlannerMessage>[],
  resultsClusterOf: ReadonlyMap<string, string | undefined>,
  deps: PlannerEventDeps,
) {
  const anomalies: ValidRecord<Anomaly>[] = [];
  const results: ValidRecord<ExecutionResult>[] = [];
  const rejected = new Map<string, MalformedRecord['error']>();
  for (const { recordId, message } of valid) {
    const source = resultsClusterOf.get(recordId);
    if (message.kind === 'anomaly') {
      if (source !== undefined) {
        rejected.set(recordId, new ClusterMismatchError(`an anomaly on cluster ${source}'s results queue`));
      } else if (!deps.queues.clusters.has(message.clusterId)) {
        rejected.set(
          recordId,
          new UnknownClusterError(`anomaly for cluster ${message.clusterId}, which is not served here`),
        );
      } else anomalies.push({ recordId, message });
    } else if (source === undefined) {
      rejected.set(
        recordId,
        new ClusterMismatchError(`a result for cluster ${message.clusterId} not on its results queue`),
      );
    } else if (message.clusterId !== source) {
      rejected.set(
        recordId,
        new ClusterMismatchError(
          `result from cluster ${source}'s results queue claims cluster ${message.clusterId}`,
        ),
      );
    } else results.push({ recordId, message });
  }
  return { anomalies, results, rejected };
}

async function planBatch(
  valid: readonly ValidRecord<PlannerMessage>[],
  resultsClusterOf: ReadonlyMap<string, string | undefined>,
  deps: PlannerEventDeps,
  deadline: number,
) {
  const { anomalies, results, rejected } = sortByKind(valid, resultsClusterOf, deps);
  if (rejected.size > 0) {
    deps.logger.warn('records refused: their sender does not match their cluster', {
      count: rejected.size,
      reasons: [...new Set([...rejected.values()].map((e) => e.code))],
    });
  }
  const failures = new Map<string, Error>();
  const sent = { plans: 0, alerts: 0 };
  // Results first: a breach that came back after its plan concluded, in this same batch, is planned again.
  const concluded = await concludeIncidents(results, deps, failures);
  const incidents = await planAndSend(anomalies, deps, deadline, failures, sent);
  await alertResults(concluded, deps, failures, sent);
  return { retry: failures, rejected, incidents, sent };
}

async function planAndSend(
  received: readonly ValidRecord<Anomaly>[],
  deps: PlannerEventDeps,
  deadline: number,
  failures: Map<string, Error>,
  sent: { plans: number; alerts: number },
): Promise<IncidentOutcome[]> {
  if (received.length === 0) return [];
  // SQS may deliver one message twice, even in one batch: plan each anomaly once, answer for every record.
  const recordsOf = new Map<string, string[]>();
  const unique = new Map<string, Anomaly>();
  for (const { recordId, message } of received) {
    recordsOf.set(message.anomalyId, [...(recordsOf.get(message.anomalyId) ?? []), recordId]);
    if (!unique.has(message.anomalyId)) unique.set(message.anomalyId, message);
  }
  const batch = [...unique.values()];
  const llm = deps.core.llm && withDeadline(deps.core.llm, deadline);
  const result = await planIncidents(batch, {
    ...deps.core,
    ...(llm ? { llm } : {}),
    lookup: evidenceFromBatch(batch),
  });
  const failRecordsOf = (anomalyIds: Iterable<string>, error: Error) => {
    for (const anomalyId of anomalyIds)
      for (const recordId of recordsOf.get(anomalyId) ?? []) failures.set(recordId, error);
  };
  for (const [anomalyId, error] of result.failures) failRecordsOf([anomalyId], error);

  for (const incident of result.incidents) {
    const plans: RemediationPlan[] = [];
    const alerts: Alert[] = [];
    // Approval requests are stored by the core, which also emits the alert that asks for the approval.
    for (const output of incident.outputs) {
      if (output.kind === 'plan') plans.push(output.plan);
      else if (output.kind === 'alert') alerts.push(output.alert);
    }
    try {
      // Each plan to its own cluster's queue: no executor ever receives (and deletes) another cluster's plans.
      for (const plan of plans) {
        const queue = deps.queues.clusters.get(plan.clusterId);
        if (!queue) throw new UnknownClusterError(`no remediations queue for cluster ${plan.clusterId}`);
        await sendPlans(deps.sqs, queue.remediationsQueueUrl, [plan]);
      }
      sent.plans += plans.length;
      await sendAlerts(deps.sqs, deps.queues.alertsUrl, alerts);
      sent.alerts += alerts.length;
    } catch (error) {
      deps.logger.error('sending what was planned failed; the incident’s records will be retried', {
        fingerprint: incident.fingerprint,
        error: describeError(error),
      });
      failRecordsOf(incident.anomalyIds, error as Error);
    }
  }
  return result.incidents;
}

/** The LLM, cut off when the invocation's deadline comes. */
function withDeadline(llm: LlmPlanner, deadline: number): LlmPlanner {
  const signal = AbortSignal.timeout(Math.max(0, deadline - Date.now()));
  return { propose: (request) => llm.propose(request, { signal }) };
}

/**
 * Ends each result's incident episode. A result whose conclusion could not be stored is retried whole (its alert
 * with it), so the next breach of that workload is never mistaken for the one already planned.
 */
async function concludeIncidents(
  received: readonly ValidRecord<ExecutionResult>[],
  deps: PlannerEventDeps,
  failures: Map<string, Error>,
): Promise<ValidRecord<ExecutionResult>[]> {
  const stored: ValidRecord<ExecutionResult>[] = [];
  for (const entry of received) {
    const { planId, status, finishedAt, incidentId, clusterId } = entry.message;
    try {
      // clusterId is authenticated by now (its results queue): only that cluster's plans can be concluded by it.
      const outcome = await deps.core.state.concludeIncident(
        incidentId,
        { planId, status, finishedAt },
        clusterId,
      );
      deps.logger.info('execution result received', { incidentId, planId, status, outcome });
      stored.push(entry);
    } catch (error) {
      deps.logger.error('recording an execution result failed; the result will be retried', {
        incidentId,
        planId,
        error: describeError(error),
      });
      failures.set(entry.recordId, error as Error);
    }
  }
  return stored;
}

async function alertResults(
  received: readonly ValidRecord<ExecutionResult>[],
  deps: PlannerEventDeps,
  failures: Map<string, Error>,
  sent: { plans: number; alerts: number },
): Promise<void> {
  if (received.length === 0) return;
  try {
    await sendAlerts(
      deps.sqs,
      deps.queues.alertsUrl,
      received.map(({ message }) => alertForResult(message)),
    );
    sent.alerts += received.length;
  } catch (error) {
    deps.logger.error('sending alerts for execution results failed; their records will be retried', {
      error: describeError(error),
    });
    for (const { recordId } of received) failures.set(recordId, error as Error);
  }
}
