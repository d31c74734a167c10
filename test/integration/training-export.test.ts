import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { readTrainingLabels, seriesFileOf } from '../../cli/export-training.js';
import { runLabelCommand } from '../../cli/label.js';
import { type InferenceDeps, processShipperRecords } from '../../functions/inference/core/process-batch.js';
import { seriesKeyOf } from '../../functions/inference/core/series-keys.js';
import { createInferenceCore } from '../../functions/inference/runtime.js';
import type { Anomaly, UsageAnomaly } from '../../functions/shared/contracts/index.js';
import {
  GiB,
  inventoryFor,
  noise,
  type SyntheticPod,
  sampleBatches,
} from '../../local/harness/support/pod-series.js';
import { PrivateRedisServer } from '../../local/harness/support/redis-server.js';
import { errorsOnlyLogger } from '../support/loggers.js';

const STEP = 30;
const START = 1_790_000_000;
const STEPS = 210;
const LEAK_CROSSES_AT = 220;
const jitterLeak = noise(11);
const jitterSteady = noise(12);
const pods: SyntheticPod[] = [
  {
    namespace: 'shop',
    pod: 'cart-6f7d9-x1',
    container: 'app',
    limitBytes: GiB,
    memoryAt: (s) => GiB * (0.35 + (0.65 * s) / LEAK_CROSSES_AT + 0.004 * jitterLeak(s)),
  },
  {
    namespace: 'shop',
    pod: 'search-5c8b7-x1',
    container: 'app',
    limitBytes: GiB,
    memoryAt: (s) => GiB * (0.45 + 0.02 * Math.sin(s / 20) + 0.006 * jitterSteady(s)),
  },
];
interface WindowsOfSeries {
  classifierRows: number;
  positives: number;
  negatives: number;
  positiveEnds: [number, number] | null;
  negativeEnds: [number, number] | null;
  forecasterRows: number;
}

const keyOf = (pod: SyntheticPod) =>
  seriesKeyOf('dev', pod.namespace, pod.pod, pod.container, 'memory_working_set_bytes');

describe('kubepulse label + export-training, on what the real inference core left in a real Redis', () => {
  let redisServer: PrivateRedisServer;
  let redis: Redis;
  let core: InferenceDeps;
  const published: Anomaly[] = [];
  const outDir = mkdtempSync(join(tmpdir(), 'kubepulse-export-'));

  before(async () => {
    redisServer = await PrivateRedisServer.start();
    redis = new Redis(redisServer.url);
    core = await createInferenceCore(
      redis,
      {
        async publish(anomalies) {
          published.push(...anomalies);
        },
      },
      {
        modelDir: 'models/dist',
        // Redis keeps the model's window plus this slack: enough here for the whole series to be exported.
        windowSlack: 256,
        windowTtlSeconds: 6 * 3600,
        inventoryTtlSeconds: 3600,
        eventDedupTtlSeconds: 3600,
        policy: { openAfter: 2, closeAfter: 10, timeToLimitAlertSeconds: 1800 },
      },
      errorsOnlyLogger,
    );
    const messages = [
      inventoryFor('dev', pods),
      ...sampleBatches('dev', pods, {
        from: 0,
        to: STEPS,
        stepsPerBatch: 10,
        startAt: START,
        stepSeconds: STEP,
      }),
    ];
    const outcome = await processShipperRecords(
      messages.slice(0, 2).map((message, i) => ({ recordId: `r${i}`, message })),
      core,
    );
    assert.equal(outcome.failures.size, 0);
    for (const [i, message] of messages.slice(2).entries()) {
      const next = await processShipperRecords([{ recordId: `b${i}`, message }], core);
      assert.equal(next.failures.size, 0);
    }
  });

  after(async () => {
    redis.disconnect();
    await redisServer.close();
    rmSync(outDir, { recursive: true, force: true });
  });

  const cli = (args: string[]) =>
    spawnSync(process.execPath, ['cli/kubepulse.mjs', ...args], {
      encoding: 'utf8',
      env: { ...process.env, REDIS_URL: redisServer.url, KUBEPULSE_USER: 'oncall' },
    });

  it('labels the leak’s incident, exports its series with the limit and the incident with its verdict', async () => {
    const openings = published.filter(
      (a): a is UsageAnomaly =>
        a.source === 'usage' && a.status === 'opened' && a.target.pod === pods[0]!.pod,
    );
    assert.ok(openings.length >= 1, 'the leak opened an incident');
    assert.equal(
      published.filter((a) => a.target.pod === pods[1]!.pod).length,
      0,
      'the steady pod stayed quiet',
    );
    const incident = openings.at(-1)!;

    // The incident still open: found in its series' state, through the real CLI entry point.
    const labelled = cli(['label', incident.incidentId, '--true', '--note', 'OOMKilled at 10:40']);
    assert.equal(labelled.status, 0, labelled.stderr);
    assert.match(labelled.stdout, new RegExp(`labelled ${incident.incidentId} true-positive`));

    // An incident that was superseded (resolved) is found by its id among the window's timestamps.
    const superseded = openings.length > 1 ? openings[0]! : null;
    if (superseded) {
      const lines: string[] = [];
      const code = await runLabelCommand([superseded.incidentId, '--false', '--redis', redisServer.url], {
        env: {},
        out: (line) => lines.push(line),
        err: (line) => lines.push(line),
      });
      assert.equal(code, 0, lines.join('\n'));
    }

    const exported = cli([
      'export-training',
      '--redis',
      redisServer.url,
      '--out',
      outDir,
      '--cluster',
      'dev',
    ]);
    assert.equal(exported.status, 0, exported.stderr);
    assert.match(exported.stdout, /^2 series \(420 new samples, 420 in all\)/);

    const leakFile = seriesFileOf(keyOf(pods[0]!));
    const rows = readFileSync(join(outDir, leakFile), 'utf8').trim().split('\n');
    assert.equal(rows[0], 'timestamp,value,limit');
    assert.equal(rows.length, 1 + STEPS);
    for (const step of [0, 100, STEPS - 1]) {
      const at = new Date((START + step * STEP) * 1000).toISOString().replace('.000Z', 'Z');
      assert.equal(rows[1 + step], `${at},${Math.round(pods[0]!.memoryAt(step))},${GiB}`);
    }

    const labels = readTrainingLabels(join(outDir, 'labels.json'));
    assert.deepEqual(
      labels.series.map((s) => [s.seriesKey, s.file, s.signal, s.samples]),
      pods.map((p) => [keyOf(p), seriesFileOf(keyOf(p)), 'memory', STEPS]).sort(),
    );
    const exportedIncident = labels.incidents.find((i) => i.incidentId === incident.incidentId);
    assert.deepEqual(
      {
        ...exportedIncident,
        labelledAt: typeof exportedIncident?.labelledAt,
      },
      {
        incidentId: incident.incidentId,
        seriesKey: keyOf(pods[0]!),
        file: leakFile,
        openedAt: incident.asOf,
        resolvedAt: null,
        label: 1,
        verdict: 'true-positive',
        note: 'OOMKilled at 10:40',
        labelledBy: 'oncall',
        labelledAt: 'string',
      },
    );
    assert.equal(labels.incidents.length, openings.length);
    if (superseded) {
      const previous = labels.incidents.find((i) => i.incidentId === superseded.incidentId);
      assert.equal(previous?.label, 0);
      assert.equal(previous?.openedAt, superseded.asOf);
    }
  });

  it('exports again into the same directory without duplicating rows, adding only new samples', async () => {
    const more = sampleBatches('dev', pods, {
      from: STEPS,
      to: STEPS + 5,
      stepsPerBatch: 5,
      startAt: START,
      stepSeconds: STEP,
    });
    const outcome = await processShipperRecords([{ recordId: 'more', message: more[0]! }], core);
    assert.equal(outcome.failures.size, 0);
    const again = cli(['export-training', '--out', outDir]);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /^2 series \(10 new samples, 430 in all\)/);
    const rows = readFileSync(join(outDir, seriesFileOf(keyOf(pods[0]!))), 'utf8')
      .trim()
      .split('\n');
    assert.equal(rows.length, 1 + STEPS + 5);
    assert.equal(
      readTrainingLabels(join(outDir, 'labels.json')).incidents.filter((i) => i.label === 1).length,
      1,
    );
  });

  it('hands the models’ training the leak’s windows labelled 1 and the steady pod’s to the forecaster only', () => {
    const python = execFileSync('bash', ['models/setup.sh'], { encoding: 'utf8' }).trim();
    const summary = JSON.parse(
      execFileSync(python, ['-m', 'kubepulse_models.recorded', outDir], { cwd: 'models', encoding: 'utf8' }),
    ) as {
      series: Record<string, WindowsOfSeries>;
    };
    const labels = readTrainingLabels(join(outDir, 'labels.json'));
    const real = labels.incidents.find((i) => i.label === 1)!;
    const leak = summary.series[seriesFileOf(keyOf(pods[0]!))]!;
    // Every window ending from the opening to the end of the data (no OOM kill yet), one per sample.
    const lastAt = START + (STEPS + 4) * STEP;
    assert.deepEqual(leak.positiveEnds, [real.openedAt, lastAt], JSON.stringify(leak));
    assert.equal(leak.positives, (lastAt - real.openedAt) / STEP + 1);
    const falseAlarm = labels.incidents.find((i) => i.label === 0);
    if (falseAlarm) {
      // A superseded incident ends where the next one on its series opens.
      assert.deepEqual(leak.negativeEnds, [falseAlarm.openedAt, real.openedAt - STEP]);
    } else assert.equal(leak.negatives, 0);
    const steady = summary.series[seriesFileOf(keyOf(pods[1]!))]!;
    assert.equal(steady.classifierRows, 0);
    assert.ok(steady.forecasterRows > 0);
  });
});
