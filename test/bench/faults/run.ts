// npm run bench:faults — the Kubernetes fault suite (generator.ts) through kubepulse's production inference core
// and three baselines on the same series: a static 90 % threshold, Prometheus' predict_linear rule and river's
// Half-Space Trees. Progress on stderr, a table per detector and per shape on stdout, and as the last stdout
// line one JSON object with the figures. Per-series results go to --out (default: a fresh dir under tmpdir).
//   node --import tsx test/bench/faults/run.ts [--out DIR] [--quick] [--seed N] [--no-hst] [--shapes a,b,…]
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { firingStarts } from './detectors/alert-rule.js';
import { hstPython, hstScores } from './detectors/hst.js';
import { type KubepulseSeriesResult, runKubepulse } from './detectors/kubepulse.js';
import {
  predictLinear,
  predictLinearHolds,
  RULE_FOR_SECONDS,
  staticThresholdHolds,
  type UsageSeries,
} from './detectors/prometheus.js';
import {
  ADDED_SHAPES,
  BENIGN_SHAPES,
  DEFAULT_SUITE,
  FAULT_SHAPES,
  generateSuite,
  type PodSeries,
  podDays,
  type SuiteOptions,
} from './generator.js';
import { type DetectorFigures, judgeSeries, type SeriesVerdict, summarise } from './metrics.js';
import { alertsAtThreshold, calibrateThreshold, matchRecall, timesOf } from './threshold.js';

/** HST's threshold is the best-recall one keeping within this many false incidents per 100 benign pod-days. */
const HST_FALSE_INCIDENT_BUDGET = 10;
const CALIBRATION_SEED_OFFSET = 1000;
/**
 * The seeds kubepulse's detection rules were chosen on (issue 3's and issue 15's tuning). Every other seed, the
 * default 7331 included, is held out: the output says which kind of seed it reports.
 */
export const TUNING_SEEDS: readonly number[] = [4242, 5151, 6262];

const { values: args } = parseArgs({
  options: {
    out: { type: 'string' },
    quick: { type: 'boolean', default: false },
    seed: { type: 'string' },
    // For iterating: HST is a baseline, slow to run, and skipping it changes no other detector's figures.
    'no-hst': { type: 'boolean', default: false },
    shapes: { type: 'string' },
  },
});
const seed = args.seed === undefined ? DEFAULT_SUITE.seed : Number(args.seed);
if (!Number.isInteger(seed)) throw new Error(`--seed must be an integer, got ${args.seed}`);
const suiteOptions: SuiteOptions = args.quick
  ? { ...DEFAULT_SUITE, seed, faultyPerShape: 2, benignPerShape: 1, benignDays: [1, 1.5] }
  : { ...DEFAULT_SUITE, seed };
const calibrationOptions: SuiteOptions = {
  ...suiteOptions,
  seed: suiteOptions.seed + CALIBRATION_SEED_OFFSET,
  faultyPerShape: Math.max(2, Math.round(suiteOptions.faultyPerShape / 2)),
  benignPerShape: Math.max(1, Math.round(suiteOptions.benignPerShape / 2)),
};
const outDir = resolve(args.out ?? mkdtempSync(join(tmpdir(), 'kubepulse-faults-')));
mkdirSync(join(outDir, 'series'), { recursive: true });

const progress = (text: string) => process.stderr.write(`\r\x1b[2K[bench:faults] ${text}`);
const step = (text: string) => process.stderr.write(`\r\x1b[2K[bench:faults] ${text}\n`);
const started = performance.now();
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(0)} s`;

const onlyShapes = args.shapes ? new Set(args.shapes.split(',')) : null;
const keep = (s: PodSeries) => onlyShapes === null || onlyShapes.has(s.shape);
const runHst = !args['no-hst'];
const seedRole = TUNING_SEEDS.includes(seed) ? 'a tuning seed' : 'held out (never tuned on)';
const suite = generateSuite(suiteOptions).filter(keep);
const calibration = runHst ? generateSuite(calibrationOptions).filter(keep) : [];
const samples = suite.reduce((n, s) => n + s.values.length, 0);
const benignDays = suite.filter((s) => !s.faulty).reduce((d, s) => d + podDays(s), 0);
step(
  `suite seed ${suiteOptions.seed} (${seedRole}): ${suite.length} series, ${samples} samples, ` +
    `${suite.filter((s) => s.faulty).length} faulty, ${benignDays.toFixed(1)} benign pod-days; ` +
    `HST calibration suite seed ${calibrationOptions.seed}: ${calibration.length} series`,
);

const usage = (s: PodSeries): UsageSeries => ({ times: timesOf(s), values: s.values, limits: s.limits });
const normalised = (s: PodSeries) => Float64Array.from(s.values, (v, i) => v / s.limits[i]!);
const alerts: Record<string, Map<string, number[]>> = {
  kubepulse: new Map(),
  static_90: new Map(),
  predict_linear: new Map(),
  ...(runHst ? { hst: new Map() } : {}),
};
for (const s of suite) {
  const u = usage(s);
  alerts.static_90!.set(s.id, firingStarts(staticThresholdHolds(u), u.times, RULE_FOR_SECONDS));
  alerts.predict_linear!.set(s.id, firingStarts(predictLinearHolds(u), u.times, RULE_FOR_SECONDS));
}
step(`static_90 and predict_linear done (${elapsed()})`);

const hst = new Map<string, Float64Array>();
let hstCalibration: ReturnType<typeof calibrateThreshold> | null = null;
if (runHst) {
  const python = await hstPython();
  const allSeries = [...calibration.map((s) => ({ ...s, id: `calibration/${s.id}` })), ...suite];
  const scored = await hstScores(
    python,
    allSeries.map((s) => ({ id: s.id, normalised: normalised(s) })),
    (done) => done % 10 === 0 && progress(`HST: ${done}/${allSeries.length} series (${elapsed()})`),
  );
  for (const [id, scores] of scored) hst.set(id, scores);
  const calibrationScores = new Map(calibration.map((s) => [s.id, hst.get(`calibration/${s.id}`)!]));
  hstCalibration = calibrateThreshold(
    calibration,
    calibrationScores,
    HST_FALSE_INCIDENT_BUDGET,
    RULE_FOR_SECONDS,
  );
  for (const s of suite)
    alerts.hst!.set(s.id, alertsAtThreshold(s, hst.get(s.id)!, hstCalibration!.threshold, RULE_FOR_SECONDS));
  step(
    `HST done: threshold ${hstCalibration.threshold} (calibration recall ${hstCalibration.figures.recall}, ` +
      `${hstCalibration.figures.false_incidents_per_100_pod_days} false / 100 pod-days) (${elapsed()})`,
  );
}

const kubepulse = await runKubepulse(suite, {
  onProgress: (done, total) =>
    progress(`kubepulse: ${done}/${total} samples (${((100 * done) / total).toFixed(0)}%, ${elapsed()})`),
});
for (const s of suite)
  alerts.kubepulse!.set(
    s.id,
    kubepulse.get(s.id)!.openings.map((o) => o.at),
  );
step(`kubepulse done (${elapsed()})`);

// ------------------------------------------------------------------------------------------ figures

const detectors = Object.keys(alerts);
const verdicts: Record<string, SeriesVerdict[]> = {};
const figures: Record<string, DetectorFigures> = {};
for (const d of detectors) {
  verdicts[d] = suite.map((s) => judgeSeries(s, alerts[d]!.get(s.id)!));
  figures[d] = summarise(suite, verdicts[d]!);
}

// The calibrated HST alerts rarely; what would it cost HST to find as many failures as kubepulse does? Its threshold
// is chosen here on the evaluation suite itself, which favours HST.
const hstMatched = runHst ? matchRecall(suite, hst, figures.kubepulse!.recall, RULE_FOR_SECONDS) : null;

const hours = (s: number | null) => (s === null ? '—' : `${(s / 3600).toFixed(2)} h`);
const pad = (text: string, width: number) => text.padStart(width);
const lines: string[] = [];
lines.push(
  '',
  `${'detector'.padEnd(16)}${pad('recall', 14)}${pad('by chance', 11)}${pad('lead median', 13)}${pad('lead p10', 10)}` +
    `${pad('false/100pd', 13)}${pad('pre-onset', 11)}`,
);
for (const d of detectors) {
  const f = figures[d]!;
  lines.push(
    `${d.padEnd(16)}${pad(`${f.recall.toFixed(3)} (${f.predicted}/${f.faulty_series})`, 14)}` +
      `${pad(f.chance_recall.toFixed(3), 11)}${pad(hours(f.lead_time_median_s), 13)}` +
      `${pad(hours(f.lead_time_p10_s), 10)}${pad(f.false_incidents_per_100_pod_days.toFixed(2), 13)}${pad(String(f.pre_onset_false_incidents), 11)}`,
  );
}
if (hstMatched) {
  const f = hstMatched.figures;
  lines.push(
    `${'hst (matched)'.padEnd(16)}${pad(`${f.recall.toFixed(3)} (${f.predicted}/${f.faulty_series})`, 14)}` +
      `${pad(f.chance_recall.toFixed(3), 11)}${pad(hours(f.lead_time_median_s), 13)}` +
      `${pad(hours(f.lead_time_p10_s), 10)}${pad(f.false_incidents_per_100_pod_days.toFixed(2), 13)}${pad(String(f.pre_onset_false_incidents), 11)}` +
      `   HST at threshold ${hstMatched.threshold}, the highest reaching kubepulse's recall (or HST's best), chosen on this suite`,
  );
}
const shapeFigures = (shape: string, d: string) =>
  summarise(
    suite.filter((s) => s.shape === shape),
    verdicts[d]!.filter((v) => v.shape === shape),
  );
const shapesPresent = (shapes: readonly string[]) =>
  shapes.filter((shape) => suite.some((s) => s.shape === shape));
const perShape = (shape: string, d: string) => {
  const f = shapeFigures(shape, d);
  return f.faulty_series > 0
    ? `${f.predicted}/${f.faulty_series} ${hours(f.lead_time_median_s)} ${f.pre_onset_false_incidents}`
    : `${f.false_incidents_per_100_pod_days.toFixed(1)}`;
};
/** Per shape and detector: recall, median lead and false incidents (faulty shapes: before the onset). */
const perShapeJson = Object.fromEntries(
  shapesPresent([...FAULT_SHAPES, ...BENIGN_SHAPES]).map((shape) => [
    shape,
    Object.fromEntries(
      detectors.map((d) => {
        const f = shapeFigures(shape, d);
        return [
          d,
          f.faulty_series > 0
            ? {
                recall: f.recall,
                lead_time_median_s: f.lead_time_median_s,
                pre_onset_false_incidents: f.pre_onset_false_incidents,
              }
            : { false_incidents_per_100_pod_days: f.false_incidents_per_100_pod_days },
        ];
      }),
    ),
  ]),
);
const bySuitePart = (d: string, added: boolean) => {
  const part = suite.filter((s) => ADDED_SHAPES.has(s.shape) === added);
  return summarise(
    part,
    verdicts[d]!.filter((v) => ADDED_SHAPES.has(v.shape) === added),
  );
};
lines.push(
  '',
  'recall · false incidents per 100 benign pod-days, on the original shapes | on the shapes added in issue 15',
);
for (const d of detectors) {
  const [o, a] = [bySuitePart(d, false), bySuitePart(d, true)];
  lines.push(
    `${d.padEnd(16)}${pad(`${o.recall.toFixed(3)} · ${o.false_incidents_per_100_pod_days.toFixed(1)}`, 18)}  |` +
      `${pad(`${a.recall.toFixed(3)} · ${a.false_incidents_per_100_pod_days.toFixed(1)}`, 18)}`,
  );
}
lines.push('', 'faulty shapes: predicted/total, median lead, false incidents before onset');
lines.push(`${'shape'.padEnd(20)}${detectors.map((d) => pad(d, 24)).join('')}`);
for (const shape of shapesPresent(FAULT_SHAPES))
  lines.push(`${shape.padEnd(20)}${detectors.map((d) => pad(perShape(shape, d), 24)).join('')}`);
lines.push('', 'benign shapes: false incidents per 100 pod-days');
lines.push(`${'shape'.padEnd(20)}${detectors.map((d) => pad(d, 24)).join('')}`);
for (const shape of shapesPresent(BENIGN_SHAPES))
  lines.push(`${shape.padEnd(20)}${detectors.map((d) => pad(perShape(shape, d), 24)).join('')}`);
const reasons = new Map<string, number>();
for (const s of suite) {
  for (const o of kubepulse.get(s.id)!.openings) {
    const key = `${s.faulty ? 'faulty' : 'benign'}:${o.reasons.join('+')}`;
    reasons.set(key, (reasons.get(key) ?? 0) + 1);
  }
}
lines.push('', `kubepulse incident reasons: ${[...reasons].map(([k, n]) => `${k} ${n}`).join(', ')}`);
// Unusual-behaviour episodes are their own incident class (routed to humans, never remediated): apart from the
// exhaustion figures above, per 100 benign pod-days.
const unusualOnBenign = suite
  .filter((s) => !s.faulty)
  .reduce((n, s) => n + kubepulse.get(s.id)!.unusualOpenings.length, 0);
const unusualFalsePer100PodDays = benignDays > 0 ? (100 * unusualOnBenign) / benignDays : 0;
lines.push(
  `kubepulse unusual-behaviour incidents on benign series: ${unusualOnBenign} ` +
    `(${unusualFalsePer100PodDays.toFixed(1)} per 100 pod-days)`,
);
console.log(lines.join('\n'));

writeOutputs(outDir, suite, verdicts, kubepulse, hst, alerts);
step(`per-series results in ${outDir} (${elapsed()})`);

const headline = (f: DetectorFigures) => ({
  recall: f.recall,
  lead_time_median_s: f.lead_time_median_s,
  lead_time_p10_s: f.lead_time_p10_s,
  false_incidents_per_100_pod_days: f.false_incidents_per_100_pod_days,
  pre_onset_false_incidents: f.pre_onset_false_incidents,
  chance_recall: f.chance_recall,
});
writeFileSync(
  join(outDir, 'summary.json'),
  `${JSON.stringify({ seedRole, figures, perShape: perShapeJson, hstCalibration, hstMatched, suite: suiteOptions, calibrationSuite: calibrationOptions }, null, 2)}\n`,
);
console.log(
  JSON.stringify({
    kubepulse: headline(figures.kubepulse!),
    static_90: headline(figures.static_90!),
    predict_linear: headline(figures.predict_linear!),
    ...(hstCalibration && hstMatched
      ? {
          hst: { ...headline(figures.hst!), threshold: hstCalibration.threshold },
          hst_matched_recall: { ...headline(hstMatched.figures), threshold: hstMatched.threshold },
        }
      : {}),
    unusual_false_per_100_pod_days: Number(unusualFalsePer100PodDays.toFixed(1)),
    pod_days_benign: Number(benignDays.toFixed(2)),
    faulty_series: figures.kubepulse!.faulty_series,
    seed: suiteOptions.seed,
    seed_role: seedRole,
  }),
);
process.exit(0);

function writeOutputs(
  dir: string,
  series: readonly PodSeries[],
  byDetector: Record<string, SeriesVerdict[]>,
  kp: Map<string, KubepulseSeriesResult>,
  hstById: Map<string, Float64Array>,
  alertTimes: Record<string, Map<string, number[]>>,
): void {
  const names = Object.keys(byDetector);
  const header = ['id', 'shape', 'faulty', 'resource', 'pod_days', 'onset_at', 'failure_at'];
  for (const d of names) header.push(`${d}_alerts`, `${d}_lead_s`, `${d}_false`);
  const rows = [header.join(',')];
  series.forEach((s, k) => {
    const row: Array<string | number> = [
      s.id,
      s.shape,
      s.faulty ? 1 : 0,
      s.resource,
      podDays(s).toFixed(4),
      s.onsetIndex === null ? '' : s.startAt + s.onsetIndex * s.stepSeconds,
      s.failureIndex === null ? '' : s.startAt + s.failureIndex * s.stepSeconds,
    ];
    for (const d of names) {
      const v = byDetector[d]![k]!;
      row.push(v.alerts, v.leadTimeSeconds ?? '', v.falseIncidents);
    }
    rows.push(row.join(','));
    const result = kp.get(s.id)!;
    const predicted = predictLinear({ times: timesOf(s), values: s.values });
    const scores = hstById.get(s.id);
    const samplesCsv = [
      'at,value,limit,kubepulse_probability,kubepulse_seconds_to_limit,predict_linear,hst_score',
    ];
    for (let i = 0; i < s.values.length; i++) {
      const p = result.probability[i]!;
      const ttl = result.secondsToLimit[i]!;
      samplesCsv.push(
        `${s.startAt + i * s.stepSeconds},${s.values[i]},${s.limits[i]},${Number.isNaN(p) ? '' : p.toFixed(4)},` +
          `${Number.isNaN(ttl) ? '' : Math.round(ttl)},${Number.isNaN(predicted[i]!) ? '' : predicted[i]!.toPrecision(6)},${scores?.[i] ?? ''}`,
      );
    }
    writeFileSync(join(dir, 'series', `${s.id}.csv`), `${samplesCsv.join('\n')}\n`);
  });
  writeFileSync(join(dir, 'series.csv'), `${rows.join('\n')}\n`);
  const alertJson = Object.fromEntries(
    names.map((d) => [d, Object.fromEntries(series.map((s) => [s.id, alertTimes[d]!.get(s.id)!]))]),
  );
  writeFileSync(join(dir, 'alerts.json'), `${JSON.stringify(alertJson)}\n`);
  // kubepulse's incident openings with their reasons (which rule opened each), per series.
  const openingsJson = Object.fromEntries(series.map((s) => [s.id, kp.get(s.id)!.openings]));
  writeFileSync(join(dir, 'openings.json'), `${JSON.stringify(openingsJson)}\n`);
}
