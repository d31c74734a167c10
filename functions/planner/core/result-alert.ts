import { actionLabel } from '../../shared/actions/index.js';
import { type Alert, type ExecutionResult, SCHEMA_VERSION } from '../../shared/contracts/index.js';
import { shortId } from '../../shared/ids.js';
import { clip } from '../../shared/text.js';

/**
 * What humans hear about a remediation once the executor is done with it: a firing alert when it failed, was
 * rolled back, refused or could not be verified, and a resolved one when it was verified, under the incident's
 * dedup key so the page the incident opened is closed. Derived from the result alone, so a redelivered result
 * makes the same alert (same id) and receivers deliver it once.
 */
const OUTCOMES: Record<
  ExecutionResult['status'],
  { severity: Alert['severity']; status: Alert['status']; title: string }
> = {
  verified: { severity: 'info', status: 'resolved', title: 'Remediation verified' },
  'applied-unverified': {
    severity: 'warning',
    status: 'firing',
    title: 'Remediation applied but not verified',
  },
  'rolled-back': { severity: 'warning', status: 'firing', title: 'Remediation rolled back' },
  refused: { severity: 'warning', status: 'firing', title: 'Remediation refused by the executor' },
  failed: { severity: 'critical', status: 'firing', title: 'Remediation failed' },
};

export function alertForResult(result: ExecutionResult): Alert {
  const outcome = OUTCOMES[result.status];
  const steps = result.steps.map(
    (step) => `- ${actionLabel(step.action)}: ${step.status}${step.detail ? ` (${step.detail})` : ''}`,
  );
  const summary = [
    `Plan ${result.planId} for incident ${result.incidentId} in cluster ${result.clusterId}: ${result.status}.`,
    ...(result.error ? [`Error: ${result.error}`] : []),
    ...(steps.length > 0 ? ['Steps:', ...steps] : []),
  ].join('\n');
  return {
    schemaVersion: SCHEMA_VERSION,
    kind: 'alert',
    clusterId: result.clusterId,
    alertId: `result-${shortId(`${result.planId}|${result.status}`, 24)}`,
    dedupKey: result.incidentId,
    severity: outcome.severity,
    status: outcome.status,
    title: `${outcome.title}: ${subjectOf(result)}`.slice(0, 300),
    summary: clip(summary, 4000),
    createdAt: result.finishedAt,
    incidentId: result.incidentId,
    planId: result.planId,
    links: [],
  };
}

function subjectOf(result: ExecutionResult): string {
  const first = result.steps[0]?.action;
  return first ? actionLabel(first) : `plan ${result.planId}`;
}
