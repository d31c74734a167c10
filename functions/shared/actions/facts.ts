import type { ResourceQuantities } from '../contracts/shipper.js';

/**
 * What is known about an incident's targets when an action is evaluated. The planner fills this from the
 * anomaly and the shipped inventory; the executor fills it from the API server just before acting. A fact
 * left out is unknown, and a bound that needs an unknown fact refuses the action.
 */
export type Labels = Readonly<Record<string, string>>;

export interface WorkloadRef {
  kind: string;
  name: string;
}

export interface ContainerFacts {
  name: string;
  limits: ResourceQuantities;
  requests: ResourceQuantities;
  /** The highest usage seen recently; a limit under it would kill the container straight away. */
  peakUsage: ResourceQuantities;
}

export interface WorkloadFacts extends WorkloadRef {
  namespace: string;
  /** Desired replicas (spec); unknown for a DaemonSet or when not looked up. */
  replicas?: number;
  readyReplicas?: number;
  labels: Labels;
  annotations: Labels;
  containers: readonly ContainerFacts[];
  /** The HorizontalPodAutoscaler that owns the replica count, when one targets the workload. */
  autoscaler?: string;
  /** The VerticalPodAutoscaler that sets the containers' resources, when one targets the workload (not `Off`). */
  resourcesAutoscaler?: string;
}

export interface PodFacts {
  namespace: string;
  name: string;
  /** The top-level controller (a ReplicaSet already resolved to its Deployment); null for a bare pod. */
  controller: WorkloadRef | null;
  labels: Labels;
  annotations: Labels;
}

export interface NodeFacts {
  name: string;
  labels: Labels;
  annotations: Labels;
  unschedulable: boolean;
}

export interface IncidentScope {
  namespace: string;
  /** The workload the incident is about; null when it is about a bare pod. */
  workload: WorkloadRef | null;
  /** Nodes hosting the incident's pods: the only nodes an action may touch. */
  nodes: readonly string[];
}

export interface TargetFacts {
  incident: IncidentScope;
  namespaceLabels?: Labels;
  /** The opt-out works as a label or an annotation on the namespace, as on workloads and nodes. */
  namespaceAnnotations?: Labels;
  workload?: WorkloadFacts;
  pods?: readonly PodFacts[];
  nodes?: readonly NodeFacts[];
  /** Nodes in the cluster that accept new pods right now. */
  schedulableNodes?: number;
  /**
   * Nodes the incident workload's pods run on right now, read live by the executor: a node named in the plan's
   * scope but no longer hosting them is no longer the incident's. Unset: not looked up (the planner).
   */
  workloadNodes?: readonly string[];
}

export const sameWorkload = (a: WorkloadRef | null | undefined, b: WorkloadRef | null | undefined) =>
  !!a && !!b && a.kind === b.kind && a.name === b.name;
