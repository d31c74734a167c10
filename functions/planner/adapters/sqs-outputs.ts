import type { SQSClient } from '@aws-sdk/client-sqs';
import { specOf, targetOf, targetPath } from '../../shared/actions/index.js';
import type { Alert, RemediationPlan } from '../../shared/contracts/index.js';
import { shortId } from '../../shared/ids.js';
import { sendAll } from '../../shared/sqs-publisher.js';

/**
 * Where the planner's messages go: signed plans to their cluster's remediations FIFO queue, one message group per target
 * (so the executor applies a workload's plans in order, and different workloads' in parallel) and deduplicated
 * by plan id; alerts to the alerts queue. Every id is stable, so sending again after a failure is safe.
 */
export interface OutputQueues {
  /** Each cluster's own remediations queue (only that cluster's executor can read it), by cluster id. */
  clusters: ReadonlyMap<string, { remediationsQueueUrl: string }>;
  alertsUrl: string;
}

/** SQS allows 128 characters in a message group id. */
const MAX_GROUP_ID = 128;

/** `cluster/namespace/Kind/name` of the plan's target workload (or pod), or `cluster/node/name`. */
export function messageGroupOf(plan: RemediationPlan): string {
  // Policy keeps every action of a plan on the incident's own target; a workload action names it best.
  const action = plan.actions.find((candidate) => specOf(candidate).scope === 'workload') ?? plan.actions[0]!;
  const group = `${plan.clusterId}/${targetPath(targetOf(action))}`;
  if (group.length <= MAX_GROUP_ID) return group;
  // Too long to use as it is: a readable start and a hash that keeps it unique.
  return `${group.slice(0, MAX_GROUP_ID - 33)}#${shortId(group, 32)}`;
}

export async function sendPlans(
  sqs: SQSClient,
  queueUrl: string,
  plans: readonly RemediationPlan[],
): Promise<void> {
  if (plans.length === 0) return;
  await sendAll(
    sqs,
    queueUrl,
    plans.map((plan) => ({
      id: plan.planId,
      body: plan,
      groupId: messageGroupOf(plan),
      deduplicationId: plan.planId,
      attributes: { 'kubepulse-kind': plan.kind, 'kubepulse-cluster': plan.clusterId },
    })),
  );
}

export async function sendAlerts(sqs: SQSClient, queueUrl: string, alerts: readonly Alert[]): Promise<void> {
  if (alerts.length === 0) return;
  await sendAll(
    sqs,
    queueUrl,
    alerts.map((alert) => ({
      id: alert.alertId,
      body: alert,
      attributes: { 'kubepulse-kind': alert.kind, 'kubepulse-cluster': alert.clusterId },
    })),
  );
}
