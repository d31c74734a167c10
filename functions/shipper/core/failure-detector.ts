import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import type { FailureReason } from '../../shared/contracts/index.js';

/** One failure seen in a pod's status, with the key that makes each occurrence count once. */
export interface FailureOccurrence {
  /** pod uid + container + the restart it concerns (or the reason, for failures that happen once per pod). */
  dedupeKey: string;
  reason: FailureReason;
  container?: string;
  message: string;
  /** The evidence is in the previous instance's log (it was killed or crashed). */
  previousLog: boolean;
}

const IMAGE_PULL_REASONS = new Set(['ImagePullBackOff', 'ErrImagePull']);

/**
 * The failures a pod's status shows right now. An OOM kill is keyed by the restart count of the run that was
 * killed: it shows first as the current state (restartCount n) and then as lastState (restartCount n + 1), and
 * both must name the same occurrence.
 */
export function detectFailures(pod: V1Pod): FailureOccurrence[] {
  const uid = pod.metadata?.uid ?? `${pod.metadata?.namespace}/${pod.metadata?.name}`;
  const found: FailureOccurrence[] = [];
  const statuses: V1ContainerStatus[] = [
    ...(pod.status?.initContainerStatuses ?? []),
    ...(pod.status?.containerStatuses ?? []),
  ];
  for (const status of statuses) {
    const container = status.name;
    const restarts = status.restartCount ?? 0;
    const current = status.state?.terminated;
    const last = status.lastState?.terminated;
    if (current?.reason === 'OOMKilled') {
      found.push(oom(uid, container, restarts, current.exitCode, false));
    } else if (last?.reason === 'OOMKilled' && restarts > 0) {
      found.push(oom(uid, container, restarts - 1, last.exitCode, true));
    }
    const waiting = status.state?.waiting;
    if (waiting?.reason === 'CrashLoopBackOff') {
      found.push({
        dedupeKey: `${uid}/${container}/CrashLoopBackOff/${restarts}`,
        reason: 'CrashLoopBackOff',
        container,
        message: waiting.message ?? `back-off restarting failed container (restart ${restarts})`,
        previousLog: true,
      });
    } else if (waiting?.reason && IMAGE_PULL_REASONS.has(waiting.reason)) {
      found.push({
        dedupeKey: `${uid}/${container}/ImagePullBackOff`,
        reason: 'ImagePullBackOff',
        container,
        message: waiting.message ?? `${waiting.reason}: ${status.image ?? ''}`.trim(),
        previousLog: false,
      });
    }
  }
  if (pod.status?.reason === 'Evicted') {
    found.push({
      dedupeKey: `${uid}/Evicted`,
      reason: 'Evicted',
      message: pod.status.message ?? 'the pod was evicted',
      previousLog: false,
    });
  }
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (
    pod.status?.phase === 'Pending' &&
    scheduled?.status === 'False' &&
    scheduled.reason === 'Unschedulable'
  ) {
    found.push({
      dedupeKey: `${uid}/Unschedulable`,
      reason: 'Pending',
      message: scheduled.message ?? 'the pod cannot be scheduled',
      previousLog: false,
    });
  }
  return found;
}

function oom(
  uid: string,
  container: string,
  killedRun: number,
  exitCode: number,
  restarted: boolean,
): FailureOccurrence {
  return {
    dedupeKey: `${uid}/${container}/OOMKilled/${killedRun}`,
    reason: 'OOMKilled',
    container,
    message: `container ${container} was OOM-killed (exit code ${exitCode})`,
    previousLog: restarted,
  };
}
