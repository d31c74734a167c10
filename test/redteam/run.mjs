// The red-team suite: every test in test/redteam/ is one attack case, and a failing one is an attack that got
// through. Run as `node --import tsx test/redteam/run.mjs [files or folders]` (`npm run test:redteam`); the
// child processes node:test starts inherit the tsx loader. Counts come from node:test's own event stream, not
// from its human output. The last line is JSON for machines: {"cases":N,"got_through":F,...}, with the
// redaction corpus's figures (cases named `secret format …` and `innocent line …` in redaction.test.ts), which
// are also printed alone on the line before: {"secret_formats":N,"leaked":0,"innocent_lines":M,"mangled":0}.
import { readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { run } from 'node:test';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..');
const files = [];
const walk = (dir) => {
  for (const name of readdirSync(dir).sort()) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (name.endsWith('.test.ts')) files.push(path);
  }
};
const roots = process.argv.slice(2).length > 0 ? process.argv.slice(2) : [here];
for (const root of roots) {
  if (statSync(root, { throwIfNoEntry: false })?.isDirectory()) walk(root);
  else if (root.endsWith('.test.ts')) files.push(root);
}
if (files.length === 0) {
  console.error(`no red-team files under ${roots.join(', ')}`);
  process.exit(1);
}

/** Per file: cases run, cases that got through (failed), cases still marked todo, cases skipped. */
const byFile = {};
const tallyOf = (file) => {
  const key = relative(repo, file ?? 'unknown');
  byFile[key] ??= { cases: 0, got_through: 0, todo: 0, skipped: 0 };
  return byFile[key];
};
for (const file of files) tallyOf(file);
const firstLineOf = (error) => String(error?.cause?.message ?? error?.message ?? error ?? '').split('\n')[0];
/** The redaction corpus: a failing secret format leaked, a failing innocent line was mangled. */
const redaction = { secret_formats: 0, leaked: 0, innocent_lines: 0, mangled: 0 };
/** Cases marked todo that now pass: the integrator can drop their todo. */
const todoPassing = [];

// One file at a time: the attack files share the local API server and start their own Redis and SQS.
for await (const event of run({ files, concurrency: 1 })) {
  if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
  const { data } = event;
  // Suites only group cases; a file that fails to load arrives as one failed test named after the file.
  if (data.details?.type === 'suite') continue;
  const tally = tallyOf(data.file);
  const where = `${relative(repo, data.file ?? '')}: ${data.name}`;
  tally.cases += 1;
  if (data.name.startsWith('secret format ')) {
    redaction.secret_formats += 1;
    if (event.type === 'test:fail') redaction.leaked += 1;
  } else if (data.name.startsWith('innocent line ')) {
    redaction.innocent_lines += 1;
    if (event.type === 'test:fail') redaction.mangled += 1;
  }
  if (data.skip !== undefined) {
    tally.skipped += 1;
    console.log(`  skipped  ${where}`);
  } else if (data.todo !== undefined) {
    tally.todo += 1;
    if (event.type === 'test:pass') todoPassing.push(where);
    const state =
      event.type === 'test:pass' ? 'passes now' : `still open: ${firstLineOf(data.details?.error)}`;
    console.log(`  todo     ${where}\n           (${data.todo}) ${state}`);
  } else if (event.type === 'test:fail') {
    tally.got_through += 1;
    console.log(`  THROUGH  ${where}\n           ${firstLineOf(data.details?.error)}`);
  }
}

const total = (field) => Object.values(byFile).reduce((sum, tally) => sum + tally[field], 0);
console.log('\nred-team cases per file:');
for (const [file, tally] of Object.entries(byFile)) {
  console.log(
    `  ${file}: ${tally.cases} cases, ${tally.got_through} got through, ${tally.todo} todo, ${tally.skipped} skipped`,
  );
}
if (todoPassing.length > 0) console.log(`todo cases that pass now:\n  ${todoPassing.join('\n  ')}`);
const summary = {
  cases: total('cases'),
  got_through: total('got_through'),
  todo: total('todo'),
  skipped: total('skipped'),
  ...redaction,
  by_file: byFile,
};
const refused = summary.cases - summary.got_through - summary.todo - summary.skipped;
console.log(JSON.stringify(redaction));
console.log(`red-team: ${refused} passed, ${summary.got_through} failed, ${summary.skipped} skipped`);
console.log(JSON.stringify(summary));
process.exitCode = summary.got_through > 0 ? 1 : 0;
