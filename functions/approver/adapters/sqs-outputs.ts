import type { SQSClient } from '@aws-sdk/client-sqs';
import { sendAlerts, sendPlans } from '../../planner/adapters/sqs-outputs.js';
import type { Alert, RemediationPlan } from '../../shared/contracts/index.js';
import type { ApproverOutputsPort } from '../core/ports.js';

/** Plans go where the planner's go (the remediations FIFO, grouped the same way); decisions to the alerts queue. */
export function sqsOutputs(
  sqs: SQSClient,
  queues: { remediationsUrl: string; alertsUrl: string },
): ApproverOutputsPort {
  return {
    sendPlan: (plan: RemediationPlan) => sendPlans(sqs, queues.remediationsUrl, [plan]),
    sendAlert: (alert: Alert) => sendAlerts(sqs, queues.alertsUrl, [alert]),
  };
}
