import type { Anomaly, PodInventory } from '../../shared/contracts/index.js';
import { type IncidentKey, owningWorkloadOf } from './correlate.js';
import type { IncidentEvidence } from './plan-incident.js';

/**
 * Evidence about an incident from the whole batch it arrived in, not only from its own anomalies: the
 * inventory of every pod of the same workload (or node), the workload's replica counts as the shipper last saw
 * them, and the failure events of those pods, whatever incident they were filed under (an OOM incident's
 * pods may also have crash-loop events, whose log tails say why).
 */
export function evidenceFromBatch(batch: readonly Anomaly[]) {
  return async (key: IncidentKey): Promise<IncidentEvidence> => {
    const related = batch
      .filter((anomaly) => concerns(anomaly, key))
      .sort((a, b) => b.detectedAt.localeCompare(a.detectedAt));
    const inventory = new Map<string, PodInventory>();
    for (const anomaly of related) {
      if (anomaly.inventory && !inventory.has(anomaly.inventory.pod))
        inventory.set(anomaly.inventory.pod, anomaly.inventory);
    }
    // The newest count wins: a workload scaled a minute ago starts from its new size.
    const replicas =
      key.subject.kind === 'Node'
        ? undefined
        : related.find((anomaly) => anomaly.inventory?.ownerReplicas)?.inventory?.ownerReplicas;
    const recentEvents = related.flatMap((anomaly) => (anomaly.source === 'event' ? [anomaly.event] : []));
    return {
      facts: {
        inventory: [...inventory.values()],
        ...(replicas ? { replicas: replicas.desired, readyReplicas: replicas.ready } : {}),
      },
      ...(recentEvents.length > 0 ? { recentEvents } : {}),
    };
  };
}

/** Same cluster and namespace, and the same workload, or a pod on the incident's node. */
function concerns(anomaly: Anomaly, key: IncidentKey): boolean {
  if (anomaly.clusterId !== key.clusterId) return false;
  if (key.subject.kind === 'Node') {
    return (anomaly.target.node ?? anomaly.inventory?.node) === key.subject.name;
  }
  if (anomaly.target.namespace !== key.namespace) return false;
  const workload = owningWorkloadOf(anomaly);
  return workload.kind === key.subject.kind && workload.name === key.subject.name;
}
