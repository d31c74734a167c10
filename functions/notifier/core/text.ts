import type { Alert } from '../../shared/contracts/index.js';
import { neutraliseUntrusted } from '../../shared/untrusted-text.js';

/**
 * The alert as humans may see it. Titles and summaries quote what the product did not write (the model's
 * diagnosis, log lines, event messages), so on every destination they are redacted once more, their URLs
 * defanged and mentions made inert: nothing in an alert is a link or a ping unless the product put it in `links`.
 */
export function shownToHumans(alert: Alert): Alert {
  return {
    ...alert,
    title: neutraliseUntrusted(alert.title, 300),
    summary: neutraliseUntrusted(alert.summary, 4000),
  };
}

/** The namespace and owning workload (or the pod when no owner is known) an alert is about. */
export function workloadLabel(target: {
  namespace: string;
  pod: string;
  container?: string | undefined;
  owner?: { kind: string; name: string } | undefined;
}): string {
  const workload = target.owner
    ? `${target.owner.kind.toLowerCase()}/${target.owner.name}`
    : `pod/${target.pod}`;
  return `${target.namespace}/${workload}${target.container ? ` (container ${target.container})` : ''}`;
}
