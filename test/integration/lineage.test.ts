import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { DEFAULT_DETECTION_POLICY } from '../../functions/inference/core/defaults.js';
import { processShipperRecords, type ShipperRecord } from '../../functions/inference/core/process-batch.js';
import { seriesKeyOf } from '../../functions/inference/core/series-keys.js';
import { decodeSeriesState } from '../../functions/inference/core/series-state.js';
import { createInferenceCore } from '../../functions/inference/runtime.js';
import type { Anomaly, InventorySnapshot, SampleBatch } from '../../functions/shared/contracts/index.js';
import { PrivateRedisServer } from '../../local/harness/support/redis-server.js';
import { errorsOnlyLogger } from '../support/loggers.js';

/**
 * A series' learnt state carried across a pod's replacement (core/lineage.ts), through the production inference
 * core on a real Redis: a pod that lived at 92 % of its memory limit for 13 hours has taught the limit guard that
 * the level is harmless; its successor under the same Deployment and container starts from that and stays quiet,
 * while the same level pages on a pod of another owner, container, namespace or cluster.
 */
const STEP = 30;
const START = 1_800_000_000;
const LIMIT = 1024 ** 3;
const PER_MESSAGE = 10;

interface Pod {
  cluster: string;
  namespace: string;
  pod: string;
  owner: string;
  container: string;
  /** The pod's other containers, listed in its inventory (their series are sent apart). */
  siblings?: string[];
}

describe('lineage: a replaced pod inherits its predecessor’s history', () => {
  let server: PrivateRedisServer;
  let redis: Redis;
  let openings: Anomaly[];
  let process: (pods: readonly Pod[], from: number, samples: number) => Promise<void>;

  before(async () => {
    server = await PrivateRedisServer.start();
    redis = new Redis(server.url);
    openings = [];
    const deps = await createInferenceCore(
      redis,
      {
        async publish(anomalies) {
          for (const a of anomalies) if (a.status === 'opened') openings.push(a);
        },
      },
      {
        modelDir: 'models/dist',
        windowSlack: PER_MESSAGE,
        windowTtlSeconds: 24 * 3600,
        inventoryTtlSeconds: 24 * 3600,
        eventDedupTtlSeconds: 3600,
        policy: DEFAULT_DETECTION_POLICY,
      },
      errorsOnlyLogger,
    );
    process = async (pods, from, samples) => {
      for (let first = 0; first < samples; first += PER_MESSAGE) {
        const records: ShipperRecord[] = [];
        for (const p of pods) {
          const id = `${p.cluster}/${p.namespace}/${p.pod}/${p.container}`;
          if (first === 0 && p.siblings !== undefined)
            records.push({ recordId: `${id}@inv`, message: inventoryOf(p, from) });
          records.push({ recordId: `${id}@${first}`, message: batchOf(p, from + first * STEP) });
        }
        const outcome = await processShipperRecords(records, deps);
        assert.equal(outcome.failures.size, 0, [...outcome.failures.values()][0]?.message);
      }
    };
  });

  after(async () => {
    redis.disconnect();
    await server.close();
  });

  const web = (pod: string, overrides: Partial<Pod> = {}): Pod => ({
    cluster: 'prod',
    namespace: 'shop',
    pod,
    owner: 'web',
    container: 'app',
    siblings: [],
    ...overrides,
  });
  const openedOn = (p: Pod) =>
    openings.filter(
      (a) =>
        a.clusterId === p.cluster &&
        a.target.namespace === p.namespace &&
        a.target.pod === p.pod &&
        a.target.container === p.container,
    );
  const stateOf = async (p: Pod) =>
    decodeSeriesState(
      (await redis.hgetall(
        `kp:{${seriesKeyOf(p.cluster, p.namespace, p.pod, p.container, 'memory_working_set_bytes')}}:s`,
      )) as Record<string, string>,
    );

  it('inherits from the same owner and container, and nowhere else', async () => {
    const predecessor = web('web-7d9-abc');
    const hours13 = (13 * 3600) / STEP;
    await process([predecessor], START, hours13);
    assert.equal(openedOn(predecessor).length, 1, 'the first time at 92 % pages (the static-rule promise)');

    const later = START + hours13 * STEP;
    const successor = web('web-5f1-xyz', { siblings: ['sidecar'] });
    const strangers = [
      web('api-5f1-xyz', { owner: 'api' }),
      // the successor's own sidecar: the pod's inventory (sent with the successor's series) lists it
      web('web-5f1-xyz', { container: 'sidecar', siblings: undefined }),
      web('web-5f1-xyz', { namespace: 'staging' }),
      web('web-5f1-xyz', { cluster: 'dev' }),
    ];
    await process([successor, ...strangers], later, 60);

    assert.deepEqual(openedOn(successor), [], 'the successor has been shown the level is harmless');
    const inherited = await stateOf(successor);
    assert.equal(inherited.inheritedFrom?.pod, predecessor.pod);
    assert.equal(inherited.inheritedFrom?.partial, false);
    for (const stranger of strangers) {
      assert.equal(openedOn(stranger).length, 1, `${JSON.stringify(stranger)} starts from nothing and pages`);
      assert.equal((await stateOf(stranger)).inheritedFrom, undefined);
    }
  });
});

function inventoryOf(p: Pod, at: number): InventorySnapshot {
  return {
    schemaVersion: 1,
    kind: 'inventory-snapshot',
    clusterId: p.cluster,
    snapshotId: `${p.pod}-${at}`,
    takenAt: new Date(at * 1000).toISOString(),
    complete: false,
    nodes: [],
    pods: [
      {
        namespace: p.namespace,
        pod: p.pod,
        owner: { kind: 'Deployment', name: p.owner },
        node: 'node-a',
        phase: 'Running',
        labels: {},
        containers: [p.container, ...(p.siblings ?? [])].map((name) => ({
          name,
          requests: {},
          limits: { memoryBytes: LIMIT },
          restartCount: 0,
        })),
      },
    ],
  };
}

function batchOf(p: Pod, from: number): SampleBatch {
  const samples: Array<[number, number]> = [];
  for (let i = 0; i < PER_MESSAGE; i++) {
    const at = from + i * STEP;
    samples.push([at, Math.round(LIMIT * (0.92 + 0.003 * Math.sin(at / 97)))]);
  }
  return {
    schemaVersion: 1,
    kind: 'sample-batch',
    clusterId: p.cluster,
    batchId: `${p.namespace}-${p.pod}-${p.container}-${from}`,
    sentAt: new Date((from + (PER_MESSAGE - 1) * STEP) * 1000).toISOString(),
    stepSeconds: STEP,
    series: [
      {
        metric: 'memory_working_set_bytes',
        namespace: p.namespace,
        pod: p.pod,
        container: p.container,
        samples,
      },
    ],
  };
}
