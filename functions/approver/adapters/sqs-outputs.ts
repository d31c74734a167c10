import type { SQSClient } from '@aws-sdk/client-sqs';
import { sendAlerts, sendPlans } from '../../planner/adapters/sqs-outputs.js';
import { UnknownClusterError } from '../../shared/clusters.js';
import type { Alert, RemediationPlan } from '../../shared/contracts/index.js';
import type { ApproverOutputsPort } from '../core/ports.js';

/**
 * Plans go where the planner's go (their cluster's remediations FIFO, grouped the same way); decisions to the
 * alerts queue.
 */
export function sqsOutputs(
  sqs: SQSClient,
  queues: { remediationsByCluster: ReadonlyMap<string, string>; alertsUrl: string },
): ApproverOutputsPort {
  return {
    sendPlan: async (plan: RemediationPlan) => {
      const url = queues.remediationsByCluster.get(plan.clusterId);
      if (!url) throw new UnknownClusterError(`no remediations queue for cluster ${plan.clusterId}`);
      await sendPlans(sqs, url, [plan]);
    },
    sendAlert: (alert: Alert) => sendAlerts(sqs, queues.alertsUrl, [alert]),
  };
}
