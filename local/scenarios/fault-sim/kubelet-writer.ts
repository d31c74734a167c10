import {
  ApiException,
  type CoreV1Api,
  type V1ContainerStatus,
  type V1Pod,
  type V1PodCondition,
} from '@kubernetes/client-node';
import type { StatusChange } from './usage-model.js';

const MAX_CONFLICT_RETRIES = 5;

/**
 * Writes what a kubelet would after an OOM kill, a crash or a failed pull: the pod's status subresource (so kwok
 * and the controllers see it as a kubelet's report) and a core/v1 Event. The status is replaced as a whole from a
 * fresh read with its resourceVersion, so a concurrent writer causes a retry, never a lost update.
 */
export class KubeletWriter {
  constructor(private readonly core: CoreV1Api) {}

  async apply(change: StatusChange, now = new Date()): Promise<void> {
    const namespace = change.pod.metadata?.namespace ?? '';
    const name = change.pod.metadata?.name ?? '';
    for (let attempt = 0; ; attempt++) {
      const pod = await this.core.readNamespacedPodStatus({ name, namespace });
      if (pod.metadata?.uid !== change.pod.metadata?.uid) return; // replaced by a new pod of the same name
      const statuses = pod.status?.containerStatuses ?? [];
      const index = statuses.findIndex((s) => s.name === change.container);
      if (index < 0) return;
      statuses[index] = nextStatus(statuses[index]!, change, now);
      pod.status = {
        ...pod.status,
        containerStatuses: statuses,
        conditions: readiness(pod, statuses, now),
      };
      try {
        await this.core.replaceNamespacedPodStatus({ name, namespace, body: pod });
        break;
      } catch (error) {
        if (!(error instanceof ApiException && error.code === 409) || attempt >= MAX_CONFLICT_RETRIES)
          throw error;
      }
    }
    await this.postEvent(change, now);
  }

  private async postEvent(change: StatusChange, now: Date): Promise<void> {
    const { pod, container } = change;
    const namespace = pod.metadata?.namespace ?? '';
    const podName = pod.metadata?.name ?? '';
    const image = pod.spec?.containers?.find((c) => c.name === container)?.image ?? '';
    const event = {
      'oom-killed': {
        reason: 'OOMKilling',
        message: `Memory cgroup out of memory: killed container ${container} (limit ${change.kind === 'oom-killed' ? change.limitBytes : 0} bytes)`,
      },
      crashed: {
        reason: 'BackOff',
        message: `Back-off restarting failed container ${container} in pod ${podName}`,
      },
      'image-pull-failed': { reason: 'BackOff', message: `Back-off pulling image "${image}"` },
    }[change.kind];
    const node = pod.spec?.nodeName;
    await this.core.createNamespacedEvent({
      namespace,
      body: {
        metadata: { generateName: `${podName}.`, namespace },
        involvedObject: {
          apiVersion: 'v1',
          kind: 'Pod',
          namespace,
          name: podName,
          ...(pod.metadata?.uid ? { uid: pod.metadata.uid } : {}),
          fieldPath: `spec.containers{${container}}`,
        },
        reason: event.reason,
        message: event.message,
        type: 'Warning',
        count: 1,
        firstTimestamp: now,
        lastTimestamp: now,
        source: { component: 'kubelet', ...(node ? { host: node } : {}) },
        reportingComponent: 'kubelet',
        ...(node ? { reportingInstance: node } : {}),
      },
    });
  }
}

function nextStatus(current: V1ContainerStatus, change: StatusChange, now: Date): V1ContainerStatus {
  const restartCount = current.restartCount ?? 0;
  switch (change.kind) {
    case 'oom-killed':
      return {
        ...current,
        restartCount: restartCount + 1,
        lastState: {
          terminated: {
            reason: 'OOMKilled',
            exitCode: 137,
            startedAt: change.startedAt,
            finishedAt: now,
            ...(current.containerID ? { containerID: current.containerID } : {}),
          },
        },
        state: { running: { startedAt: now } },
        ready: true,
        started: true,
      };
    case 'crashed':
      return {
        ...current,
        restartCount: restartCount + 1,
        lastState: {
          terminated: { reason: 'Error', exitCode: 1, startedAt: change.startedAt, finishedAt: now },
        },
        state: {
          waiting: {
            reason: 'CrashLoopBackOff',
            message: `back-off ${change.backoffSeconds}s restarting failed container=${change.container} pod=${change.pod.metadata?.name}`,
          },
        },
        ready: false,
        started: false,
      };
    case 'image-pull-failed':
      return {
        ...current,
        state: {
          waiting: {
            reason: 'ImagePullBackOff',
            message: `Back-off pulling image "${current.image}"`,
          },
        },
        ready: false,
        started: false,
      };
  }
}

/** Ready and ContainersReady follow the containers, as the kubelet keeps them. */
function readiness(pod: V1Pod, statuses: V1ContainerStatus[], now: Date): V1PodCondition[] {
  const allReady = statuses.every((s) => s.ready);
  const status = allReady ? 'True' : 'False';
  return (pod.status?.conditions ?? []).map((condition) => {
    if (condition.type !== 'Ready' && condition.type !== 'ContainersReady') return condition;
    if (condition.status === status) return condition;
    return {
      ...condition,
      status,
      lastTransitionTime: now,
      ...(allReady ? {} : { reason: 'ContainersNotReady' }),
    };
  });
}
