/**
 * What the supply-chain check asserts, as pure rules over file contents (check.ts reads the files; the tests feed
 * each rule a regressed input). Every rule returns the problems it found, each naming the file and what to do.
 */

export interface Problem {
  rule: string;
  file: string;
  message: string;
}

/**
 * Packages in package-lock.json that declare install scripts, each reviewed: none of these scripts is needed here,
 * so they stay off (.npmrc ignore-scripts=true). A package not listed here that declares one fails the check until
 * someone reviews it and either adds it with the reason or finds another package.
 */
export const REVIEWED_INSTALL_SCRIPTS: Readonly<Record<string, string>> = {
  esbuild:
    'postinstall only swaps its JS launcher for the native binary as a speed-up; the binary comes from the @esbuild/<platform> optional package either way',
  'onnxruntime-node':
    'postinstall downloads a native library from outside the registry; kubepulse runs onnxruntime-web (WASM) and never loads onnxruntime-node',
  protobufjs: 'postinstall only prints a warning about mismatched versions of its CLI package',
  '@parcel/watcher':
    'install builds from source only when no prebuilt @parcel/watcher-<platform> package is installed; the prebuilt one is in the lock',
  'es5-ext': 'postinstall only prints a message; the library works without it',
  // In local/standins/llm/runtime/package-lock.json only (the local model server's runtime, installed in the cache).
  'node-llama-cpp':
    'postinstall loads, or else builds, llama.cpp for this machine; the prebuilt @node-llama-cpp/<platform> package in the lock is loaded at run time instead (getLlama with build: never)',
};

const NPM_REGISTRY = 'https://registry.npmjs.org/';

/** .npmrc turns install scripts off for every npm command run in the repository. */
export function npmrcRule(npmrc: string | undefined): Problem[] {
  const rule = 'npm-install-scripts-off';
  const settings = new Map(
    (npmrc ?? '')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('#') && !line.startsWith(';'))
      .map((line) => {
        const at = line.indexOf('=');
        return [line.slice(0, at).trim(), line.slice(at + 1).trim()] as const;
      }),
  );
  if (settings.get('ignore-scripts') === 'true') return [];
  return [
    { rule, file: '.npmrc', message: 'must set ignore-scripts=true (no dependency runs code at install)' },
  ];
}

interface LockEntry {
  version?: string;
  resolved?: string;
  integrity?: string;
  link?: boolean;
  hasInstallScript?: boolean;
}

/** Every locked package has an integrity hash and no other source than the npm registry; install scripts are all reviewed. */
export function packageLockRule(lockText: string, file = 'package-lock.json'): Problem[] {
  const lock = JSON.parse(lockText) as { lockfileVersion?: number; packages?: Record<string, LockEntry> };
  if (!lock.packages || (lock.lockfileVersion ?? 0) < 2) {
    return [{ rule: 'npm-lock', file, message: 'must be a lockfileVersion 2 or 3 lock with a packages map' }];
  }
  const problems: Problem[] = [];
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (path === '' || entry.link) continue;
    const name = path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
    // A lock without `resolved` fields installs from the configured registry; the integrity hash pins the bytes.
    if (entry.resolved !== undefined && !entry.resolved.startsWith(NPM_REGISTRY)) {
      problems.push({
        rule: 'npm-lock',
        file,
        message: `${name}@${entry.version}: resolved from ${entry.resolved}, not ${NPM_REGISTRY}`,
      });
    }
    if (!entry.integrity?.startsWith('sha512-')) {
      problems.push({ rule: 'npm-lock', file, message: `${name}@${entry.version}: no sha512 integrity` });
    }
    if (entry.hasInstallScript && !(name in REVIEWED_INSTALL_SCRIPTS)) {
      problems.push({
        rule: 'npm-install-scripts-reviewed',
        file,
        message: `${name}@${entry.version} declares an install script nobody has reviewed: review it, then list it in local/supply-chain/rules.ts with why it is not needed (or why it is)`,
      });
    }
  }
  return problems;
}

/**
 * Shell scripts never install node packages outside the lock: no `npm install`/`npm i`/`npm add`/`npm update`,
 * and `npm ci` only with --ignore-scripts. Comments and quoted advice (`'npm install --package-lock-only …'`) are
 * fine; commands are not.
 */
export function shellInstallRule(file: string, script: string): Problem[] {
  const problems: Problem[] = [];
  script.split('\n').forEach((raw, index) => {
    const line = raw.replace(/(^|\s)#.*$/, '').replace(/'[^']*'|"[^"]*"/g, "''");
    const where = `${file}:${index + 1}`;
    if (/\bnpm\s+(install|i|add|update|up)\b/.test(line)) {
      problems.push({
        rule: 'npm-only-from-lock',
        file: where,
        message: 'installs outside the lock; use npm ci --ignore-scripts',
      });
    }
    if (/\bnpm\s+ci\b/.test(line) && !/--ignore-scripts\b/.test(line)) {
      problems.push({ rule: 'npm-only-from-lock', file: where, message: 'npm ci without --ignore-scripts' });
    }
    if (/\bpip3?\s+install\b|-m\s+pip\s+install\b/.test(line) && !/--require-hashes\b/.test(line)) {
      problems.push({ rule: 'pip-hashes', file: where, message: 'pip install without --require-hashes' });
    }
  });
  return problems;
}

/** Every requirement in a pip lock is an exact pin with at least one sha256. */
export function pipLockRule(file: string, text: string): Problem[] {
  const problems: Problem[] = [];
  // Join continuation lines so each requirement is one logical line.
  const logical = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.replace(/(^|\s)#.*$/, '').trim())
    .filter(Boolean);
  if (logical.length === 0) problems.push({ rule: 'pip-hashes', file, message: 'no requirements' });
  for (const line of logical) {
    if (line.startsWith('-')) {
      problems.push({
        rule: 'pip-hashes',
        file,
        message: `option line not allowed in a lock: ${line.slice(0, 60)}`,
      });
      continue;
    }
    const name = line.split(/\s/)[0] ?? line;
    if (!/^[A-Za-z0-9._-]+==[^\s=]+$/.test(name)) {
      problems.push({ rule: 'pip-hashes', file, message: `${name}: not an exact == pin` });
    }
    if (!/--hash=sha256:[0-9a-f]{64}\b/.test(line)) {
      problems.push({ rule: 'pip-hashes', file, message: `${name}: no --hash=sha256:…` });
    }
  }
  return problems;
}

const DIGEST = /@sha256:[0-9a-f]{64}$/;

/** Every FROM in a Dockerfile names its image by digest (stage names and `scratch` aside). */
export function dockerfileRule(file: string, text: string): Problem[] {
  const problems: Problem[] = [];
  const stages = new Set<string>();
  for (const raw of text.split('\n')) {
    const match = /^\s*FROM\s+(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?/i.exec(raw);
    if (!match) continue;
    const image = match[1] ?? '';
    if (match[2]) stages.add(match[2].toLowerCase());
    if (image === 'scratch' || stages.has(image.toLowerCase()) || DIGEST.test(image)) continue;
    problems.push({ rule: 'images-by-digest', file, message: `FROM ${image}: pin it by digest (@sha256:…)` });
  }
  return problems;
}

/**
 * Images in Kubernetes manifests: every image by digest. kubepulse's own images also carry their exact release
 * version as the tag (`ghcr.io/kubepulse/executor:0.1.0@sha256:…`, written by infra/images/build.sh --pin), so a
 * reader sees which release the digest is.
 */
export function manifestImagesRule(
  file: string,
  text: string,
  ownRegistry = 'ghcr.io/kubepulse/',
): { problems: Problem[]; notes: string[] } {
  const problems: Problem[] = [];
  const notes: string[] = [];
  for (const match of text.matchAll(/^\s*-?\s*image:\s*["']?([^\s"']+)/gm)) {
    const image = match[1] ?? '';
    if (image.startsWith(ownRegistry)) {
      if (!/:\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?@/.test(image))
        problems.push({
          rule: 'images-by-digest',
          file,
          message: `${image}: own images carry an exact version and a digest (infra/images/build.sh --pin)`,
        });
      else if (!DIGEST.test(image))
        problems.push({ rule: 'images-by-digest', file, message: `${image}: pin it by digest (@sha256:…)` });
      continue;
    }
    if (DIGEST.test(image)) continue;
    problems.push({ rule: 'images-by-digest', file, message: `${image}: pin it by digest (@sha256:…)` });
  }
  return { problems, notes };
}

/** Where a Go build script and its committed go.sum files live (by default the control plane's). */
export interface GoBuildPaths {
  script: string;
  sumFile(component: string): string;
}

const CONTROL_PLANE_BUILD: GoBuildPaths = {
  script: 'local/standins/control-plane/build.sh',
  sumFile: (component) => `local/standins/control-plane/go/${component}/go.sum`,
};

/**
 * A build from the Go module proxy (the control plane, helm, the images' ocibuild) uses the committed module graph:
 * a go.sum beside every go.mod, -mod=readonly for every go command, and `go mod tidy` only in the explicit relock
 * path.
 */
export function goBuildRule(
  buildScript: string,
  goSums: Readonly<Record<string, string | undefined>>,
  paths: GoBuildPaths = CONTROL_PLANE_BUILD,
): Problem[] {
  const file = paths.script;
  const problems: Problem[] = [];
  for (const [component, sum] of Object.entries(goSums)) {
    if (!sum || !/ h1:[A-Za-z0-9+/=]{44}$/m.test(sum)) {
      problems.push({ rule: 'go-sums', file: paths.sumFile(component), message: 'missing or empty' });
    }
  }
  if (!/GOFLAGS="[^"]*-mod=readonly/.test(buildScript)) {
    problems.push({ rule: 'go-sums', file, message: 'go commands must run with GOFLAGS=-mod=readonly' });
  }
  const tidyLines = buildScript
    .split('\n')
    .filter((line) => /\bgo mod tidy\b/.test(line.replace(/#.*$/, '')));
  for (const line of tidyLines) {
    if (!/-mod=mod" go mod tidy/.test(line)) {
      problems.push({
        rule: 'go-sums',
        file,
        message: `go mod tidy outside the relock path: ${line.trim()}`,
      });
    }
  }
  return problems;
}

/**
 * The Node toolchain (local/toolchain/node.env) is pinned by exact version and by a sha512 integrity per platform
 * build, and node.sh refuses a tarball whose integrity differs before unpacking it.
 */
export function nodeToolchainRule(nodeEnv: string | undefined, installScript: string | undefined): Problem[] {
  const file = 'local/toolchain/node.env';
  const rule = 'node-toolchain-pinned';
  if (nodeEnv === undefined) return [{ rule, file, message: 'missing: set-up has no pinned Node' }];
  const problems: Problem[] = [];
  const values = new Map(
    [...nodeEnv.matchAll(/^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/gm)].map((m) => [m[1]!, m[2]!.trim()] as const),
  );
  if (!/^\d+\.\d+\.\d+$/.test(values.get('NODE_VERSION') ?? '')) {
    problems.push({ rule, file, message: 'NODE_VERSION must be an exact x.y.z' });
  }
  const integrities = [...values].filter(([name]) => name.startsWith('NODE_INTEGRITY_'));
  if (integrities.length === 0) problems.push({ rule, file, message: 'no NODE_INTEGRITY_<platform> pin' });
  for (const [name, value] of integrities) {
    if (!/^sha512-[A-Za-z0-9+/]{86}==$/.test(value)) {
      problems.push({ rule, file, message: `${name}: not a sha512 integrity (sha512-<base64>)` });
    }
  }
  if (!installScript || !/\[ "\$got_integrity" = "\$want_integrity" \]/.test(installScript)) {
    problems.push({
      rule,
      file: 'local/toolchain/node.sh',
      message: 'must compare the tarball integrity with the pinned one before unpacking',
    });
  }
  return problems;
}
