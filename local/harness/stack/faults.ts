// The faults the demo, the closed-loop test and bench:e2e inject: Deployments whose pods the fault simulator
// drives (local/scenarios/fault-sim), each with what should happen to it.
import { AppsV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { RemediationPolicyDocument } from '../../../functions/shared/actions/index.js';
import { simulatedDeployment } from '../../scenarios/fault-sim/workloads.js';
import { deleteIfPresent } from '../support/control-plane.js';

const MiB = 2 ** 20;

export interface FaultScenario {
  /** What a person would call it. */
  title: string;
  workload: string;
  /** The series that shows the fault, or `events` when only the cluster's failure events do. */
  signal: 'memory' | 'cpu' | 'events';
  /** `kubepulse.io/sim-scenario` annotation (local/scenarios/fault-sim/scenario.ts). */
  scenario: string;
  limits: { memory: string; cpu: string };
  replicas: number;
  /** When, after the workload starts, the failure happens if nothing is done (null: it is failing from the start). */
  failureAfterSeconds: number | null;
  /** What the loop should end with. */
  expect: 'remediated' | 'escalated';
}

/** A leak from 64 MiB growing 640 KiB/s reaches its 256 MiB limit 307 s after the pod starts. */
export const MEMORY_LEAK: FaultScenario = {
  title: 'memory leak heading for an OOM kill',
  workload: 'cart',
  signal: 'memory',
  scenario: 'memory-leak;rate=640Ki;base=64Mi;cpu=0.1',
  limits: { memory: '256Mi', cpu: '500m' },
  replicas: 1,
  failureAfterSeconds: Math.round(((256 - 64) * MiB) / (640 * 1024)),
  expect: 'remediated',
};

/** 1.5 cores of demand on one replica limited to one core: saturated and throttled until it scales out. */
export const CPU_SATURATION: FaultScenario = {
  title: 'CPU saturation',
  workload: 'search',
  signal: 'cpu',
  scenario: 'cpu-saturation;load=1.5;memory=96Mi',
  limits: { memory: '256Mi', cpu: '1' },
  replicas: 1,
  failureAfterSeconds: null,
  expect: 'remediated',
};

/** A container that keeps exiting: no action fixes a bug; a human gets the diagnosis. */
export const CRASH_LOOP: FaultScenario = {
  title: 'crash loop',
  workload: 'payments',
  signal: 'events',
  scenario: 'crash-loop;backoff=20',
  limits: { memory: '128Mi', cpu: '250m' },
  replicas: 1,
  failureAfterSeconds: 0,
  expect: 'escalated',
};

export const DEMO_FAULTS = [MEMORY_LEAK, CPU_SATURATION, CRASH_LOOP];

/**
 * The demo's policy, for the planner and (its own copy) the executor: remediation runs by itself in the demo
 * namespace only, not dry-run; risky actions (cordon) still need a human; everything else stays denied by default.
 */
export const DEMO_POLICY: RemediationPolicyDocument = {
  enabledActions: ['scale', 'rollout-restart', 'set-resources'],
  namespaces: { allow: ['demo'] },
  modes: { low: 'auto', medium: 'auto', high: 'needs-approval' },
  dryRun: false,
};

/**
 * Deletes the faults' Deployments and waits for their pods to go. The control plane is shared: a crash-looping
 * pod left behind would page every later run's receivers, and old pods would feed a new run's series.
 */
export async function removeFaults(
  kubeConfig: KubeConfig,
  namespace: string,
  faults: readonly FaultScenario[],
): Promise<void> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const apps = kubeConfig.makeApiClient(AppsV1Api);
  for (const fault of faults) {
    await deleteIfPresent(() =>
      apps.deleteNamespacedDeployment({ name: fault.workload, namespace, gracePeriodSeconds: 0 }),
    );
  }
  for (let i = 0; i < 60; i++) {
    const pods = await core.listNamespacedPod({ namespace });
    if (!pods.items.some((p) => faults.some((f) => p.metadata?.labels?.app === f.workload))) return;
    await new Promise((done) => setTimeout(done, 500));
  }
}

/** Creates the namespace (if needed) and one Deployment per fault; returns when each was created (ms). */
export async function deployFaults(
  kubeConfig: KubeConfig,
  namespace: string,
  faults: readonly FaultScenario[],
): Promise<Map<string, number>> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const apps = kubeConfig.makeApiClient(AppsV1Api);
  try {
    await core.createNamespace({ body: { metadata: { name: namespace } } });
  } catch (error) {
    if ((error as { code?: number }).code !== 409) throw error;
  }
  await removeFaults(kubeConfig, namespace, faults);
  const deployedAt = new Map<string, number>();
  for (const fault of faults) {
    const body = simulatedDeployment(
      fault.workload,
      fault.scenario,
      { memory: fault.limits.memory, cpu: fault.limits.cpu },
      fault.replicas,
    );
    await apps.createNamespacedDeployment({ namespace, body });
    deployedAt.set(fault.workload, Date.now());
  }
  return deployedAt;
}
