import type { V1Pod } from '@kubernetes/client-node';
import { parseQuantity } from '../../../functions/shared/quantity.js';
import { DEFAULT_SCENARIO, parseScenario, SCENARIO_ANNOTATION, type Scenario } from './scenario.js';

/** CFS enforces quotas per 100 ms period; cAdvisor counts periods and throttled periods. */
const CFS_PERIOD_SECONDS = 0.1;

/** What the simulated kubelet must write into a pod's status. */
export type StatusChange =
  | { kind: 'oom-killed'; pod: V1Pod; container: string; startedAt: Date; limitBytes: number }
  | { kind: 'crashed'; pod: V1Pod; container: string; startedAt: Date; backoffSeconds: number }
  | { kind: 'image-pull-failed'; pod: V1Pod; container: string };

/** One container's usage as cAdvisor would report it, plus what kube-state-metrics reports about it. */
export interface ContainerSeries {
  namespace: string;
  pod: string;
  container: string;
  node?: string;
  running: boolean;
  memoryWorkingSetBytes: number;
  cpuUsageSecondsTotal: number;
  /** Present only with a CPU limit (cAdvisor exports CFS counters only for containers with a quota). */
  cfs?: { periodsTotal: number; throttledPeriodsTotal: number };
  limits: { memoryBytes?: number; cpuCores?: number };
  restarts: number;
}

interface Instance {
  /** The restart count this instance runs as: a new one means a new container, with fresh counters. */
  restartCount: number;
  startedAtMs: number;
  lastTickMs: number;
  cpuSecondsTotal: number;
  periodsTotal: number;
  throttledTotal: number;
  memoryBytes: number;
  /** A status change was asked for and not yet seen back; do not ask again. */
  awaiting: boolean;
  series: ContainerSeries;
}

/** Where a scenario comes from when set programmatically: a workload (Deployment/ReplicaSet name) or a pod. */
export interface ScenarioTarget {
  namespace: string;
  workload: string;
}

/**
 * Usage of every container of every running pod, as a function of the pod's spec, its status and simulated
 * time. Simulated time runs `speed` times faster than real time, but only for the scenario's dynamics (how fast
 * a leak grows, how long a crash back-off lasts): counters integrate usage over REAL seconds, so what Prometheus
 * scrapes (and stamps with its own real clock) keeps its meaning — rate(cpu seconds) is the simulated cores.
 */
export class UsageModel {
  private readonly instances = new Map<string, Instance>();
  private readonly overrides = new Map<string, Scenario>();
  private readonly invalid = new Set<string>();

  constructor(
    private readonly speed: number,
    private readonly warn: (message: string) => void = () => {},
  ) {}

  setScenario(target: ScenarioTarget, scenario: Scenario | undefined): void {
    const key = `${target.namespace}/${target.workload}`;
    if (scenario) this.overrides.set(key, scenario);
    else this.overrides.delete(key);
  }

  /** Advances every container to `nowMs` and returns the status changes the kubelet would make now. */
  advance(pods: readonly V1Pod[], nowMs: number): StatusChange[] {
    const running = pods.filter(isRunning);
    const replicas = new Map<string, number>();
    for (const pod of running) replicas.set(workloadKey(pod), (replicas.get(workloadKey(pod)) ?? 0) + 1);
    const changes: StatusChange[] = [];
    const seen = new Set<string>();
    for (const pod of running) {
      const scenario = this.scenarioOf(pod);
      const share = replicas.get(workloadKey(pod)) ?? 1;
      const statuses = new Map((pod.status?.containerStatuses ?? []).map((s) => [s.name, s]));
      for (const container of pod.spec?.containers ?? []) {
        const key = `${pod.metadata?.uid}/${container.name}`;
        seen.add(key);
        const status = statuses.get(container.name);
        const restartCount = status?.restartCount ?? 0;
        const limits = {
          memoryBytes: parseQuantity(container.resources?.limits?.memory),
          cpuCores: parseQuantity(container.resources?.limits?.cpu),
        };
        let instance = this.instances.get(key);
        if (!instance || instance.restartCount !== restartCount) {
          // A new container: the kubelet restarted it (our own OOM/crash write) or the pod is new.
          instance = {
            restartCount,
            startedAtMs: nowMs,
            lastTickMs: nowMs,
            cpuSecondsTotal: 0,
            periodsTotal: 0,
            throttledTotal: 0,
            memoryBytes: 0,
            awaiting: false,
            series: {
              namespace: pod.metadata?.namespace ?? '',
              pod: pod.metadata?.name ?? '',
              container: container.name,
              ...(pod.spec?.nodeName ? { node: pod.spec.nodeName } : {}),
              running: false,
              memoryWorkingSetBytes: 0,
              cpuUsageSecondsTotal: 0,
              limits: {},
              restarts: restartCount,
            },
          };
          this.instances.set(key, instance);
        }
        const realSeconds = Math.max(0, (nowMs - instance.lastTickMs) / 1000);
        const simulatedAge = ((nowMs - instance.startedAtMs) / 1000) * this.speed;
        instance.lastTickMs = nowMs;
        const series = instance.series;
        series.limits = {
          ...(limits.memoryBytes !== undefined ? { memoryBytes: limits.memoryBytes } : {}),
          ...(limits.cpuCores !== undefined ? { cpuCores: limits.cpuCores } : {}),
        };
        series.restarts = restartCount;
        const waitingReason = status?.state?.waiting?.reason;

        if (scenario.kind === 'image-pull') {
          series.running = false;
          if (waitingReason !== 'ImagePullBackOff' && !instance.awaiting) {
            instance.awaiting = true;
            changes.push({ kind: 'image-pull-failed', pod, container: container.name });
          }
          continue;
        }
        if (scenario.kind === 'crash-loop') {
          series.running = false;
          const backedOff = waitingReason === 'CrashLoopBackOff' && simulatedAge < scenario.backoffSeconds;
          if (!backedOff && !instance.awaiting) {
            instance.awaiting = true;
            changes.push({
              kind: 'crashed',
              pod,
              container: container.name,
              startedAt: new Date(instance.startedAtMs),
              backoffSeconds: scenario.backoffSeconds,
            });
          }
          continue;
        }

        const usage = usageOf(scenario, simulatedAge, share, limits.cpuCores, key);
        let memory = usage.memoryBytes;
        if (limits.memoryBytes !== undefined && memory >= limits.memoryBytes) {
          memory = limits.memoryBytes;
          if (!instance.awaiting) {
            instance.awaiting = true;
            changes.push({
              kind: 'oom-killed',
              pod,
              container: container.name,
              startedAt: new Date(instance.startedAtMs),
              limitBytes: limits.memoryBytes,
            });
          }
        }
        instance.memoryBytes = memory;
        instance.cpuSecondsTotal += usage.cpuCores * realSeconds;
        const periods = realSeconds / CFS_PERIOD_SECONDS;
        instance.periodsTotal += periods;
        instance.throttledTotal += periods * usage.throttledRatio;
        series.running = true;
        series.memoryWorkingSetBytes = Math.round(memory);
        series.cpuUsageSecondsTotal = instance.cpuSecondsTotal;
        if (limits.cpuCores !== undefined) {
          series.cfs = {
            periodsTotal: Math.floor(instance.periodsTotal),
            throttledPeriodsTotal: Math.floor(instance.throttledTotal),
          };
        } else {
          delete series.cfs;
        }
      }
    }
    for (const key of this.instances.keys()) if (!seen.has(key)) this.instances.delete(key);
    return changes;
  }

  /** A status write failed: ask for it again on the next tick. */
  retry(change: StatusChange): void {
    const instance = this.instances.get(`${change.pod.metadata?.uid}/${change.container}`);
    if (instance) instance.awaiting = false;
  }

  series(): ContainerSeries[] {
    return [...this.instances.values()].map((instance) => instance.series);
  }

  private scenarioOf(pod: V1Pod): Scenario {
    const namespace = pod.metadata?.namespace ?? '';
    const override =
      this.overrides.get(`${namespace}/${workloadName(pod)}`) ??
      this.overrides.get(`${namespace}/${pod.metadata?.name}`);
    if (override) return override;
    const annotation = pod.metadata?.annotations?.[SCENARIO_ANNOTATION];
    if (!annotation) return DEFAULT_SCENARIO;
    try {
      return parseScenario(annotation);
    } catch (error) {
      const key = `${namespace}/${pod.metadata?.name}`;
      if (!this.invalid.has(key)) {
        this.invalid.add(key);
        this.warn(`${key}: ${(error as Error).message}; simulating it as steady`);
      }
      return DEFAULT_SCENARIO;
    }
  }
}

interface Usage {
  memoryBytes: number;
  cpuCores: number;
  throttledRatio: number;
}

function usageOf(
  scenario: Exclude<Scenario, { kind: 'image-pull' | 'crash-loop' }>,
  simulatedAge: number,
  replicas: number,
  cpuLimit: number | undefined,
  seed: string,
): Usage {
  const jitter = wobble(seed, simulatedAge);
  switch (scenario.kind) {
    case 'steady':
      return capped(
        scenario.memoryBytes * (1 + 0.02 * jitter),
        scenario.cpuCores * (1 + 0.1 * jitter),
        cpuLimit,
      );
    case 'memory-leak':
      return capped(
        scenario.baseBytes + scenario.rateBytes * simulatedAge,
        scenario.cpuCores * (1 + 0.1 * jitter),
        cpuLimit,
      );
    case 'cpu-saturation':
      return capped(
        scenario.memoryBytes * (1 + 0.02 * jitter),
        (scenario.loadCores / replicas) * (1 + 0.03 * jitter),
        cpuLimit,
      );
  }
}

/** Demand above the CPU limit is served at the limit; the share of periods throttled rises with the excess. */
function capped(memoryBytes: number, demandCores: number, cpuLimit: number | undefined): Usage {
  if (cpuLimit === undefined || cpuLimit <= 0)
    return { memoryBytes, cpuCores: demandCores, throttledRatio: 0 };
  const pressure = demandCores / cpuLimit;
  return {
    memoryBytes,
    cpuCores: Math.min(demandCores, cpuLimit),
    throttledRatio: Math.min(1, Math.max(0, (pressure - 0.8) / 0.5)),
  };
}

/** Deterministic noise in [-1, 1]: the same pod at the same simulated second always looks the same. */
function wobble(seed: string, simulatedAge: number): number {
  let hash = 0;
  for (let i = 0; i < seed.length; i++) hash = (hash * 31 + seed.charCodeAt(i)) | 0;
  const x = Math.sin(hash * 0.001 + Math.floor(simulatedAge) * 12.9898) * 43758.5453;
  return (x - Math.floor(x)) * 2 - 1;
}

function isRunning(pod: V1Pod): boolean {
  return pod.status?.phase === 'Running' && !pod.metadata?.deletionTimestamp && Boolean(pod.spec?.nodeName);
}

/** The pod's Deployment (a ReplicaSet's name less its pod-template-hash), else its controller, else itself. */
export function workloadName(pod: V1Pod): string {
  const owner = pod.metadata?.ownerReferences?.find((ref) => ref.controller);
  if (!owner) return pod.metadata?.name ?? '';
  const hash = pod.metadata?.labels?.['pod-template-hash'];
  if (owner.kind === 'ReplicaSet' && hash && owner.name.endsWith(`-${hash}`)) {
    return owner.name.slice(0, -(hash.length + 1));
  }
  return owner.name;
}

function workloadKey(pod: V1Pod): string {
  return `${pod.metadata?.namespace}/${workloadName(pod)}`;
}
