import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Redis } from 'ioredis';
import { DEFAULT_DETECTION_POLICY } from '../functions/inference/core/defaults.js';
import {
  processShipperRecords,
  type RowScore,
  type ShipperRecord,
} from '../functions/inference/core/process-batch.js';
import { seriesKeyOf } from '../functions/inference/core/series-keys.js';
import { createInferenceCore } from '../functions/inference/runtime.js';
import type { SampleBatch } from '../functions/shared/contracts/index.js';
import { PrivateRedisServer } from '../local/harness/support/redis-server.js';

/**
 * `kubepulse score`: streams `timestamp,value` series row by row through the same inference core, models and
 * Redis-kept state the Lambda function uses, and writes a per-row `anomaly_score` in NAB's results layout
 * (`<out>/<detector>/<category>/<detector>_<file>.csv`). Files are interleaved, a chunk of rows from each per
 * invocation; no row's score depends on a later row.
 */
export interface ScoreOptions {
  inputs: string[];
  outDir: string;
  detector?: string;
  modelDir?: string;
  /** An existing Redis; by default a private redis-server is started and stopped. */
  redisUrl?: string;
  rowsPerChunk?: number;
  onProgress?: (rowsDone: number, rowsTotal: number) => void;
}

export interface ScoreSummary {
  files: number;
  rows: number;
  seconds: number;
  anomaliesOpened: number;
}

interface InputSeries {
  path: string;
  category: string;
  file: string;
  seriesKey: string;
  pod: string;
  timestamps: string[];
  unix: number[];
  values: number[];
  /** As written in the input, so the results repeat it exactly. */
  valueTexts: string[];
  scores: Float64Array;
}

const CLUSTER = 'offline';
const NAMESPACE = 'series';
const CONTAINER = 'value';
const METRIC = 'memory_working_set_bytes';

export async function scoreFiles(options: ScoreOptions): Promise<ScoreSummary> {
  const detector = options.detector ?? 'kubepulse';
  const rowsPerChunk = options.rowsPerChunk ?? 64;
  const series = listCsvFiles(options.inputs).map(readSeries);
  const rowsTotal = series.reduce((n, s) => n + s.values.length, 0);
  const privateRedis = options.redisUrl ? undefined : await PrivateRedisServer.start();
  const redis = new Redis(options.redisUrl ?? privateRedis!.url);
  try {
    let anomaliesOpened = 0;
    const deps = await createInferenceCore(
      redis,
      {
        async publish(anomalies) {
          anomaliesOpened += anomalies.filter((a) => a.status === 'opened').length;
        },
      },
      {
        modelDir: options.modelDir ?? 'models/dist',
        windowSlack: rowsPerChunk,
        windowTtlSeconds: 7 * 24 * 3600,
        inventoryTtlSeconds: 3600,
        eventDedupTtlSeconds: 3600,
        policy: DEFAULT_DETECTION_POLICY,
      },
      { debug() {}, info() {}, warn() {}, error: (m, ...e) => console.error(m, ...e) },
      { collectScores: true },
    );
    const started = performance.now();
    let rowsDone = 0;
    const lastScore = new Map<string, number>();
    for (let first = 0; series.some((s) => first < s.values.length); first += rowsPerChunk) {
      const active = series.filter((s) => first < s.values.length);
      const records: ShipperRecord[] = active.map((s) => ({
        recordId: `${s.seriesKey}@${first}`,
        message: chunkOf(s, first, rowsPerChunk),
      }));
      const outcome = await processShipperRecords(records, deps);
      if (outcome.failures.size > 0) {
        throw new Error(`scoring failed: ${[...outcome.failures.values()][0]?.message}`);
      }
      const byRow = new Map<string, number>();
      for (const row of outcome.scores) byRow.set(`${row.seriesKey}@${row.at}`, rowAnomalyScore(row));
      for (const s of active) {
        const end = Math.min(first + rowsPerChunk, s.values.length);
        for (let i = first; i < end; i++) {
          // A row without its own score (warm-up, or a repeated or backwards timestamp) keeps the last one.
          const own = byRow.get(`${s.seriesKey}@${s.unix[i]}`);
          const score = own ?? lastScore.get(s.seriesKey) ?? 0;
          lastScore.set(s.seriesKey, score);
          s.scores[i] = score;
        }
        rowsDone += end - first;
      }
      options.onProgress?.(rowsDone, rowsTotal);
    }
    const seconds = (performance.now() - started) / 1000;
    for (const s of series) writeResults(options.outDir, detector, s);
    return { files: series.length, rows: rowsTotal, seconds, anomaliesOpened };
  } finally {
    redis.disconnect();
    await privateRedis?.close();
  }
}

/**
 * A row's anomaly score: the higher of the classifier's incident probability and the value's surprise at the
 * onset of an excursion (surprise.ts), so both "heading for exhaustion" and "unlike this series" count.
 */
function rowAnomalyScore(row: Pick<RowScore, 'probability' | 'surpriseOnset'>): number {
  return Math.max(row.probability, row.surpriseOnset);
}

function listCsvFiles(inputs: string[]): string[] {
  const files: string[] = [];
  const walk = (path: string) => {
    if (statSync(path).isDirectory()) {
      for (const name of readdirSync(path).sort()) walk(join(path, name));
    } else if (path.endsWith('.csv')) {
      files.push(path);
    }
  };
  for (const input of inputs) walk(input);
  if (files.length === 0) throw new Error(`no .csv files in ${inputs.join(', ')}`);
  return files;
}

function readSeries(path: string): InputSeries {
  const lines = readFileSync(path, 'utf8').trim().split(/\r?\n/);
  const header = lines.shift()!.split(',');
  const tsColumn = header.indexOf('timestamp');
  const valueColumn = header.indexOf('value');
  if (tsColumn < 0 || valueColumn < 0) throw new Error(`${path}: needs timestamp and value columns`);
  const timestamps: string[] = [];
  const unix: number[] = [];
  const values: number[] = [];
  const valueTexts: string[] = [];
  for (const [n, line] of lines.entries()) {
    const cells = line.split(',');
    const ts = cells[tsColumn]!.trim();
    const seconds = Math.floor(
      Date.parse(`${ts.replace(' ', 'T')}${/[zZ]|[+-]\d\d:?\d\d$/.test(ts) ? '' : 'Z'}`) / 1000,
    );
    const value = Number(cells[valueColumn]);
    if (!Number.isFinite(seconds) || !Number.isFinite(value))
      throw new Error(`${path}:${n + 2}: bad row "${line}"`);
    timestamps.push(ts);
    unix.push(seconds);
    values.push(value);
    valueTexts.push(cells[valueColumn]!.trim());
  }
  const category = basename(dirname(path));
  const file = basename(path);
  // Series names become Kubernetes-style object names in the message contract.
  const pod =
    `${category}-${file.replace(/\.csv$/, '')}`
      .toLowerCase()
      .replace(/[^a-z0-9.-]+/g, '-')
      .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '')
      .slice(0, 200) || 'series';
  return {
    path,
    category,
    file,
    pod,
    seriesKey: seriesKeyOf(CLUSTER, NAMESPACE, pod, CONTAINER, METRIC),
    timestamps,
    unix,
    values,
    valueTexts,
    scores: new Float64Array(values.length),
  };
}

function chunkOf(s: InputSeries, first: number, size: number): SampleBatch {
  const end = Math.min(first + size, s.values.length);
  const samples: Array<[number, number]> = [];
  for (let i = first; i < end; i++) samples.push([s.unix[i]!, s.values[i]!]);
  return {
    schemaVersion: 1,
    kind: 'sample-batch',
    clusterId: CLUSTER,
    batchId: `${s.pod}-${first}`,
    sentAt: new Date(s.unix[end - 1]! * 1000).toISOString(),
    stepSeconds: 300,
    series: [{ metric: METRIC, namespace: NAMESPACE, pod: s.pod, container: CONTAINER, samples }],
  };
}

function writeResults(outDir: string, detector: string, s: InputSeries): void {
  const dir = join(outDir, detector, s.category);
  mkdirSync(dir, { recursive: true });
  const lines = ['timestamp,value,anomaly_score'];
  for (let i = 0; i < s.values.length; i++)
    lines.push(`${s.timestamps[i]},${s.valueTexts[i]},${s.scores[i]!.toFixed(6)}`);
  writeFileSync(join(dir, `${detector}_${s.file}`), `${lines.join('\n')}\n`);
}
