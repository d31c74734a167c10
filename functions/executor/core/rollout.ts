import type { V1DaemonSet, V1Deployment, V1StatefulSet } from '@kubernetes/client-node';
import type { Progress } from './appliers/applier.js';

export type Workload = V1Deployment | V1StatefulSet | V1DaemonSet;
export type WorkloadKind = 'Deployment' | 'StatefulSet' | 'DaemonSet';

/**
 * Whether a workload's rollout is complete, by the same rules as `kubectl rollout status`: the controller has
 * seen the latest spec, every replica runs the latest template, and all of them are available.
 */
export function rolloutProgress(kind: WorkloadKind, workload: Workload): Progress {
  const generation = workload.metadata?.generation ?? 0;
  const observed = workload.status?.observedGeneration ?? 0;
  if (observed < generation) {
    return { done: false, detail: `controller has not seen generation ${generation} yet (at ${observed})` };
  }
  switch (kind) {
    case 'Deployment':
      return deploymentProgress(workload as V1Deployment);
    case 'StatefulSet':
      return statefulSetProgress(workload as V1StatefulSet);
    case 'DaemonSet':
      return daemonSetProgress(workload as V1DaemonSet);
  }
}

function deploymentProgress(deployment: V1Deployment): Progress {
  const desired = deployment.spec?.replicas ?? 1;
  const status = deployment.status ?? {};
  const stalled = status.conditions?.find(
    (c) => c.type === 'Progressing' && c.reason === 'ProgressDeadlineExceeded',
  );
  if (stalled)
    return { done: false, failed: true, detail: `rollout stalled: ${stalled.message ?? ''}`.trim() };
  const updated = status.updatedReplicas ?? 0;
  const total = status.replicas ?? 0;
  const available = status.availableReplicas ?? 0;
  if (updated < desired) return { done: false, detail: `${updated} of ${desired} replicas updated` };
  if (total > updated) return { done: false, detail: `${total - updated} old replicas still running` };
  if (available < updated)
    return { done: false, detail: `${available} of ${updated} updated replicas available` };
  return { done: true, detail: `${available} of ${desired} replicas updated and available` };
}

function statefulSetProgress(statefulSet: V1StatefulSet): Progress {
  const desired = statefulSet.spec?.replicas ?? 1;
  const status = statefulSet.status;
  const ready = status?.readyReplicas ?? 0;
  const updated = status?.updatedReplicas ?? 0;
  if (status?.updateRevision && status.currentRevision !== status.updateRevision) {
    return { done: false, detail: `${updated} of ${desired} replicas on revision ${status.updateRevision}` };
  }
  if ((status?.replicas ?? 0) !== desired) {
    return { done: false, detail: `${status?.replicas ?? 0} replicas exist, ${desired} desired` };
  }
  if (ready < desired) return { done: false, detail: `${ready} of ${desired} replicas ready` };
  return { done: true, detail: `${ready} of ${desired} replicas ready on the latest revision` };
}

function daemonSetProgress(daemonSet: V1DaemonSet): Progress {
  const status = daemonSet.status;
  const desired = status?.desiredNumberScheduled ?? 0;
  const updated = status?.updatedNumberScheduled ?? 0;
  const available = status?.numberAvailable ?? 0;
  if (updated < desired) return { done: false, detail: `${updated} of ${desired} pods updated` };
  if (available < desired) return { done: false, detail: `${available} of ${desired} pods available` };
  return { done: true, detail: `${available} of ${desired} pods updated and available` };
}
