import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { SeriesStore } from '../functions/inference/adapters/redis-series-store.js';
import { INITIAL_INCIDENT_STATE } from '../functions/inference/core/hysteresis.js';
import { incidentIdOf, seriesKeyOf } from '../functions/inference/core/series-keys.js';
import { encodeSeriesState } from '../functions/inference/core/series-state.js';
import { PrivateRedisServer } from '../local/harness/support/redis-server.js';
import {
  readTrainingLabels,
  runExportTrainingCommand,
  seriesFileOf,
  trainingKeys,
} from './export-training.js';
import { runLabelCommand } from './label.js';

const START = 1_790_000_000;
const STEP = 30;
const GiB = 1024 ** 3;
const now = new Date('2026-11-21T10:05:00Z');
const leakKey = seriesKeyOf('prod', 'shop', 'cart-1', 'app', 'memory_working_set_bytes');
const batchKey = seriesKeyOf('prod', 'jobs', 'report-1', 'main', 'cpu_usage_cores');
const otherClusterKey = seriesKeyOf('staging', 'shop', 'cart-2', 'app', 'memory_working_set_bytes');
const restartsKey = seriesKeyOf('prod', 'shop', 'cart-1', 'app', 'container_restarts_total');
const samples = (n: number, valueAt: (i: number) => number) =>
  Array.from({ length: n }, (_, i) => [START + i * STEP, valueAt(i)] as const);

describe('kubepulse label and export-training on a real Redis, with windows and states the series store wrote', () => {
  let server: PrivateRedisServer;
  let redis: Redis;
  let store: SeriesStore;
  let outDir: string;

  before(async () => {
    server = await PrivateRedisServer.start();
    redis = new Redis(server.url);
    store = new SeriesStore(redis, {
      scoringWindow: 64,
      windowCapacity: 200,
      windowTtlSeconds: 3600,
      inventoryTtlSeconds: 3600,
      eventDedupTtlSeconds: 3600,
    });
  });

  after(async () => {
    redis.disconnect();
    await server.close();
  });

  beforeEach(async () => {
    await redis.flushall();
    outDir = mkdtempSync(join(tmpdir(), 'kubepulse-label-'));
    await store.load({
      appends: [
        { seriesKey: leakKey, samples: samples(100, (i) => GiB * (0.4 + 0.005 * i)) },
        { seriesKey: batchKey, samples: samples(100, (i) => (i % 40 < 20 ? 1.8 : 0.3)) },
        { seriesKey: otherClusterKey, samples: samples(10, () => GiB / 2) },
        { seriesKey: restartsKey, samples: samples(10, () => 0) },
      ],
      inventoryWrites: [
        {
          clusterId: 'prod',
          pod: {
            namespace: 'shop',
            pod: 'cart-1',
            phase: 'Running',
            labels: {},
            containers: [{ name: 'app', requests: {}, limits: { memoryBytes: GiB }, restartCount: 0 }],
          },
        },
      ],
      inventoryReads: [],
      eventsToCheck: [],
    });
    // The leak's incident is open; the batch job's incident (opened at sample 30) has resolved since.
    const openedAt = START + 80 * STEP;
    await store.commit([
      {
        seriesKey: leakKey,
        expectedVersion: 0,
        fields: encodeSeriesState({
          lastScoredAt: START + 99 * STEP,
          incident: {
            ...INITIAL_INCIDENT_STATE,
            phase: 'open',
            incidentId: incidentIdOf(leakKey, openedAt),
            openedAt,
            openedBy: 'forecast',
          },
          surprise: null,
          outbox: [],
        }),
      },
    ]);
  });

  const run = async (command: 'label' | 'export-training', argv: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const deps = {
      env: { REDIS_URL: server.url },
      out: (l: string) => out.push(l),
      err: (l: string) => err.push(l),
      clock: () => now,
    };
    const code =
      command === 'label' ? await runLabelCommand(argv, deps) : await runExportTrainingCommand(argv, deps);
    return { code, out: out.join('\n'), err: err.join('\n') };
  };
  const stored = async (incidentId: string) =>
    JSON.parse((await redis.get(trainingKeys.feedback(incidentId))) ?? 'null');

  it('labels an open incident from its series state, and a resolved one from its window', async () => {
    const open = incidentIdOf(leakKey, START + 80 * STEP);
    const resolved = incidentIdOf(batchKey, START + 30 * STEP);
    assert.deepEqual(await run('label', [open, '--true', '--by', 'ana']), {
      code: 0,
      out: `labelled ${open} true-positive (${leakKey}, opened 2026-09-21T14:53:20.000Z)`,
      err: '',
    });
    assert.equal(
      (await run('label', [resolved, '--false', '--note', 'nightly report job', '--by', 'ana'])).code,
      0,
    );
    assert.deepEqual(await stored(resolved), {
      schemaVersion: 1,
      incidentId: resolved,
      seriesKey: batchKey,
      clusterId: 'prod',
      openedAt: START + 30 * STEP,
      resolvedAt: null,
      verdict: 'false-positive',
      note: 'nightly report job',
      labelledBy: 'ana',
      labelledAt: now.toISOString(),
    });
    const relabelled = await run('label', [
      resolved,
      '--true',
      '--by',
      'bo',
      '--resolved-at',
      String(START + 50 * STEP),
    ]);
    assert.match(relabelled.out, /replaces false-positive by ana at 2026-11-21T10:05:00.000Z$/);
    assert.equal((await stored(resolved)).verdict, 'true-positive');
    assert.equal((await stored(resolved)).resolvedAt, START + 50 * STEP);
  });

  it('refuses an incident it cannot place, and one that did not open where --series/--opened-at say', async () => {
    const gone = incidentIdOf(leakKey, START - 3600);
    const missing = await run('label', [gone, '--true']);
    assert.equal(missing.code, 1);
    assert.match(missing.err, /no incident .* give --series and --opened-at/);
    assert.equal(await stored(gone), null);

    const wrong = await run('label', [gone, '--true', '--series', leakKey, '--opened-at', String(START)]);
    assert.equal(wrong.code, 1);
    assert.match(wrong.err, /did not open on/);
    const given = await run('label', [
      gone,
      '--false',
      '--series',
      leakKey,
      '--opened-at',
      String(START - 3600),
    ]);
    assert.equal(given.code, 0, given.err);
    assert.equal((await stored(gone)).openedAt, START - 3600);
  });

  it('says how to use it when the verdict or the id is missing', async () => {
    for (const argv of [
      ['inc-1'],
      ['inc-1', '--true', '--false'],
      ['--true'],
      ['inc-1', '--true', '--series', leakKey],
    ]) {
      const result = await run('label', argv);
      assert.equal(result.code, 2, argv.join(' '));
      assert.match(result.err, /usage: kubepulse label/);
    }
  });

  it('exports one cluster’s scored series with their limits, and every labelled or open incident', async () => {
    const open = incidentIdOf(leakKey, START + 80 * STEP);
    const resolved = incidentIdOf(batchKey, START + 30 * STEP);
    const expired = incidentIdOf(
      seriesKeyOf('prod', 'shop', 'gone-1', 'app', 'memory_working_set_bytes'),
      START,
    );
    await run('label', [resolved, '--false']);
    await run('label', [
      expired,
      '--true',
      '--series',
      seriesKeyOf('prod', 'shop', 'gone-1', 'app', 'memory_working_set_bytes'),
      '--opened-at',
      String(START),
    ]);

    const result = await run('export-training', ['--out', outDir, '--cluster', 'prod']);
    assert.equal(result.code, 0, result.err);
    assert.equal(
      result.out,
      `2 series (200 new samples, 200 in all), 3 incidents (1 true, 1 false, 1 unlabelled) in ${outDir}`,
    );
    assert.match(result.err, new RegExp(`labelled incident ${expired} has no recorded samples`));

    const leakRows = readFileSync(join(outDir, seriesFileOf(leakKey)), 'utf8')
      .trim()
      .split('\n');
    assert.equal(leakRows[1], `2026-09-21T14:13:20Z,${GiB * 0.4},${GiB}`);
    // No inventory for the batch pod: its limit is unknown, not made up.
    const batchRows = readFileSync(join(outDir, seriesFileOf(batchKey)), 'utf8')
      .trim()
      .split('\n');
    assert.equal(batchRows[1], '2026-09-21T14:13:20Z,1.8,');

    const labels = readTrainingLabels(join(outDir, 'labels.json'));
    assert.deepEqual(
      labels.series.map((s) => s.seriesKey),
      [batchKey, leakKey],
    );
    assert.deepEqual(
      labels.incidents.map((i) => [i.incidentId, i.label, i.file]),
      [
        [resolved, 0, seriesFileOf(batchKey)],
        [open, null, seriesFileOf(leakKey)],
        [expired, 1, null],
      ],
    );
    rmSync(outDir, { recursive: true, force: true });
  });
});
