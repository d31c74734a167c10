import type { InventorySnapshot, SampleBatch } from '../../../functions/shared/contracts/index.js';

export const GiB = 1024 ** 3;

export interface SyntheticPod {
  namespace: string;
  pod: string;
  container: string;
  limitBytes: number;
  /** Memory in bytes at step i. */
  memoryAt(step: number): number;
}

export function inventoryFor(
  clusterId: string,
  pods: SyntheticPod[],
  takenAt = '2026-11-21T00:00:00Z',
): InventorySnapshot {
  return {
    schemaVersion: 1,
    kind: 'inventory-snapshot',
    clusterId,
    snapshotId: `snap-${takenAt}`,
    takenAt,
    complete: true,
    nodes: [],
    pods: pods.map((p) => ({
      namespace: p.namespace,
      pod: p.pod,
      owner: { kind: 'Deployment', name: p.pod.replace(/-[a-z0-9]+-[a-z0-9]+$/, '') },
      node: 'node-a',
      phase: 'Running',
      labels: {},
      containers: [
        { name: p.container, requests: {}, limits: { memoryBytes: p.limitBytes }, restartCount: 0 },
      ],
    })),
  };
}

/** Sample batches covering steps [from, to), one message per `stepsPerBatch` steps, every pod in each. */
export function sampleBatches(
  clusterId: string,
  pods: SyntheticPod[],
  options: { from: number; to: number; stepsPerBatch: number; startAt: number; stepSeconds: number },
): SampleBatch[] {
  const batches: SampleBatch[] = [];
  for (let first = options.from; first < options.to; first += options.stepsPerBatch) {
    const steps = Array.from(
      { length: Math.min(options.stepsPerBatch, options.to - first) },
      (_, k) => first + k,
    );
    batches.push({
      schemaVersion: 1,
      kind: 'sample-batch',
      clusterId,
      batchId: `batch-${first}`,
      sentAt: new Date((options.startAt + first * options.stepSeconds) * 1000).toISOString(),
      stepSeconds: options.stepSeconds,
      series: pods.map((p) => ({
        metric: 'memory_working_set_bytes' as const,
        namespace: p.namespace,
        pod: p.pod,
        container: p.container,
        samples: steps.map(
          (s) => [options.startAt + s * options.stepSeconds, Math.round(p.memoryAt(s))] as [number, number],
        ),
      })),
    });
  }
  return batches;
}

/** Deterministic noise in [-1, 1] so tests are reproducible. */
export function noise(seed: number): (step: number) => number {
  return (step) => {
    const x = Math.sin(seed * 9301 + step * 49297) * 233280;
    return (x - Math.floor(x)) * 2 - 1;
  };
}
