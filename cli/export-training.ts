import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { z } from 'zod';
import {
  inventoryKey,
  stateKey,
  unpackSamples,
  windowKey,
} from '../functions/inference/adapters/redis-series-store.js';
import { incidentIdOf, podRefOf } from '../functions/inference/core/series-keys.js';
import { decodeSeriesState } from '../functions/inference/core/series-state.js';
import { type MetricName, PodInventory, type ScoredSignal } from '../functions/shared/contracts/index.js';

/**
 * `kubepulse export-training`: what the cluster recorded, as training data for models/. Every scored series'
 * window in Redis becomes `<out>/series/<file>.csv` (`timestamp,value,limit`), and every incident the export
 * can see (labelled through `kubepulse label`, or open now) goes to `<out>/labels.json` with its verdict.
 *
 * Redis keeps only the newest WINDOW + WINDOW_SLACK samples of a series for WINDOW_TTL_SECONDS, so one export
 * holds little: exporting again into the same directory merges (new timestamps are added, rows already
 * exported are kept, incidents are updated), and a periodic export accumulates the history.
 *
 * The keys it reads, all in one place (the first three are written by the inference core,
 * functions/inference/adapters/redis-series-store.ts; the last by `kubepulse label`):
 *   kp:{<series>}:w            packed window, 12-byte records (uint32 LE unix s, float64 LE value), by time
 *   kp:{<series>}:s            series state hash (`v` version, `t` last scored, `s` JSON incl. the incident)
 *   kp:inv:<cluster>|<ns>/<pod> the pod's last inventory (limits), JSON, expires after INVENTORY_TTL_SECONDS
 *   kp:feedback:<incidentId>   a feedback label (FeedbackLabel below), no expiry
 * where <series> = `<cluster>|<namespace>|<pod>|<container>|<metric>` (core/series-keys.ts `seriesKeyOf`).
 * The first three come from redis-series-store.ts's own key builders; the test exports what the real core wrote.
 */
export const trainingKeys = {
  window: windowKey,
  state: stateKey,
  inventory: (clusterId: string, namespace: string, pod: string) =>
    inventoryKey(podRefOf(clusterId, namespace, pod)),
  feedback: (incidentId: string) => `kp:feedback:${incidentId}`,
  windowsOf: (clusterId?: string) => `kp:{${clusterId ? `${globEscape(clusterId)}|` : ''}*}:w`,
  allFeedback: 'kp:feedback:*',
};

export const FeedbackLabel = z.object({
  schemaVersion: z.literal(1),
  incidentId: z.string().min(1).max(128),
  seriesKey: z.string().min(1),
  clusterId: z.string().min(1),
  openedAt: z.number().int().nonnegative(),
  /** Null while the incident was open when labelled, or when nobody said when it ended. */
  resolvedAt: z.number().int().nonnegative().nullable(),
  verdict: z.enum(['true-positive', 'false-positive']),
  note: z.string().max(2000).optional(),
  labelledBy: z.string().min(1).max(200),
  labelledAt: z.iso.datetime(),
});
export type FeedbackLabel = z.infer<typeof FeedbackLabel>;

const SCORED_METRICS: Partial<Record<MetricName, ScoredSignal>> = {
  memory_working_set_bytes: 'memory',
  cpu_usage_cores: 'cpu',
};

export interface SeriesParts {
  clusterId: string;
  namespace: string;
  pod: string;
  container: string;
  metric: MetricName;
  signal: ScoredSignal;
}

export interface RecordedSeries {
  seriesKey: string;
  parts: SeriesParts;
  timestamps: Uint32Array;
  values: Float64Array;
  /** The incident open on this series now, if any. */
  openIncident: { incidentId: string; openedAt: number } | null;
}

/** Scored series only: the others (throttling ratio, restarts) are context for the planner, not model input. */
export function parseSeriesKey(seriesKey: string): SeriesParts | null {
  const [clusterId, namespace, pod, container, metric, ...rest] = seriesKey.split('|');
  if (!clusterId || !namespace || !pod || !container || !metric || rest.length > 0) return null;
  const signal = SCORED_METRICS[metric as MetricName];
  if (!signal) return null;
  return { clusterId, namespace, pod, container, metric: metric as MetricName, signal };
}

/** Every scored series with a window in Redis, a SCAN page at a time (one pipelined read per page). */
export async function* scanRecordedSeries(redis: Redis, clusterId?: string): AsyncGenerator<RecordedSeries> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', trainingKeys.windowsOf(clusterId), 'COUNT', 500);
    cursor = next;
    const series = keys
      .map((key) => key.slice('kp:{'.length, -'}:w'.length))
      .map((seriesKey) => ({ seriesKey, parts: parseSeriesKey(seriesKey) }))
      .filter((s): s is { seriesKey: string; parts: SeriesParts } => s.parts !== null)
      .filter((s) => clusterId === undefined || s.parts.clusterId === clusterId);
    if (series.length === 0) continue;
    const pipeline = redis.pipeline();
    for (const { seriesKey } of series) {
      pipeline.getBuffer(trainingKeys.window(seriesKey));
      pipeline.hgetall(trainingKeys.state(seriesKey));
    }
    const replies = (await pipeline.exec()) ?? [];
    for (const [i, { seriesKey, parts }] of series.entries()) {
      const [windowError, packed] = replies[2 * i]!;
      const [stateError, stateFields] = replies[2 * i + 1]!;
      if (windowError || stateError) throw windowError ?? stateError;
      if (!packed) continue; // expired between SCAN and GET
      const { timestamps, values } = unpackSamples(packed as Buffer);
      const { incident } = decodeSeriesState(stateFields as Record<string, string>);
      const openIncident =
        incident.phase === 'open' && incident.incidentId && incident.openedAt !== null
          ? { incidentId: incident.incidentId, openedAt: incident.openedAt }
          : null;
      yield { seriesKey, parts, timestamps, values, openIncident };
    }
  } while (cursor !== '0');
}

/** The sample at which `incidentId` opened, if it is still in this series' window (ids are hashes of it). */
export function findOpening(series: RecordedSeries, incidentId: string): number | null {
  if (series.openIncident?.incidentId === incidentId) return series.openIncident.openedAt;
  for (const at of series.timestamps) if (incidentIdOf(series.seriesKey, at) === incidentId) return at;
  return null;
}

export async function readFeedbackLabels(redis: Redis, clusterId?: string): Promise<FeedbackLabel[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, page] = await redis.scan(cursor, 'MATCH', trainingKeys.allFeedback, 'COUNT', 500);
    cursor = next;
    keys.push(...page);
  } while (cursor !== '0');
  if (keys.length === 0) return [];
  keys.sort();
  const labels: FeedbackLabel[] = [];
  const raws = await redis.mget(keys);
  raws.forEach((raw, i) => {
    if (raw === null) return;
    const parsed = FeedbackLabel.safeParse(JSON.parse(raw));
    if (!parsed.success)
      throw new Error(`${keys[i]}: not a feedback label: ${parsed.error.issues[0]?.message}`);
    if (clusterId === undefined || parsed.data.clusterId === clusterId) labels.push(parsed.data);
  });
  return labels;
}

export interface ExportOptions {
  redis: Redis;
  outDir: string;
  clusterId?: string;
  now: Date;
}

export interface ExportSummary {
  series: number;
  samplesAdded: number;
  samplesTotal: number;
  incidents: number;
  truePositives: number;
  falsePositives: number;
  unlabelled: number;
  /** Labelled incidents whose series has no recorded samples here (it expired from Redis before any export). */
  withoutSamples: string[];
}

export interface ExportedSeries {
  file: string;
  seriesKey: string;
  signal: ScoredSignal;
  samples: number;
  firstAt: number;
  lastAt: number;
}

export interface ExportedIncident {
  incidentId: string;
  seriesKey: string;
  /** Relative to the export directory; null when no sample of the series was ever exported. */
  file: string | null;
  openedAt: number;
  /** Null: still open, or its end is unknown (the loader then ends it at the next incident or the data's end). */
  resolvedAt: number | null;
  label: 1 | 0 | null;
  verdict: FeedbackLabel['verdict'] | null;
  note?: string;
  labelledBy?: string;
  labelledAt?: string;
}

export interface TrainingLabels {
  schemaVersion: 1;
  exportedAt: string;
  series: ExportedSeries[];
  incidents: ExportedIncident[];
}

/** A file name per series that is safe on any file system and stable across exports (merging relies on it). */
export function seriesFileOf(seriesKey: string): string {
  return `series/${seriesKey
    .split('|')
    .map((part) => part.replace(/[^A-Za-z0-9._-]/g, '_'))
    .join('__')}.csv`;
}

export async function exportTraining(options: ExportOptions): Promise<ExportSummary> {
  const { redis, outDir, clusterId, now } = options;
  mkdirSync(join(outDir, 'series'), { recursive: true });
  const labelsPath = join(outDir, 'labels.json');
  const previous = existsSync(labelsPath) ? readTrainingLabels(labelsPath) : null;
  const seriesByKey = new Map((previous?.series ?? []).map((s) => [s.seriesKey, s]));
  const incidents = new Map((previous?.incidents ?? []).map((i) => [i.incidentId, i]));

  const recorded: RecordedSeries[] = [];
  for await (const series of scanRecordedSeries(redis, clusterId)) recorded.push(series);
  const limits = await readLimits(redis, recorded);

  let samplesAdded = 0;
  for (const series of recorded) {
    const file = seriesFileOf(series.seriesKey);
    const merged = mergeCsv(join(outDir, file), series, limits.get(series.seriesKey) ?? null);
    samplesAdded += merged.added;
    seriesByKey.set(series.seriesKey, {
      file,
      seriesKey: series.seriesKey,
      signal: series.parts.signal,
      samples: merged.rows,
      firstAt: merged.firstAt,
      lastAt: merged.lastAt,
    });
    const open = series.openIncident;
    if (open && !incidents.get(open.incidentId)?.verdict) {
      incidents.set(open.incidentId, {
        incidentId: open.incidentId,
        seriesKey: series.seriesKey,
        file,
        openedAt: open.openedAt,
        resolvedAt: null,
        label: null,
        verdict: null,
      });
    }
  }

  for (const feedback of await readFeedbackLabels(redis, clusterId)) {
    const known = incidents.get(feedback.incidentId);
    incidents.set(feedback.incidentId, {
      incidentId: feedback.incidentId,
      seriesKey: feedback.seriesKey,
      file: seriesByKey.has(feedback.seriesKey) ? seriesFileOf(feedback.seriesKey) : null,
      openedAt: feedback.openedAt,
      resolvedAt: feedback.resolvedAt ?? known?.resolvedAt ?? null,
      label: feedback.verdict === 'true-positive' ? 1 : 0,
      verdict: feedback.verdict,
      ...(feedback.note ? { note: feedback.note } : {}),
      labelledBy: feedback.labelledBy,
      labelledAt: feedback.labelledAt,
    });
  }

  const sortedIncidents = [...incidents.values()].sort(
    (a, b) => a.seriesKey.localeCompare(b.seriesKey) || a.openedAt - b.openedAt,
  );
  const labels: TrainingLabels = {
    schemaVersion: 1,
    exportedAt: now.toISOString(),
    series: [...seriesByKey.values()].sort((a, b) => a.seriesKey.localeCompare(b.seriesKey)),
    incidents: sortedIncidents,
  };
  writeFileSync(labelsPath, `${JSON.stringify(labels, null, 2)}\n`);
  return {
    series: recorded.length,
    samplesAdded,
    samplesTotal: labels.series.reduce((n, s) => n + s.samples, 0),
    incidents: sortedIncidents.length,
    truePositives: sortedIncidents.filter((i) => i.label === 1).length,
    falsePositives: sortedIncidents.filter((i) => i.label === 0).length,
    unlabelled: sortedIncidents.filter((i) => i.label === null).length,
    withoutSamples: sortedIncidents
      .filter((i) => i.label !== null && i.file === null)
      .map((i) => i.incidentId),
  };
}

export function readTrainingLabels(path: string): TrainingLabels {
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as TrainingLabels;
  if (parsed.schemaVersion !== 1 || !Array.isArray(parsed.series) || !Array.isArray(parsed.incidents)) {
    throw new Error(`${path} is not a kubepulse training export (schemaVersion 1)`);
  }
  return parsed;
}

/** The container's limit for the series' resource, from the pod's stored inventory (null when not known now). */
async function readLimits(
  redis: Redis,
  series: readonly RecordedSeries[],
): Promise<Map<string, number | null>> {
  const limits = new Map<string, number | null>();
  if (series.length === 0) return limits;
  const pipeline = redis.pipeline();
  for (const { parts } of series)
    pipeline.get(trainingKeys.inventory(parts.clusterId, parts.namespace, parts.pod));
  const replies = (await pipeline.exec()) ?? [];
  series.forEach(({ seriesKey, parts }, i) => {
    const [error, raw] = replies[i]!;
    if (error) throw error;
    const inventory = raw ? PodInventory.safeParse(JSON.parse(raw as string)) : null;
    const limitsOf = inventory?.success
      ? inventory.data.containers.find((c) => c.name === parts.container)?.limits
      : undefined;
    const limit = parts.signal === 'memory' ? limitsOf?.memoryBytes : limitsOf?.cpuCores;
    limits.set(seriesKey, limit !== undefined && limit > 0 ? limit : null);
  });
  return limits;
}

const isoSeconds = (unix: number) => new Date(unix * 1000).toISOString().replace('.000Z', 'Z');
const unixOf = (iso: string) => Date.parse(iso) / 1000;

/** Adds the window's new timestamps to the series' CSV; rows exported before keep their value and limit. */
function mergeCsv(
  path: string,
  series: RecordedSeries,
  limit: number | null,
): { added: number; rows: number; firstAt: number; lastAt: number } {
  const rows = new Map<number, string>();
  if (existsSync(path)) {
    for (const line of readFileSync(path, 'utf8').trim().split('\n').slice(1)) {
      rows.set(unixOf(line.slice(0, line.indexOf(','))), line);
    }
  }
  let added = 0;
  series.timestamps.forEach((at, i) => {
    if (rows.has(at)) return;
    rows.set(at, `${isoSeconds(at)},${series.values[i]},${limit ?? ''}`);
    added++;
  });
  const times = [...rows.keys()].sort((a, b) => a - b);
  writeFileSync(path, `timestamp,value,limit\n${times.map((t) => rows.get(t)).join('\n')}\n`);
  return { added, rows: times.length, firstAt: times[0]!, lastAt: times.at(-1)! };
}

function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

// ------------------------------------------------------------------------------------------ command

export const EXPORT_TRAINING_USAGE = `usage: kubepulse export-training --redis <url> --out <dir> [--cluster <id>]

  export-training  write every scored series' recorded window (<dir>/series/*.csv: timestamp,value,limit) and
                   the incidents with their feedback labels (<dir>/labels.json) for models/ training
                   (python -m kubepulse_models.train --recorded <dir>); exporting again into <dir> merges`;

export interface CliDeps {
  env: Record<string, string | undefined>;
  out: (line: string) => void;
  err: (line: string) => void;
  clock?: () => Date;
}

export class UsageError extends Error {}

export async function runExportTrainingCommand(argv: readonly string[], deps: CliDeps): Promise<number> {
  return runCli(deps, EXPORT_TRAINING_USAGE, async () => {
    const { values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: { redis: { type: 'string' }, out: { type: 'string' }, cluster: { type: 'string' } },
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]}`);
    if (!values.out) throw new UsageError('--out <dir> is required');
    const outDir = values.out;
    const summary = await withRedis(redisUrlOf(values.redis, deps.env), (redis) =>
      exportTraining({
        redis,
        outDir,
        ...(values.cluster ? { clusterId: values.cluster } : {}),
        now: (deps.clock ?? (() => new Date()))(),
      }),
    );
    deps.out(
      `${summary.series} series (${summary.samplesAdded} new samples, ${summary.samplesTotal} in all), ` +
        `${summary.incidents} incidents (${summary.truePositives} true, ${summary.falsePositives} false, ` +
        `${summary.unlabelled} unlabelled) in ${outDir}`,
    );
    for (const id of summary.withoutSamples) {
      deps.err(`kubepulse: labelled incident ${id} has no recorded samples (its series expired from Redis)`);
    }
    return 0;
  });
}

/** Runs a command body and turns its failures into an exit code and a message (2: usage, 1: anything else). */
export async function runCli(deps: CliDeps, usage: string, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      deps.err(`kubepulse: ${(error as Error).message}`);
      deps.err(usage);
      return 2;
    }
    deps.err(`kubepulse: ${(error as Error).message ?? String(error)}`);
    return 1;
  }
}

export function redisUrlOf(flag: string | undefined, env: Record<string, string | undefined>): string {
  const url = flag ?? env.REDIS_URL;
  if (!url) throw new UsageError('--redis <url> (or REDIS_URL) is required');
  if (!/^rediss?:\/\//.test(url)) throw new UsageError(`--redis must be a redis:// or rediss:// URL`);
  return url;
}

export async function withRedis<T>(url: string, work: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    connectTimeout: 3000,
    retryStrategy: () => null,
  });
  redis.on('error', () => {});
  try {
    await redis.connect();
  } catch (error) {
    const { hostname, port } = new URL(url);
    throw new Error(`cannot reach Redis at ${hostname}:${port || 6379}: ${(error as Error).message}`);
  }
  try {
    return await work(redis);
  } finally {
    redis.disconnect();
  }
}
