import type { CoreV1Event, KubernetesObject } from '@kubernetes/client-node';
import type { RemediationAction } from '../../shared/contracts/index.js';
import { describeError } from '../../shared/errors.js';
import { shortId } from '../../shared/ids.js';
import type { LoggerPort } from '../../shared/logger.js';
import type { ClusterPort, ObjectRef } from './ports.js';

export const EVENT_REASONS = {
  applied: 'KubepulseRemediation',
  rolledBack: 'KubepulseRollback',
  refused: 'KubepulseRemediationRefused',
} as const;

export interface AuditEntry {
  planId: string;
  incidentId: string;
  stepIndex: number;
  action: RemediationAction;
  target: ObjectRef;
  reason: (typeof EVENT_REASONS)[keyof typeof EVENT_REASONS];
  message: string;
}

export interface AuditTrail {
  record(entry: AuditEntry): Promise<void>;
}

/**
 * Every step leaves a structured log line and a Kubernetes Event on its target, so `kubectl describe` shows what
 * kubepulse did and why (the target's own annotations are written by the change itself). Event names derive
 * from the plan and step, so a redelivered plan does not duplicate them. An Event that cannot be written is
 * logged, never fatal: the change has already happened and the log line still records it.
 */
export function kubernetesAuditTrail(
  cluster: ClusterPort,
  logger: LoggerPort,
  instance: string,
  now: () => Date,
): AuditTrail {
  return {
    async record(entry) {
      const warning = entry.reason !== EVENT_REASONS.applied;
      const fields = {
        audit: true,
        planId: entry.planId,
        incidentId: entry.incidentId,
        step: entry.stepIndex,
        action: entry.action.action,
        target: entry.target,
        reason: entry.reason,
        message: entry.message,
      };
      if (warning) logger.warn('remediation audit', fields);
      else logger.info('remediation audit', fields);
      try {
        const target = await cluster.read<KubernetesObject>(entry.target);
        // A refusal about an object that does not exist has nothing to attach to; the log line records it.
        if (!target && entry.reason === EVENT_REASONS.refused) return;
        const at = now().toISOString();
        const suffix = shortId(`${entry.planId}\n${entry.stepIndex}\n${entry.reason}`, 16);
        const event: CoreV1Event = {
          apiVersion: 'v1',
          kind: 'Event',
          metadata: {
            name: `${entry.target.name.slice(0, 200)}.${suffix}`,
            namespace: entry.target.namespace ?? 'default',
            annotations: {
              'kubepulse.io/plan-id': entry.planId,
              'kubepulse.io/incident-id': entry.incidentId,
            },
          },
          involvedObject: {
            apiVersion: entry.target.apiVersion,
            kind: entry.target.kind,
            name: entry.target.name,
            ...(entry.target.namespace ? { namespace: entry.target.namespace } : {}),
            ...(target?.metadata?.uid ? { uid: target.metadata.uid } : {}),
          },
          reason: entry.reason,
          message: `${entry.message} (plan ${entry.planId}, step ${entry.stepIndex + 1})`.slice(0, 1024),
          type: warning ? 'Warning' : 'Normal',
          action: entry.action.action,
          source: { component: 'kubepulse-executor' },
          reportingComponent: 'kubepulse.io/executor',
          reportingInstance: instance,
          firstTimestamp: new Date(at),
          lastTimestamp: new Date(at),
          count: 1,
        };
        await cluster.create(event);
      } catch (error) {
        logger.warn('could not write the audit Event', { planId: entry.planId, error: describeError(error) });
      }
    },
  };
}
