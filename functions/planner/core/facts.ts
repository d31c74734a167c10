import type { ContainerFacts, Labels, NodeFacts, PodFacts, TargetFacts } from '../../shared/actions/index.js';
import type { Anomaly, PodInventory } from '../../shared/contracts/index.js';
import { controllerOf, type IncidentKey } from './correlate.js';

/** What the planner can learn beyond the anomalies themselves (from its own stores); all optional. */
export interface KnownFacts {
  inventory?: readonly PodInventory[];
  replicas?: number;
  readyReplicas?: number;
  schedulableNodes?: number;
  namespaceLabels?: Labels;
  nodes?: readonly NodeFacts[];
}

const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'CronJob', 'Job']);

/**
 * The facts the planner evaluates proposals against, from the incident's anomalies and whatever else it
 * knows. The executor evaluates again with facts from the API server, so a stale guess here can only make
 * the planner stricter or send a plan the executor then refuses; it can never make an action run.
 */
export function factsFromIncident(
  key: IncidentKey,
  anomalies: readonly Anomaly[],
  known: KnownFacts = {},
): TargetFacts {
  const pods = new Map<string, PodInventory>();
  for (const pod of [...anomalies.map((a) => a.inventory), ...(known.inventory ?? [])]) {
    if (pod && pod.namespace === key.namespace && !pods.has(pod.pod)) pods.set(pod.pod, pod);
  }
  const workload = WORKLOAD_KINDS.has(key.subject.kind) ? key.subject : null;
  const workloadPods = [...pods.values()].filter((pod) => {
    const controller = controllerOf(pod.owner);
    return !!workload && controller?.kind === workload.kind && controller.name === workload.name;
  });
  const nodes = new Set<string>();
  if (key.subject.kind === 'Node') nodes.add(key.subject.name);
  for (const anomaly of anomalies) {
    const node = anomaly.target.node ?? anomaly.inventory?.node;
    if (node) nodes.add(node);
  }

  const podFacts: PodFacts[] = [...pods.values()].map((pod) => ({
    namespace: pod.namespace,
    name: pod.pod,
    controller: controllerOf(pod.owner) ?? null,
    labels: pod.labels,
    annotations: {},
  }));

  return {
    incident: { namespace: key.namespace, workload, nodes: [...nodes] },
    ...(known.namespaceLabels ? { namespaceLabels: known.namespaceLabels } : {}),
    ...(workload && workloadPods.length > 0
      ? {
          workload: {
            ...workload,
            namespace: key.namespace,
            ...(known.replicas !== undefined ? { replicas: known.replicas } : {}),
            ...(known.readyReplicas !== undefined ? { readyReplicas: known.readyReplicas } : {}),
            // Pod labels stand in for the template's: an opt-out on any replica opts the workload out.
            labels: Object.assign({}, ...workloadPods.map((pod) => pod.labels)),
            annotations: {},
            containers: containerFacts(workloadPods[0]!, anomalies),
          },
        }
      : {}),
    pods: podFacts,
    ...(known.nodes ? { nodes: known.nodes } : {}),
    ...(known.schedulableNodes !== undefined ? { schedulableNodes: known.schedulableNodes } : {}),
  };
}

/** Limits from the pod's spec; peak usage from the usage windows, or the limit itself after an OOM kill. */
function containerFacts(pod: PodInventory, anomalies: readonly Anomaly[]): ContainerFacts[] {
  return pod.containers.map((container) => {
    const peak: { memoryBytes?: number; cpuCores?: number } = {};
    const raise = (resource: 'memoryBytes' | 'cpuCores', value: number) => {
      peak[resource] = Math.max(peak[resource] ?? 0, value);
    };
    for (const anomaly of anomalies) {
      if (anomaly.target.container !== container.name) continue;
      if (anomaly.source === 'usage') {
        raise(
          anomaly.signal === 'memory' ? 'memoryBytes' : 'cpuCores',
          anomaly.window.max * anomaly.normalisation.denominator,
        );
      } else if (anomaly.event.reason === 'OOMKilled' && container.limits.memoryBytes !== undefined) {
        raise('memoryBytes', container.limits.memoryBytes);
      }
    }
    return { name: container.name, limits: container.limits, requests: container.requests, peakUsage: peak };
  });
}
