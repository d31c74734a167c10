// The model card's pictures: a few telling fault-suite series (usage against the limit, kubepulse's forecast at
// its first alert, kubepulse's incidents, the static_90 and predict_linear alerts, the failure), drawn from a
// `npm run bench:faults -- --out DIR` directory as SVG (the demo report's plot types, local/scenarios/demo/report/) and
// rendered to PNG by Debian's chromium.
//   node --import tsx models/plots.ts --from DIR [--out models/docs] [--only a.png,b.png] [--svg]
// --svg writes the SVG itself (no chromium needed) next to where the PNG would go, as <name>.svg.
// kubepulse's forecasts are not in the suite's output: each picked series is replayed through the production
// inference core as the suite feeds it (messages of 10 samples, an inventory snapshot when the pod is first seen
// and when its limit changes), and the replay must open its first incident when the suite's run did.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { DEFAULT_DETECTION_POLICY } from '../functions/inference/core/defaults.js';
import { processShipperRecords, type ShipperRecord } from '../functions/inference/core/process-batch.js';
import { createInferenceCore } from '../functions/inference/runtime.js';
import type { InventorySnapshot, SampleBatch, UsageAnomaly } from '../functions/shared/contracts/index.js';
import type { RowScore } from '../functions/inference/core/process-batch.js';
import type { PlotMarker, PlotPoint, SeriesPlot } from '../local/scenarios/demo/report/html-report.js';
import { PrivateRedisServer } from '../local/harness/support/redis-server.js';

const WIDTH = 1000;
/** The 90 % band around a forecast, as the anomaly messages draw it (core/batch/messages.ts). */
const BAND_Z = 1.645;
const HEIGHT = 350;
const MIB = 1024 ** 2;
const HOUR = 3600;
const PER_MESSAGE = 10;
/** The first-minutes picture: the forecast horizon it follows (index into the models' horizons: 10 steps, 5 min). */
const FIRST_MINUTES_HORIZON = 2;
/** Where the models' window is full (their first row), for picking a series long enough to show it. */
const FIRST_MINUTES_MODELS_FROM = 64;
const FIRST_MINUTES_SHOWN = 110;
const COLOURS: Record<PlotMarker['kind'], string> = {
  fault: '#868e96',
  detected: '#e8590c',
  'predicted-failure': '#c92a2a',
  action: '#1971c2',
  verified: '#2b8a3e',
  failure: '#000000',
  escalated: '#9c36b5',
};
const LEGEND: Array<[string, string, string]> = [
  ['#1c7ed6', '', 'usage'],
  ['#c92a2a', '', 'limit'],
  ['#fd7e14', '5 3', 'kubepulse forecast at its first alert (90% band)'],
  [COLOURS.detected, '', 'kubepulse incident'],
  [COLOURS['predicted-failure'], '2 2', 'its predicted limit time'],
  [COLOURS.action, '', 'static_90'],
  [COLOURS.escalated, '', 'predict_linear'],
  [COLOURS.fault, '', 'onset'],
  [COLOURS.failure, '', 'failure'],
];

interface SuiteSeries {
  id: string;
  shape: string;
  faulty: boolean;
  resource: 'memory' | 'cpu';
  onsetAt: number | null;
  failureAt: number | null;
  leadSeconds: Record<string, number | null>;
  times: number[];
  values: number[];
  limits: number[];
}

interface Picture {
  file: string;
  title: string;
  pick: (all: SuiteSeries[]) => SuiteSeries | undefined;
  /** A new pod's first minutes: the rolling forecast and its band, sample by sample, instead of one fan. */
  firstMinutes?: boolean;
}

const leadOf = (s: SuiteSeries, detector: string) => s.leadSeconds[detector] ?? null;
const detected = (s: SuiteSeries) => leadOf(s, 'kubepulse') !== null;
const medianBy = (series: SuiteSeries[], key: (s: SuiteSeries) => number) =>
  [...series].sort((a, b) => key(a) - key(b))[Math.floor((series.length - 1) / 2)];
const ofShape = (all: SuiteSeries[], shape: string) => all.filter((s) => s.shape === shape);

/** Picked by rule, so the pictures can be redrawn from another seed's run. */
const PICTURES: Picture[] = [
  {
    file: 'fast-leak.png',
    title: 'fast leak (leak_power, the fastest the suite has): kubepulse ahead of both rules',
    pick: (all) =>
      ofShape(all, 'leak_power')
        .filter(detected)
        .sort((a, b) => a.failureAt! - a.onsetAt! - (b.failureAt! - b.onsetAt!))[0],
  },
  {
    file: 'slow-leak.png',
    title: 'slow leak under daily load (leak_slow_days, median kubepulse lead)',
    pick: (all) => medianBy(ofShape(all, 'leak_slow_days').filter(detected), (s) => leadOf(s, 'kubepulse')!),
  },
  {
    file: 'leak-under-gc.png',
    title: 'leak under a fast GC sawtooth (leak_under_gc): the one kubepulse misses',
    pick: (all) =>
      ofShape(all, 'leak_under_gc').find((s) => !detected(s)) ??
      medianBy(ofShape(all, 'leak_under_gc'), (s) => leadOf(s, 'kubepulse') ?? 0),
  },
  {
    file: 'batch-job.png',
    title: 'batch job (benign): memory grows for 40 min, kubepulse opens a false incident, then it is freed',
    pick: (all) =>
      ofShape(all, 'batch_jobs').find(
        (s) => s.resource === 'memory' && (alerts.kubepulse![s.id] ?? []).length > 0,
      ),
  },
  {
    file: 'cpu-ramp.png',
    title: 'CPU demand ramping into the limit (cpu_ramp) that static_90 misses',
    pick: (all) =>
      ofShape(all, 'cpu_ramp').find((s) => detected(s) && leadOf(s, 'static_90') === null) ??
      medianBy(ofShape(all, 'cpu_ramp').filter(detected), (s) => leadOf(s, 'kubepulse')!),
  },
  {
    file: 'cache-plateau.png',
    title: 'a cache growing in chunks until one does not fit (cache_chunks_plateau, median kubepulse lead)',
    pick: (all) =>
      medianBy(ofShape(all, 'cache_chunks_plateau').filter(detected), (s) => leadOf(s, 'kubepulse')!),
  },
  {
    file: 'dies-young.png',
    title: 'a pod that dies young (leak_at_start, the fastest): a forecast from its tenth sample',
    pick: (all) =>
      ofShape(all, 'leak_at_start')
        .filter(detected)
        .sort((a, b) => a.failureAt! - a.onsetAt! - (b.failureAt! - b.onsetAt!))[0],
  },
  {
    file: 'first-minutes.png',
    title: 'a new pod’s first minutes (leak_at_start, the slowest): the 5-minute forecast from the short line to the models',
    pick: (all) =>
      ofShape(all, 'leak_at_start')
        .filter((s) => s.values.length > FIRST_MINUTES_MODELS_FROM + 10)
        .sort((a, b) => b.values.length - a.values.length)[0] ??
      ofShape(all, 'warmup_at_start')[0],
    firstMinutes: true,
  },
];

const { values: args } = parseArgs({
  options: {
    from: { type: 'string' },
    out: { type: 'string', default: 'models/docs' },
    only: { type: 'string' },
    svg: { type: 'boolean', default: false },
  },
});
const only = args.only ? new Set(args.only.split(',')) : null;
if (!args.from) {
  console.error(
    'usage: node --import tsx models/plots.ts --from <bench:faults --out dir> [--out models/docs]',
  );
  process.exit(2);
}
const from = resolve(args.from);
const outDir = resolve(args.out!);
mkdirSync(outDir, { recursive: true });

const alerts = JSON.parse(readFileSync(join(from, 'alerts.json'), 'utf8')) as Record<
  string,
  Record<string, number[]>
>;
const suite = readSuite(from);
const redisServer = await PrivateRedisServer.start();
const redis = new Redis(redisServer.url);
const workDir = mkdtempSync(join(tmpdir(), 'kubepulse-plots-'));
try {
  for (const picture of PICTURES) {
    if (only && !only.has(picture.file)) continue;
    const series = picture.pick(suite);
    if (!series) throw new Error(`${picture.file}: no series in ${from} fits`);
    const rows: RowScore[] = [];
    const openings = await replay(redis, series, rows);
    const expected = alerts.kubepulse![series.id] ?? [];
    if (openings.map((o) => o.asOf).join() !== expected.join()) {
      throw new Error(
        `${series.id}: the replay opened incidents at ${openings.map((o) => o.asOf)}, the suite at ${expected}`,
      );
    }
    const svg = picture.firstMinutes
      ? firstMinutesSvg(picture.title, series, openings, rows)
      : svgOf(plotOf(picture.title, series, openings), series.failureAt);
    const file = args.svg ? picture.file.replace(/\.png$/, '.svg') : picture.file;
    if (args.svg) {
      writeFileSync(join(outDir, file), svg);
    } else {
      const html = join(workDir, `${series.id}.html`);
      writeFileSync(html, `<!doctype html><body style="margin:0">${svg}</body>`);
      screenshot(html, join(outDir, file));
    }
    const bytes = statSync(join(outDir, file)).size;
    console.log(`${file}: ${series.id} (${(bytes / 1024).toFixed(0)} KB)`);
  }
} finally {
  redis.disconnect();
  await redisServer.close();
  rmSync(workDir, { recursive: true, force: true });
}

function readSuite(dir: string): SuiteSeries[] {
  const [header, ...rows] = readFileSync(join(dir, 'series.csv'), 'utf8').trim().split('\n');
  const columns = header!.split(',');
  const cell = (row: string[], name: string) => row[columns.indexOf(name)]!;
  const numberOrNull = (text: string) => (text === '' ? null : Number(text));
  return rows.map((line) => {
    const row = line.split(',');
    const id = cell(row, 'id');
    const samples = readFileSync(join(dir, 'series', `${id}.csv`), 'utf8')
      .trim()
      .split('\n')
      .slice(1);
    const times: number[] = [];
    const values: number[] = [];
    const limits: number[] = [];
    for (const sample of samples) {
      const [at, value, limit] = sample.split(',');
      times.push(Number(at));
      values.push(Number(value));
      limits.push(Number(limit));
    }
    return {
      id,
      shape: cell(row, 'shape'),
      faulty: cell(row, 'faulty') === '1',
      resource: cell(row, 'resource') as 'memory' | 'cpu',
      onsetAt: numberOrNull(cell(row, 'onset_at')),
      failureAt: numberOrNull(cell(row, 'failure_at')),
      leadSeconds: {
        kubepulse: numberOrNull(cell(row, 'kubepulse_lead_s')),
        static_90: numberOrNull(cell(row, 'static_90_lead_s')),
        predict_linear: numberOrNull(cell(row, 'predict_linear_lead_s')),
      },
      times,
      values,
      limits,
    };
  });
}

/** The series through the production inference core, fed as the fault suite feeds it; its opened incidents. */
async function replay(redis: Redis, s: SuiteSeries, rows: RowScore[] = []): Promise<UsageAnomaly[]> {
  await redis.flushall();
  const opened: UsageAnomaly[] = [];
  const deps = await createInferenceCore(
    redis,
    {
      async publish(anomalies) {
        for (const a of anomalies) if (a.source === 'usage' && a.status === 'opened') opened.push(a);
      },
    },
    {
      modelDir: 'models/dist',
      windowSlack: PER_MESSAGE,
      windowTtlSeconds: 24 * HOUR,
      inventoryTtlSeconds: 24 * HOUR,
      eventDedupTtlSeconds: HOUR,
      policy: DEFAULT_DETECTION_POLICY,
    },
    { debug() {}, info() {}, warn() {}, error: (m, ...e) => console.error(m, ...e) },
    { collectScores: true },
  );
  const pod = s.id.toLowerCase().replace(/[^a-z0-9-]+/g, '-');
  for (let first = 0; first < s.values.length; ) {
    let end = Math.min(first + PER_MESSAGE, s.values.length);
    for (let i = first + 1; i < end; i++) if (s.limits[i] !== s.limits[i - 1]) end = i;
    const records: ShipperRecord[] = [];
    if (first === 0 || s.limits[first] !== s.limits[first - 1]) {
      records.push({ recordId: `inv${first}`, message: inventoryOf(s, pod, first) });
    }
    records.push({ recordId: `b${first}`, message: batchOf(s, pod, first, end) });
    const outcome = await processShipperRecords(records, deps);
    if (outcome.failures.size > 0) throw [...outcome.failures.values()][0];
    rows.push(...outcome.scores);
    first = end;
  }
  return opened;
}

function inventoryOf(s: SuiteSeries, pod: string, at: number): InventorySnapshot {
  const limit = s.limits[at]!;
  return {
    schemaVersion: 1,
    kind: 'inventory-snapshot',
    clusterId: 'plots',
    snapshotId: `${pod}-${at}`,
    takenAt: new Date(s.times[at]! * 1000).toISOString(),
    complete: false,
    nodes: [],
    pods: [
      {
        namespace: 'faults',
        pod,
        owner: { kind: 'Deployment', name: pod },
        node: 'node-a',
        phase: 'Running',
        labels: {},
        containers: [
          {
            name: 'app',
            requests: {},
            limits: s.resource === 'memory' ? { memoryBytes: limit } : { cpuCores: limit },
            restartCount: 0,
          },
        ],
      },
    ],
  };
}

function batchOf(s: SuiteSeries, pod: string, first: number, end: number): SampleBatch {
  const samples: Array<[number, number]> = [];
  for (let i = first; i < end; i++) samples.push([s.times[i]!, s.values[i]!]);
  return {
    schemaVersion: 1,
    kind: 'sample-batch',
    clusterId: 'plots',
    batchId: `${pod}-${first}`,
    sentAt: new Date(s.times[end - 1]! * 1000).toISOString(),
    stepSeconds: s.times[1]! - s.times[0]!,
    series: [
      {
        metric: s.resource === 'memory' ? 'memory_working_set_bytes' : 'cpu_usage_cores',
        namespace: 'faults',
        pod,
        container: 'app',
        samples,
      },
    ],
  };
}

/** A window that shows the run-up: from an hour before the earliest alert or the onset (at most 12 h back). */
function plotOf(title: string, s: SuiteSeries, openings: UsageAnomaly[]): SeriesPlot {
  const first = (detector: string) =>
    (alerts[detector]![s.id] ?? []).find((t) => s.onsetAt === null || t >= s.onsetAt) ?? null;
  const firsts = ['kubepulse', 'static_90', 'predict_linear'].map(first).filter((t) => t !== null);
  const start = s.times[0]!;
  const end = s.times.at(-1)!;
  let t0: number;
  let t1: number;
  if (s.faulty) {
    t1 = end;
    t0 = Math.max(start, Math.min(s.onsetAt!, ...firsts) - HOUR / 2, t1 - 12 * HOUR);
  } else {
    const anchor = first('kubepulse') ?? first('static_90') ?? start;
    t0 = Math.max(start, anchor - 3 * HOUR);
    t1 = Math.min(end, anchor + 2 * HOUR);
  }
  const scale = s.resource === 'memory' ? MIB : 1;
  const inWindow = (t: number) => t >= t0 && t <= t1;
  const usage: PlotPoint[] = [];
  const limit: PlotPoint[] = [];
  s.times.forEach((t, i) => {
    if (!inWindow(t)) return;
    usage.push({ t, v: s.values[i]! / scale });
    if (limit.length === 0 || limit.at(-1)!.v !== s.limits[i]! / scale)
      limit.push({ t, v: s.limits[i]! / scale });
  });
  const markers: PlotMarker[] = [];
  if (s.onsetAt !== null && inWindow(s.onsetAt))
    markers.push({ t: s.onsetAt, kind: 'fault', label: 'onset' });
  const shown = openings.filter((o) => inWindow(o.asOf));
  for (const o of shown)
    markers.push({ t: o.asOf, kind: 'detected', label: `kubepulse (${o.reasons.join('+')})` });
  const firstOpening = shown[0];
  if (firstOpening?.predictedLimitAt) {
    markers.push({
      t: Date.parse(firstOpening.predictedLimitAt) / 1000,
      kind: 'predicted-failure',
      label: 'predicted limit',
    });
  }
  // A rule's first alert in view; the ones after it (a flapping rule fires again and again) are counted.
  const ruleAlert = (detector: string, kind: PlotMarker['kind']) => {
    const shownAlerts = (alerts[detector]![s.id] ?? []).filter(inWindow);
    if (shownAlerts.length === 0) return;
    const more = shownAlerts.length > 1 ? ` (+${shownAlerts.length - 1} later)` : '';
    markers.push({ t: shownAlerts[0]!, kind, label: `${detector}${more}` });
  };
  ruleAlert('static_90', 'action');
  ruleAlert('predict_linear', 'escalated');
  if (s.failureAt !== null) {
    markers.push({
      t: s.failureAt,
      kind: 'failure',
      label: s.resource === 'memory' ? 'OOMKilled' : 'throttled',
    });
  }
  markers.sort((a, b) => a.t - b.t);
  const forecasts = firstOpening
    ? [
        {
          at: firstOpening.asOf,
          horizonsSeconds: firstOpening.forecast.horizonsSeconds,
          values: firstOpening.forecast.values.map(
            (v) => (v * firstOpening.normalisation.denominator) / scale,
          ),
          lower: firstOpening.forecast.lower.map((v) => (v * firstOpening.normalisation.denominator) / scale),
          upper: firstOpening.forecast.upper.map((v) => (v * firstOpening.normalisation.denominator) / scale),
        },
      ]
    : [];
  return {
    title: `${s.id}: ${title}`,
    unit: s.resource === 'memory' ? 'MiB' : 'cores',
    usage,
    limit,
    forecasts,
    markers,
  };
}

/**
 * A new pod's first minutes: usage, and the forecast every sample made for 5 minutes later (drawn at the time it
 * is for) with its 90 % band: nothing before the short line's first forecast, the line's band (wide, narrowing as
 * samples come in) until the window is full, then the models'. The sample numbers in the markers are measured on
 * this replay, not assumed.
 */
function firstMinutesSvg(title: string, s: SuiteSeries, openings: UsageAnomaly[], rows: RowScore[]): string {
  const scale = s.resource === 'memory' ? MIB : 1;
  const shown = Math.min(s.values.length, FIRST_MINUTES_SHOWN);
  const t0 = s.times[0]!;
  const t1 = s.times[shown - 1]!;
  const usage = s.times.slice(0, shown).map((t, i) => ({ t, v: s.values[i]! / scale }));
  const limit = [{ t: t0, v: s.limits[0]! / scale }];
  const horizonSeconds = (s.times[1]! - s.times[0]!) * 10;
  const points = rows
    .filter((r) => r.at <= t1 && r.forecaster !== 'none')
    .map((r) => {
      const v = r.forecast[FIRST_MINUTES_HORIZON]!;
      const band = BAND_Z * r.spread[FIRST_MINUTES_HORIZON]!;
      return {
        t: r.at + horizonSeconds,
        v: (v * r.scale) / scale,
        lower: ((v - band) * r.scale) / scale,
        upper: ((v + band) * r.scale) / scale,
      };
    });
  const index = (at: number) => (at - t0) / (s.times[1]! - s.times[0]!) + 1;
  const markers: PlotMarker[] = [];
  const firstLine = rows.find((r) => r.forecaster !== 'none');
  const firstModels = rows.find((r) => r.forecaster === 'models');
  if (firstLine)
    markers.push({ t: firstLine.at, kind: 'fault', label: `first forecast: sample ${index(firstLine.at)}` });
  if (firstModels && firstModels.at <= t1)
    markers.push({ t: firstModels.at, kind: 'verified', label: `window full, the models: sample ${index(firstModels.at)}` });
  for (const o of openings.filter((o) => o.asOf <= t1))
    markers.push({ t: o.asOf, kind: 'detected', label: `kubepulse incident: sample ${index(o.asOf)}` });
  // A faulty series ends at the sample before its failure: the failure is in view when the series is.
  const failureShown = s.failureAt !== null && s.failureAt <= t1 + (s.times[1]! - s.times[0]!);
  if (failureShown) markers.push({ t: s.failureAt!, kind: 'failure', label: 'OOMKilled' });
  markers.sort((a, b) => a.t - b.t);
  const plot: SeriesPlot = {
    title: `${s.id}: ${title}`,
    unit: s.resource === 'memory' ? 'MiB' : 'cores',
    usage,
    limit,
    forecasts: [],
    markers,
  };
  return svgOf(plot, failureShown ? s.failureAt : null, { label: '', points }, [
    ['#1c7ed6', '', 'usage'],
    ['#c92a2a', '', 'limit'],
    ['#fd7e14', '5 3', 'forecast made 5 min earlier (90% band)'],
    [COLOURS.fault, '', 'first forecast'],
    [COLOURS.verified, '', 'models take over'],
    [COLOURS.detected, '', 'kubepulse incident'],
    [COLOURS.failure, '', 'failure'],
  ]);
}

/** 1, 2 or 5 times a power of ten, about a fifth of `span`. */
function tickStep(span: number): number {
  const raw = span / 5;
  const power = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * power).find((step) => step >= raw) ?? 10 * power;
}

/**
 * The demo report's plot (html-report.ts renderPlot) rounds its axis up to 1, 2 or 5 times a power of ten, which
 * leaves a series at its limit in the bottom half; here the axis ends just above the data, time runs in hours
 * relative to the failure, and the legend is part of the picture.
 */
interface RollingForecast {
  label: string;
  points: Array<{ t: number; v: number; lower: number; upper: number }>;
}

function svgOf(
  plot: SeriesPlot,
  failureAt: number | null,
  rolling: RollingForecast | null = null,
  legend: Array<[string, string, string]> = LEGEND,
): string {
  const m = { left: 58, right: 18, top: 30, bottom: 70 };
  const innerW = WIDTH - m.left - m.right;
  const innerH = HEIGHT - m.top - m.bottom;
  const times = [
    ...plot.usage.map((p) => p.t),
    ...plot.forecasts.map((f) => f.at + f.horizonsSeconds.at(-1)!),
    ...(rolling?.points.map((p) => p.t) ?? []),
  ];
  const t0 = Math.min(...times);
  const t1 = Math.max(...times);
  const top =
    1.08 *
    Math.max(
      ...plot.usage.map((p) => p.v),
      ...plot.limit.map((p) => p.v),
      ...plot.forecasts.flatMap((f) => f.upper),
      ...(rolling?.points.map((p) => p.upper) ?? []),
    );
  const x = (t: number) => m.left + ((t - t0) / (t1 - t0)) * innerW;
  const y = (v: number) => m.top + innerH - (Math.min(Math.max(v, 0), top) / top) * innerH;
  const line = (points: PlotPoint[]) =>
    points.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join('');
  const parts: string[] = [];
  const yStep = tickStep(top);
  for (let v = 0; v <= top; v += yStep) {
    parts.push(
      `<line x1="${m.left}" x2="${WIDTH - m.right}" y1="${y(v)}" y2="${y(v)}" stroke="#e9ecef"/>`,
      `<text x="${m.left - 6}" y="${y(v) + 4}" text-anchor="end" font-size="11" fill="#495057">${+v.toFixed(3)}</text>`,
    );
  }
  const origin = failureAt ?? t0;
  const hours = (t1 - t0) / HOUR;
  const xStep = tickStep(hours) * HOUR;
  for (let t = origin - Math.floor((origin - t0) / xStep) * xStep; t <= t1; t += xStep) {
    const h = (t - origin) / HOUR;
    parts.push(
      `<line x1="${x(t)}" x2="${x(t)}" y1="${m.top + innerH}" y2="${m.top + innerH + 4}" stroke="#495057"/>`,
      `<text x="${x(t)}" y="${m.top + innerH + 16}" text-anchor="middle" font-size="11" fill="#495057">${+h.toFixed(2)} h</text>`,
    );
  }
  parts.push(
    `<text x="${m.left + innerW / 2}" y="${m.top + innerH + 30}" text-anchor="middle" font-size="11" fill="#495057">${failureAt === null ? 'hours' : 'hours to the failure'}</text>`,
  );
  for (const f of plot.forecasts) {
    const at = (values: number[]) => f.horizonsSeconds.map((h, i) => ({ t: f.at + h, v: values[i]! }));
    const last = plot.usage.filter((p) => p.t <= f.at).at(-1)!;
    parts.push(
      `<path d="${line([last, ...at(f.upper)])}${line([...at(f.lower).reverse(), last]).replace('M', 'L')}Z" fill="#fd7e14" fill-opacity="0.18"/>`,
      `<path d="${line([last, ...at(f.values)])}" fill="none" stroke="#fd7e14" stroke-width="2" stroke-dasharray="5 3"/>`,
    );
  }
  if (rolling && rolling.points.length > 0) {
    const upper = rolling.points.map((p) => ({ t: p.t, v: p.upper }));
    const lower = rolling.points.map((p) => ({ t: p.t, v: p.lower })).reverse();
    parts.push(
      `<path d="${line(upper)}${line(lower).replace('M', 'L')}Z" fill="#fd7e14" fill-opacity="0.18"/>`,
      `<path d="${line(rolling.points)}" fill="none" stroke="#fd7e14" stroke-width="2" stroke-dasharray="5 3"/>`,
    );
  }
  const limitPath = [...plot.limit, { t: t1, v: plot.limit.at(-1)!.v }]
    .map((p, i) => (i === 0 ? `M${x(p.t)},${y(p.v)}` : `H${x(p.t)}V${y(p.v)}`))
    .join('');
  parts.push(
    `<path d="${limitPath}" fill="none" stroke="#c92a2a" stroke-width="1.5"/>`,
    `<path d="${line(plot.usage)}" fill="none" stroke="#1c7ed6" stroke-width="1.4"/>`,
  );
  plot.markers.forEach((marker, i) => {
    const colour = COLOURS[marker.kind];
    const labelY = m.top + 11 + (i % 5) * 12;
    const leftOfLine = x(marker.t) > WIDTH - m.right - 6.5 * marker.label.length;
    parts.push(
      `<line x1="${x(marker.t)}" x2="${x(marker.t)}" y1="${m.top}" y2="${m.top + innerH}" stroke="${colour}" stroke-width="1.5" stroke-dasharray="${marker.kind === 'predicted-failure' ? '2 2' : '0'}"/>`,
      `<text x="${leftOfLine ? x(marker.t) - 3 : x(marker.t) + 3}" y="${labelY}" font-size="10.5" fill="${colour}" text-anchor="${leftOfLine ? 'end' : 'start'}">${marker.label}</text>`,
    );
  });
  let legendX = m.left;
  let legendY = HEIGHT - 22;
  for (const [colour, dash, label] of legend) {
    if (legendX + 20 + 6 * label.length > WIDTH - m.right) {
      legendX = m.left;
      legendY += 14;
    }
    parts.push(
      `<line x1="${legendX}" x2="${legendX + 16}" y1="${legendY - 4}" y2="${legendY - 4}" stroke="${colour}" stroke-width="2" stroke-dasharray="${dash || '0'}"/>`,
      `<text x="${legendX + 20}" y="${legendY}" font-size="10.5" fill="#343a40">${label}</text>`,
    );
    legendX += 32 + 6 * label.length;
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" font-family="DejaVu Sans, sans-serif">
<rect width="${WIDTH}" height="${HEIGHT}" fill="#fff"/>
<text x="${m.left}" y="18" font-size="13" font-weight="600">${plot.title}</text>
<text x="14" y="${m.top + innerH / 2}" font-size="11" transform="rotate(-90 14 ${m.top + innerH / 2})" text-anchor="middle">${plot.unit}</text>
${parts.join('\n')}
</svg>`;
}

function screenshot(html: string, png: string): void {
  const profile = mkdtempSync(join(tmpdir(), 'kubepulse-chromium-'));
  try {
    const result = spawnSync(
      'chromium',
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--hide-scrollbars',
        `--user-data-dir=${profile}`,
        `--screenshot=${png}`,
        `--window-size=${WIDTH},${HEIGHT}`,
        pathToFileURL(html).href,
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );
    if (result.status !== 0) throw new Error(`chromium failed: ${result.stderr}`);
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}
