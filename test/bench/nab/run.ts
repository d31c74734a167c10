// npm run bench:nab — the whole NAB corpus through the production scoring path (`kubepulse score`), scored with the
// faithful NAB v1.1 scorer. One configuration for the corpus, no look-ahead, labels used only for scoring.
// Last stdout line: {"standard":…,"reward_low_FP_rate":…,"reward_low_FN_rate":…,"rows_per_s":…}
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { scoreFiles } from '../../../cli/score.js';
import { loadCorpus, loadResults } from './corpus.js';
import { normalisedScore, optimiseThreshold, prepareSweep } from './scorer.js';

const corpus = loadCorpus();
const outDir = resolve(process.env.KUBEPULSE_NAB_OUT ?? 'reports/nab');
mkdirSync(outDir, { recursive: true });
const summary = await scoreFiles({
  inputs: [join(corpus.dir, 'data')],
  outDir,
  onProgress: (done, total) =>
    process.stderr.write(
      `\r\x1b[2K[bench:nab] ${done}/${total} rows (${((100 * done) / total).toFixed(0)}%)`,
    ),
});
process.stderr.write(
  `\n[bench:nab] ${summary.rows} rows of ${summary.files} files in ${summary.seconds.toFixed(1)} s\n`,
);

const results = loadResults(outDir, 'kubepulse', corpus);
const table = prepareSweep(results);
const figures: Record<string, number> = {};
for (const profile of ['standard', 'reward_low_FP_rate', 'reward_low_FN_rate']) {
  const cost = corpus.profiles[profile]!;
  const best = optimiseThreshold(table, cost);
  figures[profile] = Number(normalisedScore(best.score, cost, corpus.windowCount).toFixed(2));
  process.stderr.write(`[bench:nab] ${profile}: ${figures[profile]} at threshold ${best.threshold}\n`);
}
// Surprise's two constants were chosen on the even-numbered files (in corpus order) and checked on the odd ones.
for (const [half, parity] of [
  ['even files (chosen on)', 0],
  ['odd files (held out)', 1],
] as const) {
  const files = results.filter((_, i) => i % 2 === parity);
  const windows = files.reduce((n, f) => n + f.windows.length, 0);
  const halfTable = prepareSweep(files);
  const scores = Object.keys(figures).map((profile) => {
    const cost = corpus.profiles[profile]!;
    return `${profile} ${normalisedScore(optimiseThreshold(halfTable, cost).score, cost, windows).toFixed(2)}`;
  });
  process.stderr.write(`[bench:nab] ${half}: ${scores.join(', ')}\n`);
}
process.stderr.write(`[bench:nab] results in ${outDir}/kubepulse\n`);
console.log(JSON.stringify({ ...figures, rows_per_s: Math.round(summary.rows / summary.seconds) }));
process.exit(0);
