// npm run bench:nab — the whole NAB corpus through the production scoring path (`kubepulse score`), scored with the
// faithful NAB v1.1 scorer, twice: under NAB's convention (each file's minimum and maximum told up front, as the
// scoreboard's detectors were told; this looks ahead) and fully streaming (nothing told: the range is what has been
// seen so far, as in production). Labels are used only for scoring.
// The unusual-behaviour detector's constants were chosen on the even-numbered files (in corpus order); the
// odd-numbered ones are held out and reported apart.
// Last stdout line: {"standard":…,"reward_low_FP_rate":…,"reward_low_FN_rate":…,"standard_streaming":…,
//   "standard_even":…,"standard_odd":…,"standard_streaming_odd":…,"rows_per_s":…}
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { scoreFiles } from '../../../cli/score.js';
import { loadCorpus, loadResults, type NabCorpus } from './corpus.js';
import { normalisedScore, optimiseThreshold, prepareSweep, type ScoredSeries } from './scorer.js';

const PROFILES = ['standard', 'reward_low_FP_rate', 'reward_low_FN_rate'] as const;

const corpus = loadCorpus();
const outDir = resolve(process.env.KUBEPULSE_NAB_OUT ?? 'reports/nab');
mkdirSync(outDir, { recursive: true });

/** Streams the corpus through `kubepulse score` as `detector`, and reads its anomaly_score column back. */
async function scoreCorpusAs(detector: string, toldRange: boolean) {
  const summary = await scoreFiles({
    inputs: [join(corpus.dir, 'data')],
    outDir,
    detector,
    toldRange,
    onProgress: (done, total) =>
      process.stderr.write(
        `\r\x1b[2K[bench:nab] ${detector}: ${done}/${total} rows (${((100 * done) / total).toFixed(0)}%)`,
      ),
  });
  process.stderr.write(
    `\n[bench:nab] ${detector}: ${summary.rows} rows of ${summary.files} files in ${summary.seconds.toFixed(1)} s, ` +
      `${summary.anomaliesOpened} incidents opened; results in ${outDir}/${detector}\n`,
  );
  return { summary, results: loadResults(outDir, detector, corpus) };
}

/** NAB's normalised score of some files for one profile, at the threshold best for those files. */
function scoreOf(files: readonly ScoredSeries[], profile: string, source: NabCorpus): number {
  const cost = source.profiles[profile]!;
  const windows = files.reduce((n, f) => n + f.windows.length, 0);
  const best = optimiseThreshold(prepareSweep(files), cost);
  return Number(normalisedScore(best.score, cost, windows).toFixed(2));
}

const halfOf = (results: readonly ScoredSeries[], parity: 0 | 1) =>
  results.filter((_, i) => i % 2 === parity);

const told = await scoreCorpusAs('kubepulse', true);
const streaming = await scoreCorpusAs('kubepulse_streaming', false);

const figures: Record<string, number> = {};
for (const profile of PROFILES) figures[profile] = scoreOf(told.results, profile, corpus);
figures.standard_streaming = scoreOf(streaming.results, 'standard', corpus);
figures.standard_even = scoreOf(halfOf(told.results, 0), 'standard', corpus);
figures.standard_odd = scoreOf(halfOf(told.results, 1), 'standard', corpus);
figures.standard_streaming_odd = scoreOf(halfOf(streaming.results, 1), 'standard', corpus);

for (const [name, results] of [
  ['told min/max', told.results],
  ['streaming', streaming.results],
] as const) {
  for (const [half, parity] of [
    ['even files (chosen on)', 0],
    ['odd files (held out)', 1],
  ] as const) {
    const scores = PROFILES.map((p) => `${p} ${scoreOf(halfOf(results, parity), p, corpus).toFixed(2)}`);
    process.stderr.write(`[bench:nab] ${name}, ${half}: ${scores.join(', ')}\n`);
  }
}
const rows = told.summary.rows + streaming.summary.rows;
const seconds = told.summary.seconds + streaming.summary.seconds;
console.log(JSON.stringify({ ...figures, rows_per_s: Math.round(rows / seconds) }));
process.exit(0);
