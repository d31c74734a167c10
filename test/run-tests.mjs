// Collects the test files and hands them to `node --test`. Without arguments it runs everything but the red-team
// suite, which has its own runner (test/redteam/run.mjs) and must not run twice in local/test.sh (a glob could not
// leave it out); name test/redteam to run it here anyway.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const explicit = process.argv.slice(2).length > 0;
const roots = explicit ? process.argv.slice(2) : ['cli', 'functions', 'local', 'infra', 'test'];
const skipped = explicit ? new Set() : new Set([join('test', 'redteam')]);
const files = [];
const walk = (dir) => {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (skipped.has(path)) continue;
    if (statSync(path).isDirectory()) walk(path);
    else if (name.endsWith('.test.ts')) files.push(path);
  }
};
for (const root of roots) {
  if (statSync(root, { throwIfNoEntry: false })?.isDirectory()) walk(root);
  else if (root.endsWith('.test.ts')) files.push(root);
}
if (files.length === 0) {
  console.error(`no test files under ${roots.join(', ')}`);
  process.exit(1);
}
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-reporter=spec', ...files],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
