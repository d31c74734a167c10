import { parseArgs } from 'node:util';
import { EXPORT_TRAINING_USAGE, runExportTrainingCommand } from './export-training.js';
import { KEYS_USAGE, runKeysCommand } from './keys.js';
import { LABEL_USAGE, runLabelCommand } from './label.js';
import { PLANS_USAGE, runPlansCommand } from './plans.js';
import { scoreFiles } from './score.js';

const USAGE = `usage: kubepulse score --input <csv|dir> [--input …] --out <dir> [--limit <n>] [--signal memory|cpu]
                       [--step <seconds>] [--told-range] [--redis-url redis://…] [--models <dir>]

  score   stream timestamp,value[,limit] series row by row through the production scoring core and write per row
          anomaly_score, incident, forecast, seconds_to_limit and reason in NAB's results layout
          (<out>/kubepulse/<category>/kubepulse_<file>.csv); --limit is the limit for rows without a limit column
          value (bytes for memory, cores for cpu), --step the sampling step (default: the median interval);
          --told-range tells the detector each file's minimum and maximum up front (NAB's convention, which looks
          ahead), where by default it learns the range from the rows seen so far, as production does

${PLANS_USAGE}

${KEYS_USAGE}

${LABEL_USAGE}

${EXPORT_TRAINING_USAGE}`;

const APPROVAL_COMMANDS = new Set(['plans', 'approve', 'reject']);

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command !== undefined && APPROVAL_COMMANDS.has(command)) {
    return runPlansCommand(argv, {
      env: process.env,
      out: (line) => console.log(line),
      err: (line) => console.error(line),
    });
  }
  const io = {
    env: process.env,
    out: (line: string) => console.log(line),
    err: (line: string) => console.error(line),
  };
  if (command === 'keys') return runKeysCommand(rest, io);
  if (command === 'label') return runLabelCommand(rest, io);
  if (command === 'export-training') return runExportTrainingCommand(rest, io);
  if (command !== 'score') {
    console.error(USAGE);
    return command === undefined || command === '--help' ? 0 : 2;
  }
  const { values } = parseArgs({
    args: rest,
    options: {
      input: { type: 'string', multiple: true },
      out: { type: 'string' },
      'redis-url': { type: 'string' },
      models: { type: 'string' },
      limit: { type: 'string' },
      signal: { type: 'string' },
      step: { type: 'string' },
      'told-range': { type: 'boolean' },
    },
  });
  const limit = values.limit === undefined ? undefined : Number(values.limit);
  const step = values.step === undefined ? undefined : Number(values.step);
  const signal = values.signal ?? 'memory';
  if (
    !values.input?.length ||
    !values.out ||
    (limit !== undefined && !(Number.isFinite(limit) && limit > 0)) ||
    (step !== undefined && !(Number.isInteger(step) && step > 0)) ||
    (signal !== 'memory' && signal !== 'cpu')
  ) {
    console.error(USAGE);
    return 2;
  }
  const summary = await scoreFiles({
    inputs: values.input,
    outDir: values.out,
    redisUrl: values['redis-url'],
    modelDir: values.models,
    limit,
    signal,
    stepSeconds: step,
    toldRange: values['told-range'] ?? false,
    onProgress: (done, total) => process.stderr.write(`\r\x1b[2Kscored ${done}/${total} rows`),
  });
  process.stderr.write('\n');
  console.log(
    `${summary.rows} rows of ${summary.files} files in ${summary.seconds.toFixed(1)} s; results in ${values.out}/kubepulse`,
  );
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
process.exit();
