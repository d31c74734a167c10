import { shortId } from '../../shared/ids.js';

/**
 * How the core names what it keeps and what it announces: a series, a pod, a failure event, and the ids of the
 * incidents and anomalies it publishes. The ids are deterministic, so a retried batch produces the same ones
 * and consumers can deduplicate them.
 */

/** Identifies a pod across clusters: `cluster|namespace/pod`. */
export type PodRef = string;
/** Identifies a failure event across clusters: `cluster|eventId`. */
export type EventRef = string;

export function seriesKeyOf(
  clusterId: string,
  namespace: string,
  pod: string,
  container: string,
  metric: string,
): string {
  return `${clusterId}|${namespace}|${pod}|${container}|${metric}`;
}

export function podRefOf(clusterId: string, namespace: string, pod: string): PodRef {
  return `${clusterId}|${namespace}/${pod}`;
}

export function eventRefOf(clusterId: string, eventId: string): EventRef {
  return `${clusterId}|${eventId}`;
}

/** Deterministic, so a retried transition produces the same id and consumers can deduplicate it. */
export function incidentIdOf(seriesKey: string, openedAt: number): string {
  return `inc-${shortId(`${seriesKey}@${openedAt}`, 24)}`;
}

/** An unusual-behaviour episode is an incident of its own, apart from the series' exhaustion incidents. */
export function unusualIncidentIdOf(seriesKey: string, openedAt: number): string {
  return incidentIdOf(`${seriesKey}|unusual`, openedAt);
}

/** A failure event's own anomaly id: the same event forwarded twice is one anomaly. */
export function eventAnomalyIdOf(clusterId: string, eventId: string): string {
  return `evt-${shortId(`${clusterId}|${eventId}`, 24)}`;
}

/** Events of one reason on one workload (`subject`) belong to one incident, whichever pod they came from. */
export function eventIncidentIdOf(
  clusterId: string,
  namespace: string,
  subject: string,
  reason: string,
): string {
  return `inc-${shortId(`${clusterId}|${namespace}|${subject}|${reason}`, 24)}`;
}
