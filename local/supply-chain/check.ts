/**
 * The supply-chain check local/test.sh runs (so .ci/run does): install scripts off and reviewed, node packages
 * only from the lock, pip locks with hashes, images by digest, the control-plane and helm builds on committed go.sum
 * files, the Node toolchain by version and integrity.
 * Prints one line per problem (and per note), then a JSON line; exits 1 if anything regressed.
 *   node --import tsx local/supply-chain/check.ts
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import {
  dockerfileRule,
  goBuildRule,
  manifestImagesRule,
  nodeToolchainRule,
  npmrcRule,
  type Problem,
  packageLockRule,
  pipLockRule,
  shellInstallRule,
} from './rules.js';

const root = join(import.meta.dirname, '..', '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');
const readIfThere = (path: string) => (existsSync(join(root, path)) ? read(path) : undefined);

const SKIP = new Set(['node_modules', '.git', 'dist', 'coverage']);
function filesUnder(dir: string, keep: (name: string) => boolean): string[] {
  const out: string[] = [];
  const walk = (abs: string) => {
    for (const name of readdirSync(abs)) {
      if (SKIP.has(name)) continue;
      const path = join(abs, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (keep(name)) out.push(relative(root, path));
    }
  };
  if (existsSync(join(root, dir))) walk(join(root, dir));
  return out;
}

const problems: Problem[] = [];
const notes: string[] = [];
let checked = 0;
const check = (found: Problem[]) => {
  checked += 1;
  problems.push(...found);
};

check(npmrcRule(readIfThere('.npmrc')));
check(packageLockRule(read('package-lock.json')));
// The local model server's runtime: installed by local/standins/llm/setup.sh into the cache, from this lock.
const modelRuntimeLock = 'local/standins/llm/runtime/package-lock.json';
check(packageLockRule(read(modelRuntimeLock), modelRuntimeLock));

const scripts = [
  '.ci/run',
  ...['local', 'infra', 'models', 'test', 'cli'].flatMap((dir) =>
    filesUnder(dir, (name) => name.endsWith('.sh')),
  ),
];
for (const script of scripts) check(shellInstallRule(script, read(script)));
const packageScripts = Object.values(
  (JSON.parse(read('package.json')) as { scripts?: Record<string, string> }).scripts ?? {},
);
check(shellInstallRule('package.json scripts', packageScripts.join('\n')));

for (const lock of ['models', 'test', 'local'].flatMap((dir) =>
  filesUnder(dir, (name) => name === 'requirements.txt'),
)) {
  check(pipLockRule(lock, read(lock)));
}

for (const dockerfile of filesUnder(
  'infra',
  (name) => name === 'Dockerfile' || name.endsWith('.Dockerfile'),
)) {
  const text = read(dockerfile);
  check(dockerfileRule(dockerfile, text));
  const runLines = text.split('\n').filter((line) => /^\s*RUN\b/.test(line));
  check(shellInstallRule(dockerfile, runLines.join('\n')));
}
for (const manifest of filesUnder('infra/kubernetes', (name) => /\.ya?ml$/.test(name))) {
  const result = manifestImagesRule(manifest, read(manifest));
  check(result.problems);
  notes.push(...result.notes);
}

const goDir = 'local/standins/control-plane/go';
const goSums = Object.fromEntries(
  readdirSync(join(root, goDir)).map((component) => [component, readIfThere(`${goDir}/${component}/go.sum`)]),
);
check(goBuildRule(read('local/standins/control-plane/build.sh'), goSums));
check(
  goBuildRule(
    read('local/tools/helm/build.sh'),
    { helm: readIfThere('local/tools/helm/go.sum') },
    { script: 'local/tools/helm/build.sh', sumFile: () => 'local/tools/helm/go.sum' },
  ),
);
check(nodeToolchainRule(readIfThere('local/toolchain/node.env'), readIfThere('local/toolchain/node.sh')));
check(
  goBuildRule(
    read('local/toolchain/ocibuild.sh'),
    { ocibuild: readIfThere('infra/images/ocibuild/go.sum') },
    { script: 'local/toolchain/ocibuild.sh', sumFile: () => 'infra/images/ocibuild/go.sum' },
  ),
);

for (const note of notes) console.log(`supply chain: note: ${note}`);
for (const problem of problems)
  console.log(`supply chain: FAIL [${problem.rule}] ${problem.file}: ${problem.message}`);
console.log(
  `supply chain: ${problems.length === 0 ? 'ok' : `${problems.length} problem(s)`} (${checked} checks over ${scripts.length} scripts)`,
);
console.log(JSON.stringify({ supply_chain_checks: checked, problems: problems.length, notes: notes.length }));
process.exitCode = problems.length === 0 ? 0 : 1;
