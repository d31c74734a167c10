import { Redis } from 'ioredis';
import { DEFAULT_DETECTION_POLICY } from '../../../../functions/inference/core/defaults.js';
import {
  processShipperRecords,
  type ShipperRecord,
} from '../../../../functions/inference/core/process-batch.js';
import { seriesKeyOf } from '../../../../functions/inference/core/series-keys.js';
import { createInferenceCore } from '../../../../functions/inference/runtime.js';
import type {
  Anomaly,
  InventorySnapshot,
  MetricName,
  SampleBatch,
} from '../../../../functions/shared/contracts/index.js';
import { PrivateRedisServer } from '../../../../local/harness/support/redis-server.js';
import { errorsOnlyLogger } from '../../../support/loggers.js';
import type { PodSeries } from '../generator.js';

/**
 * kubepulse on the fault suite through the production inference core (models, ONNX, Redis-kept windows and
 * incident state, the Lambda's default detection policy), fed the way the shipper feeds it: sample batches of
 * `samplesPerMessage` samples per pod, and an inventory snapshot with the pod's limits when the pod is first
 * seen and in the batch where its limit changes, so normalisation divides by the limit in force.
 */
export interface KubepulseOptions {
  modelDir?: string;
  redisUrl?: string;
  samplesPerMessage?: number;
  onProgress?: (samplesDone: number, samplesTotal: number) => void;
}

export interface IncidentOpening {
  at: number;
  /** The anomaly's reasons, and the limit guard's own reason at that sample if it spoke ('near-limit', …). */
  reasons: string[];
  predictedSecondsToLimit: number | null;
}

export interface KubepulseSeriesResult {
  openings: IncidentOpening[];
  /** Unusual-behaviour episodes opened (unix seconds): an incident class of its own, reported apart. */
  unusualOpenings: number[];
  /** Per sample, NaN before the first full window. */
  probability: Float32Array;
  /** Per sample, NaN when the forecast stays under the limit. */
  secondsToLimit: Float32Array;
  /** Per sample, the limit guard's reason, if it spoke. */
  guard: Array<string | null>;
}

const CLUSTER = 'bench-faults';
const NAMESPACE = 'faults';
const CONTAINER = 'app';

const podName = (s: PodSeries) => s.id.toLowerCase().replace(/[^a-z0-9-]+/g, '-');
const metricOf = (s: PodSeries): MetricName =>
  s.resource === 'memory' ? 'memory_working_set_bytes' : 'cpu_usage_cores';

export async function runKubepulse(
  suite: readonly PodSeries[],
  options: KubepulseOptions = {},
): Promise<Map<string, KubepulseSeriesResult>> {
  const perMessage = options.samplesPerMessage ?? 10;
  const privateRedis = options.redisUrl ? undefined : await PrivateRedisServer.start();
  const redis = new Redis(options.redisUrl ?? privateRedis!.url);
  const results = new Map<string, KubepulseSeriesResult>();
  const byKey = new Map<string, PodSeries>();
  const byPod = new Map<string, PodSeries>();
  for (const s of suite) {
    results.set(s.id, {
      openings: [],
      unusualOpenings: [],
      probability: new Float32Array(s.values.length).fill(Number.NaN),
      secondsToLimit: new Float32Array(s.values.length).fill(Number.NaN),
      guard: new Array(s.values.length).fill(null),
    });
    byKey.set(seriesKeyOf(CLUSTER, NAMESPACE, podName(s), CONTAINER, metricOf(s)), s);
    byPod.set(podName(s), s);
  }
  const onOpened = (anomaly: Anomaly) => {
    if (anomaly.source !== 'usage' || anomaly.status !== 'opened') return;
    if (anomaly.problem === 'unusual-behaviour') {
      results.get(byPod.get(anomaly.target.pod)!.id)!.unusualOpenings.push(anomaly.asOf);
      return;
    }
    results.get(byPod.get(anomaly.target.pod)!.id)!.openings.push({
      at: anomaly.asOf,
      reasons: [...anomaly.reasons],
      predictedSecondsToLimit: anomaly.predictedSecondsToLimit,
    });
  };
  try {
    const deps = await createInferenceCore(
      redis,
      {
        async publish(anomalies) {
          for (const anomaly of anomalies) onOpened(anomaly);
        },
      },
      {
        modelDir: options.modelDir ?? 'models/dist',
        windowSlack: perMessage,
        windowTtlSeconds: 24 * 3600,
        inventoryTtlSeconds: 24 * 3600,
        eventDedupTtlSeconds: 3600,
        policy: DEFAULT_DETECTION_POLICY,
      },
      errorsOnlyLogger,
      { collectScores: true },
    );
    const total = suite.reduce((n, s) => n + s.values.length, 0);
    const cursors = suite.map(() => 0);
    let done = 0;
    for (let round = 0; done < total; round++) {
      const records: ShipperRecord[] = [];
      suite.forEach((s, k) => {
        const first = cursors[k]!;
        if (first >= s.values.length) return;
        let end = Math.min(first + perMessage, s.values.length);
        // A limit change starts a new message, sent together with the inventory that announces it.
        for (let i = first + 1; i < end; i++) {
          if (s.limits[i] !== s.limits[i - 1]) end = i;
        }
        if (first === 0 || s.limits[first] !== s.limits[first - 1]) {
          records.push({ recordId: `${s.id}@inv${first}`, message: inventoryOf(s, first) });
        }
        records.push({ recordId: `${s.id}@${first}`, message: batchOf(s, first, end) });
        cursors[k] = end;
        done += end - first;
      });
      const outcome = await processShipperRecords(records, deps);
      if (outcome.failures.size > 0) {
        throw new Error(`scoring failed: ${[...outcome.failures.values()][0]?.message}`);
      }
      for (const row of outcome.scores) {
        const s = byKey.get(row.seriesKey)!;
        const i = (row.at - s.startAt) / s.stepSeconds;
        const result = results.get(s.id)!;
        // A short row (a window not yet full) has no classifier probability.
        result.probability[i] = row.short ? Number.NaN : row.probability;
        result.secondsToLimit[i] = row.secondsToLimit ?? Number.NaN;
        result.guard[i] = row.guard;
      }
      if (round % 20 === 0 || done === total) options.onProgress?.(done, total);
    }
    for (const s of suite) {
      const result = results.get(s.id)!;
      for (const o of result.openings) {
        const guard = result.guard[(o.at - s.startAt) / s.stepSeconds];
        if (guard) o.reasons.push(guard);
      }
    }
    return results;
  } finally {
    redis.disconnect();
    await privateRedis?.close();
  }
}

function inventoryOf(s: PodSeries, at: number): InventorySnapshot {
  const limit = s.limits[at]!;
  const takenAt = new Date((s.startAt + at * s.stepSeconds) * 1000).toISOString();
  return {
    schemaVersion: 1,
    kind: 'inventory-snapshot',
    clusterId: CLUSTER,
    snapshotId: `${podName(s)}-${at}`,
    takenAt,
    complete: false,
    nodes: [],
    pods: [
      {
        namespace: NAMESPACE,
        pod: podName(s),
        owner: { kind: 'Deployment', name: podName(s) },
        node: 'node-a',
        phase: 'Running',
        labels: {},
        containers: [
          {
            name: CONTAINER,
            requests: {},
            limits: s.resource === 'memory' ? { memoryBytes: limit } : { cpuCores: limit },
            restartCount: 0,
          },
        ],
      },
    ],
  };
}

function batchOf(s: PodSeries, first: number, end: number): SampleBatch {
  const samples: Array<[number, number]> = [];
  for (let i = first; i < end; i++) samples.push([s.startAt + i * s.stepSeconds, s.values[i]!]);
  return {
    schemaVersion: 1,
    kind: 'sample-batch',
    clusterId: CLUSTER,
    batchId: `${podName(s)}-${first}`,
    sentAt: new Date((s.startAt + (end - 1) * s.stepSeconds) * 1000).toISOString(),
    stepSeconds: s.stepSeconds,
    series: [{ metric: metricOf(s), namespace: NAMESPACE, pod: podName(s), container: CONTAINER, samples }],
  };
}
