// Tuning aid for the unusual-behaviour detector: runs it directly on the NAB corpus CSVs (no Redis, no models)
// and scores with the NAB scorer, in seconds rather than minutes. Not a reported figure: bench:nab is, through
// `kubepulse score`. Choose constants on the even-numbered files only.
//
//   node --import tsx test/bench/nab/tune.ts [--streaming] [--detail] [--files=substring] ['{"vigilance":0.08}' …]
// Each JSON object is a variant of the default parameters, one line each; a JSON array of them is an ensemble (the
// row-wise maximum of its members' scores).
import {
  DEFAULT_UNUSUAL_PARAMS,
  initialUnusualState,
  observeUnusual,
  type UnusualParams,
} from '../../../functions/inference/core/unusual/detector.js';
import { loadCorpus } from './corpus.js';
import { normalisedScore, optimiseThreshold, prepareSweep, type ScoredSeries, scoreFile } from './scorer.js';

const args = process.argv.slice(2);
const streaming = args.includes('--streaming');
const filter = args.find((a) => a.startsWith('--files='))?.slice('--files='.length);
const variants = args
  .filter((a) => a.startsWith('{') || a.startsWith('['))
  .map((a) => [JSON.parse(a)].flat() as Partial<UnusualParams>[]);
if (variants.length === 0) variants.push([{}]);

const corpus = loadCorpus();
const files = corpus.files.filter((f) => !filter || f.name.includes(filter));
const cost = corpus.profiles.standard!;

function scoreWith(params: UnusualParams, values: Float64Array): Float64Array {
  let low = Number.POSITIVE_INFINITY;
  let high = Number.NEGATIVE_INFINITY;
  for (const v of values) {
    low = Math.min(low, v);
    high = Math.max(high, v);
  }
  let state = initialUnusualState(streaming ? undefined : { low, high });
  const scores = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const observed = observeUnusual(state, values, i, params);
    state = observed.state;
    scores[i] = observed.reading.score;
  }
  return scores;
}

for (const variant of variants) {
  const results: ScoredSeries[] = files.map((file) => {
    const scores = new Float64Array(file.values.length);
    for (const member of variant) {
      const own = scoreWith({ ...DEFAULT_UNUSUAL_PARAMS, ...member }, file.values);
      for (let i = 0; i < scores.length; i++) scores[i] = Math.max(scores[i]!, own[i]!);
    }
    return { name: file.name, scores, windows: file.windows };
  });
  const line: string[] = [];
  for (const [half, parity] of [
    ['even', 0],
    ['odd', 1],
    ['all', -1],
  ] as const) {
    const chosen = results.filter((_, i) => parity < 0 || i % 2 === parity);
    const windows = chosen.reduce((n, f) => n + f.windows.length, 0);
    const best = optimiseThreshold(prepareSweep(chosen), cost);
    line.push(
      `${half} ${normalisedScore(best.score, cost, windows).toFixed(2)}@${best.threshold.toFixed(3)}`,
    );
  }
  console.log(`${line.join('  ')}  ${JSON.stringify(variant)}`);
  if (args.includes('--detail')) {
    const threshold = optimiseThreshold(prepareSweep(results), cost).threshold;
    results.forEach((r, i) => {
      const f = scoreFile(r, cost, threshold);
      console.log(
        `  ${i % 2 ? 'odd ' : 'even'} ${r.name.padEnd(60)} score ${f.score.toFixed(2).padStart(6)} ` +
          `hit ${f.detectedWindows} miss ${f.missedWindows} fp ${f.falsePositives}`,
      );
    });
  }
}
