import type { Anomaly, OwnerRef } from '../../shared/contracts/index.js';
import { shortId } from '../../shared/ids.js';

/**
 * Many anomalies are one incident: every replica of a Deployment running out of memory, the OOMKilled event
 * and the forecast breach of the same pods. The fingerprint names the incident by what is wrong and with
 * what (cluster, namespace, owning workload, problem class), so it is planned once. Each class's runbook and
 * remedies: PROBLEMS in problems.ts.
 */
export const PROBLEM_CLASSES = [
  'memory-exhaustion',
  'cpu-saturation',
  'crash-loop',
  'image-pull',
  'eviction',
  'node-pressure',
  'pending',
  'unusual-behaviour',
  'other',
] as const;
export type ProblemClass = (typeof PROBLEM_CLASSES)[number];

export interface IncidentSubject {
  kind: OwnerRef['kind'];
  name: string;
}

export interface IncidentKey {
  fingerprint: string;
  clusterId: string;
  namespace: string;
  /** The owning workload, the node for node pressure, or the pod itself when it has no owner. */
  subject: IncidentSubject;
  problem: ProblemClass;
}

/** How alerts and diagnoses name what an incident is about: `Node/name`, or `Kind/name in namespace`. */
export const subjectOf = (key: IncidentKey) =>
  key.subject.kind === 'Node'
    ? `Node/${key.subject.name}`
    : `${key.subject.kind}/${key.subject.name} in ${key.namespace}`;

// A ReplicaSet is named <deployment>-<pod-template-hash>; a CronJob's Job <cronjob>-<scheduled minute>.
const REPLICASET_NAME = /^(.+)-[a-z0-9]{5,10}$/;
const CRONJOB_JOB_NAME = /^(.+)-\d{8,}$/;
const NODE_PRESSURE_MESSAGE = /node (?:was|is) low on resource|(?:memory|disk|pid)[ -]?pressure/i;

export function problemClassOf(anomaly: Anomaly): ProblemClass {
  if (anomaly.source === 'usage') {
    if (anomaly.problem === 'unusual-behaviour') return 'unusual-behaviour';
    return anomaly.signal === 'memory' ? 'memory-exhaustion' : 'cpu-saturation';
  }
  const { event } = anomaly;
  switch (event.reason) {
    case 'OOMKilled':
      return 'memory-exhaustion';
    case 'CrashLoopBackOff':
      // A container that loops because it is OOMKilled at start needs memory, not a human reading logs.
      return lastTerminationReason(anomaly) === 'OOMKilled' ? 'memory-exhaustion' : 'crash-loop';
    case 'ImagePullBackOff':
      return 'image-pull';
    case 'Evicted':
      return NODE_PRESSURE_MESSAGE.test(event.message) ? 'node-pressure' : 'eviction';
    case 'Pending':
      return 'pending';
    default:
      return 'other';
  }
}

export function lastTerminationReason(anomaly: Anomaly): string | undefined {
  const container =
    anomaly.target.container ?? (anomaly.source === 'event' ? anomaly.event.container : undefined);
  const containers = anomaly.inventory?.containers ?? [];
  const state = (containers.find((c) => c.name === container) ?? containers[0])?.state;
  return state?.lastTerminationReason ?? (state?.state === 'terminated' ? state.reason : undefined);
}

/** The controller a human would name: a ReplicaSet's Deployment, a Job's CronJob, else the pod itself. */
export function owningWorkloadOf(anomaly: Anomaly): IncidentSubject {
  const owner =
    anomaly.target.owner ??
    anomaly.inventory?.owner ??
    (anomaly.source === 'event' ? anomaly.event.owner : undefined);
  return controllerOf(owner) ?? { kind: 'Pod', name: anomaly.target.pod };
}

export function controllerOf(owner: OwnerRef | undefined): IncidentSubject | undefined {
  if (!owner) return undefined;
  if (owner.kind === 'ReplicaSet') {
    const deployment = REPLICASET_NAME.exec(owner.name)?.[1];
    return deployment ? { kind: 'Deployment', name: deployment } : owner;
  }
  if (owner.kind === 'Job') {
    const cronJob = CRONJOB_JOB_NAME.exec(owner.name)?.[1];
    return cronJob ? { kind: 'CronJob', name: cronJob } : owner;
  }
  return owner;
}

export function incidentKeyOf(anomaly: Anomaly): IncidentKey {
  const problem = problemClassOf(anomaly);
  const node = anomaly.target.node ?? anomaly.inventory?.node;
  // Pressure is a property of the node: pods of many workloads evicted from one node are one incident.
  const subject: IncidentSubject =
    problem === 'node-pressure' && node ? { kind: 'Node', name: node } : owningWorkloadOf(anomaly);
  const scope = subject.kind === 'Node' ? '' : anomaly.target.namespace;
  const identity = [anomaly.clusterId, scope, subject.kind, subject.name, problem].join('\u0000');
  const fingerprint = `fp-${shortId(identity, 32)}`;
  return { fingerprint, clusterId: anomaly.clusterId, namespace: anomaly.target.namespace, subject, problem };
}

export interface Incident {
  key: IncidentKey;
  anomalies: Anomaly[];
}

/** Groups a batch of anomalies into incidents, in the order each incident was first seen. */
export function groupByIncident(anomalies: readonly Anomaly[]): Incident[] {
  const incidents = new Map<string, Incident>();
  for (const anomaly of anomalies) {
    const key = incidentKeyOf(anomaly);
    const incident = incidents.get(key.fingerprint);
    if (incident) incident.anomalies.push(anomaly);
    else incidents.set(key.fingerprint, { key, anomalies: [anomaly] });
  }
  return [...incidents.values()];
}
