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
import type { InventorySnapshot, MetricName, SampleBatch } from '../functions/shared/contracts/index.js';
import { PrivateRedisServer } from '../local/harness/support/redis-server.js';

/**
 * `kubepulse score`: streams `timestamp,value` series row by row through the same inference core, models and
 * Redis-kept state the Lambda function uses, and writes per row, in NAB's results layout
 * (`<out>/<detector>/<category>/<detector>_<file>.csv`): `timestamp,value,anomaly_score,incident,forecast,
 * seconds_to_limit,reason` (see docs/operations.md). Files are interleaved, a chunk of rows from each per
 * invocation; no row's score depends on a later row.
 *
 * With a limit (a `limit` column, or `limit` for every row), the series is scored as a container with that limit
 * is: the limit reaches the core in an inventory snapshot, as the shipper sends it, when the series starts and
 * whenever the limit changes (a change starts a new chunk, sent with the snapshot), so time to the limit and the
 * limit guard are computed against the limit in force. Without one the series is scaled by its own maximum and
 * no time to a limit is claimed.
 */
export interface ScoreOptions {
  inputs: string[];
  outDir: string;
  detector?: string;
  modelDir?: string;
  /** An existing Redis; by default a private redis-server is started and stopped. */
  redisUrl?: string;
  rowsPerChunk?: number;
  /** The limit for rows without a `limit` column value, in the series' own units. */
  limit?: number;
  /** Which resource the values are: memory (bytes, OOM-killed at the limit) or cpu (cores, throttled). */
  signal?: 'memory' | 'cpu';
  /** The sampling step; by default the median interval between the file's timestamps. */
  stepSeconds?: number;
  /**
   * Tell the unusual-behaviour detector each file's minimum and maximum with its samples (NAB's convention for
   * its scoreboard, which looks ahead). By default nothing is told: the range is learnt from the rows seen.
   */
  toldRange?: boolean;
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
  /** The limit in force at each row (NaN: none). */
  limits: Float64Array;
  stepSeconds: number;
  /** Per row: what `kubepulse score` writes beside the value. */
  results: RowResult[];
  /** The file's minimum and maximum, sent with every chunk when the range is told. */
  valueRange?: { min: number; max: number };
}

interface RowResult {
  anomalyScore: number;
  incident: boolean;
  /** The forecast at the furthest horizon, in the series' units. */
  forecast: number | null;
  secondsToLimit: number | null;
  reason: string;
}

const NO_RESULT: RowResult = {
  anomalyScore: 0,
  incident: false,
  forecast: null,
  secondsToLimit: null,
  reason: '',
};

const CLUSTER = 'offline';
const NAMESPACE = 'series';
const CONTAINER = 'value';
const METRICS: Record<'memory' | 'cpu', MetricName> = {
  memory: 'memory_working_set_bytes',
  cpu: 'cpu_usage_cores',
};
/** NAB's step, for a file with fewer than two rows to measure one from. */
const DEFAULT_STEP_SECONDS = 300;

export async function scoreFiles(options: ScoreOptions): Promise<ScoreSummary> {
  const detector = options.detector ?? 'kubepulse';
  const rowsPerChunk = options.rowsPerChunk ?? 64;
  const metric = METRICS[options.signal ?? 'memory'];
  const series = listCsvFiles(options.inputs).map((path) => readSeries(path, metric, options));
  if (options.toldRange) for (const s of series) s.valueRange = rangeOf(s.values);
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
        inventoryTtlSeconds: 7 * 24 * 3600,
        eventDedupTtlSeconds: 3600,
        policy: DEFAULT_DETECTION_POLICY,
      },
      { debug() {}, info() {}, warn() {}, error: (m, ...e) => console.error(m, ...e) },
      { collectScores: true },
    );
    const started = performance.now();
    let rowsDone = 0;
    const cursors = series.map(() => 0);
    const last = new Map<string, RowResult>();
    while (series.some((s, k) => cursors[k]! < s.values.length)) {
      const records: ShipperRecord[] = [];
      const chunks: Array<{ s: InputSeries; first: number; end: number }> = [];
      series.forEach((s, k) => {
        const first = cursors[k]!;
        if (first >= s.values.length) return;
        let end = Math.min(first + rowsPerChunk, s.values.length);
        // A limit change starts a new chunk, sent together with the inventory that announces it.
        for (let i = first + 1; i < end; i++) if (!sameLimit(s.limits[i]!, s.limits[i - 1]!)) end = i;
        if (
          !Number.isNaN(s.limits[first]!) &&
          (first === 0 || !sameLimit(s.limits[first]!, s.limits[first - 1]!))
        )
          records.push({ recordId: `${s.seriesKey}@inv${first}`, message: inventoryOf(s, first, metric) });
        records.push({ recordId: `${s.seriesKey}@${first}`, message: chunkOf(s, first, end, metric) });
        chunks.push({ s, first, end });
        cursors[k] = end;
      });
      const outcome = await processShipperRecords(records, deps);
      if (outcome.failures.size > 0) {
        throw new Error(`scoring failed: ${[...outcome.failures.values()][0]?.message}`);
      }
      const byRow = new Map<string, RowResult>();
      for (const row of outcome.scores) byRow.set(`${row.seriesKey}@${row.at}`, rowResultOf(row));
      for (const { s, first, end } of chunks) {
        for (let i = first; i < end; i++) {
          // A row without its own score (a repeated or backwards timestamp) keeps the last one, opening nothing.
          const own = byRow.get(`${s.seriesKey}@${s.unix[i]}`);
          const result = own ?? { ...(last.get(s.seriesKey) ?? NO_RESULT), incident: false };
          last.set(s.seriesKey, result);
          s.results[i] = result;
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
 * A row's anomaly score: how unusual the row is for its series (unusual/detector.ts), the score unusual-behaviour
 * incidents open on. Exhaustion has its own columns (forecast, seconds_to_limit) and reasons.
 */
function rowAnomalyScore(row: Pick<RowScore, 'unusual'>): number {
  return row.unusual;
}

/** A range the contract accepts (max above min): a constant file is widened by one unit. */
function rangeOf(values: readonly number[]): { min: number; max: number } {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const v of values) {
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  return max > min ? { min, max } : { min, max: min + 1 };
}

/** What a row's score says, as `kubepulse score` writes it. */
function rowResultOf(row: RowScore): RowResult {
  const reasons = [
    ...(row.forecastBreach ? ['forecast-limit-breach'] : []),
    ...(row.classified ? ['classifier'] : []),
    ...(row.guard ? [row.guard] : []),
    ...(row.unusualOpened ? ['unusual-behaviour'] : []),
  ];
  const furthest = row.forecast.at(-1);
  return {
    anomalyScore: rowAnomalyScore(row),
    incident: row.opened || row.unusualOpened,
    forecast: furthest === undefined ? null : furthest * row.scale,
    secondsToLimit: row.secondsToLimit,
    reason: reasons.join('+'),
  };
}

const sameLimit = (a: number, b: number) => a === b || (Number.isNaN(a) && Number.isNaN(b));

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

function readSeries(
  path: string,
  metric: MetricName,
  options: Pick<ScoreOptions, 'limit' | 'stepSeconds'>,
): InputSeries {
  const lines = readFileSync(path, 'utf8').trim().split(/\r?\n/);
  const header = lines
    .shift()!
    .split(',')
    .map((h) => h.trim());
  const tsColumn = header.indexOf('timestamp');
  const valueColumn = header.indexOf('value');
  const limitColumn = header.indexOf('limit');
  if (tsColumn < 0 || valueColumn < 0) throw new Error(`${path}: needs timestamp and value columns`);
  const limits: number[] = [];
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
    // An empty limit cell falls back to --limit; a limit must be positive.
    const limitText = limitColumn < 0 ? '' : (cells[limitColumn] ?? '').trim();
    const limit = limitText === '' ? (options.limit ?? Number.NaN) : Number(limitText);
    if (!Number.isNaN(limit) && !(Number.isFinite(limit) && limit > 0))
      throw new Error(`${path}:${n + 2}: bad limit "${limitText}"`);
    limits.push(limit);
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
    seriesKey: seriesKeyOf(CLUSTER, NAMESPACE, pod, CONTAINER, metric),
    timestamps,
    unix,
    values,
    valueTexts,
    limits: Float64Array.from(limits),
    stepSeconds: options.stepSeconds ?? medianStep(unix),
    results: new Array(values.length).fill(NO_RESULT),
  };
}

/** The median interval between consecutive timestamps (positive ones only), or NAB's 5 minutes. */
function medianStep(unix: readonly number[]): number {
  const steps: number[] = [];
  for (let i = 1; i < unix.length; i++) if (unix[i]! > unix[i - 1]!) steps.push(unix[i]! - unix[i - 1]!);
  if (steps.length === 0) return DEFAULT_STEP_SECONDS;
  steps.sort((a, b) => a - b);
  return steps[steps.length >> 1]!;
}

function inventoryOf(s: InputSeries, at: number, metric: MetricName): InventorySnapshot {
  const limit = s.limits[at]!;
  return {
    schemaVersion: 1,
    kind: 'inventory-snapshot',
    clusterId: CLUSTER,
    snapshotId: `${s.pod}-${at}`,
    takenAt: new Date(s.unix[at]! * 1000).toISOString(),
    complete: false,
    nodes: [],
    pods: [
      {
        namespace: NAMESPACE,
        pod: s.pod,
        owner: { kind: 'Deployment', name: s.pod },
        node: 'offline',
        phase: 'Running',
        labels: {},
        containers: [
          {
            name: CONTAINER,
            requests: {},
            limits: metric === 'memory_working_set_bytes' ? { memoryBytes: limit } : { cpuCores: limit },
            restartCount: 0,
          },
        ],
      },
    ],
  };
}

function chunkOf(s: InputSeries, first: number, end: number, metric: MetricName): SampleBatch {
  const samples: Array<[number, number]> = [];
  for (let i = first; i < end; i++) samples.push([s.unix[i]!, s.values[i]!]);
  return {
    schemaVersion: 1,
    kind: 'sample-batch',
    clusterId: CLUSTER,
    batchId: `${s.pod}-${first}`,
    sentAt: new Date(s.unix[end - 1]! * 1000).toISOString(),
    stepSeconds: s.stepSeconds,
    series: [
      {
        metric,
        namespace: NAMESPACE,
        pod: s.pod,
        container: CONTAINER,
        samples,
        ...(s.valueRange ? { valueRange: s.valueRange } : {}),
      },
    ],
  };
}

function writeResults(outDir: string, detector: string, s: InputSeries): void {
  const dir = join(outDir, detector, s.category);
  mkdirSync(dir, { recursive: true });
  const lines = ['timestamp,value,anomaly_score,incident,forecast,seconds_to_limit,reason'];
  for (let i = 0; i < s.values.length; i++) {
    const r = s.results[i]!;
    lines.push(
      `${s.timestamps[i]},${s.valueTexts[i]},${r.anomalyScore.toFixed(6)},${r.incident ? 1 : 0},` +
        `${r.forecast === null ? '' : Number(r.forecast.toPrecision(6))},` +
        `${r.secondsToLimit === null ? '' : Math.round(r.secondsToLimit)},${r.reason}`,
    );
  }
  writeFileSync(join(dir, `${detector}_${s.file}`), `${lines.join('\n')}\n`);
}
