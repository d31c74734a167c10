import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  dockerfileRule,
  goBuildRule,
  manifestImagesRule,
  nodeToolchainRule,
  npmrcRule,
  packageLockRule,
  pipLockRule,
  shellInstallRule,
} from './rules.js';

const root = join(import.meta.dirname, '..', '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');
const SHA = 'a'.repeat(64);
const H1 = `h1:${'A'.repeat(43)}=`;
const NODE_SH = read('local/toolchain/node.sh');

describe('supply-chain rules: the repository as committed passes', () => {
  it('npmrc, lock, pip locks, Dockerfile, the control-plane and the helm builds', () => {
    assert.deepEqual(npmrcRule(read('.npmrc')), []);
    assert.deepEqual(packageLockRule(read('package-lock.json')), []);
    assert.deepEqual(pipLockRule('models', read('models/requirements.txt')), []);
    assert.deepEqual(pipLockRule('cfn-lint', read('infra/cfn-lint/requirements.txt')), []);
    assert.deepEqual(dockerfileRule('Dockerfile', read('infra/images/Dockerfile')), []);
    const sums = {
      etcd: read('local/standins/control-plane/go/etcd/go.sum'),
      kubernetes: read('local/standins/control-plane/go/kubernetes/go.sum'),
    };
    assert.deepEqual(goBuildRule(read('local/standins/control-plane/build.sh'), sums), []);
    const helmBuild = { script: 'local/tools/helm/build.sh', sumFile: () => 'local/tools/helm/go.sum' };
    assert.deepEqual(
      goBuildRule(read(helmBuild.script), { helm: read('local/tools/helm/go.sum') }, helmBuild),
      [],
    );
    assert.deepEqual(shellInstallRule('setup.sh', read('local/setup.sh')), []);
    assert.deepEqual(
      nodeToolchainRule(read('local/toolchain/node.env'), read('local/toolchain/node.sh')),
      [],
    );
  });
});

// Each regression the issue names, fed to its rule: the rule must name it.
const regressions: { name: string; problems: () => { rule: string; message: string }[]; reason: RegExp }[] = [
  { name: 'no .npmrc at all', problems: () => npmrcRule(undefined), reason: /ignore-scripts=true/ },
  {
    name: 'install scripts switched back on',
    problems: () => npmrcRule('ignore-scripts=false\n'),
    reason: /ignore-scripts/,
  },
  {
    name: 'a new package with an unreviewed install script',
    problems: () =>
      packageLockRule(
        JSON.stringify({
          lockfileVersion: 3,
          packages: {
            '': {},
            'node_modules/evil': { version: '1.0.0', integrity: 'sha512-x', hasInstallScript: true },
          },
        }),
      ),
    reason: /evil@1\.0\.0 declares an install script nobody has reviewed/,
  },
  {
    name: 'a package resolved from a git URL',
    problems: () =>
      packageLockRule(
        JSON.stringify({
          lockfileVersion: 3,
          packages: {
            'node_modules/x': {
              version: '1.0.0',
              resolved: 'git+ssh://git@example.com/x.git',
              integrity: 'sha512-x',
            },
          },
        }),
      ),
    reason: /resolved from git\+ssh/,
  },
  {
    name: 'a package without an integrity hash',
    problems: () =>
      packageLockRule(
        JSON.stringify({ lockfileVersion: 3, packages: { 'node_modules/x': { version: '1.0.0' } } }),
      ),
    reason: /no sha512 integrity/,
  },
  {
    name: 'the npm install fallback comes back',
    problems: () => shellInstallRule('setup.sh', '  npm install --no-save --no-audit --no-fund\n'),
    reason: /installs outside the lock/,
  },
  {
    name: 'npm ci with install scripts',
    problems: () => shellInstallRule('setup.sh', 'npm ci --no-audit\n'),
    reason: /npm ci without --ignore-scripts/,
  },
  {
    name: 'pip install of an unhashed requirement',
    problems: () => shellInstallRule('check.sh', '"$VENV/bin/python" -m pip install "cfn-lint==1.0"\n'),
    reason: /pip install without --require-hashes/,
  },
  {
    name: 'a pip lock line without a hash',
    problems: () => pipLockRule('r.txt', `numpy==2.4.6\nscipy==1.0 \\\n    --hash=sha256:${SHA}\n`),
    reason: /numpy==2\.4\.6: no --hash/,
  },
  {
    name: 'a pip lock with a range instead of a pin',
    problems: () => pipLockRule('r.txt', `numpy>=2 \\\n    --hash=sha256:${SHA}\n`),
    reason: /not an exact == pin/,
  },
  {
    name: 'a pip lock pointing at another index',
    problems: () =>
      pipLockRule('r.txt', `--extra-index-url https://evil.example/simple\nx==1 --hash=sha256:${SHA}\n`),
    reason: /option line not allowed/,
  },
  {
    name: 'a base image by tag',
    problems: () => dockerfileRule('Dockerfile', 'FROM node:22-bookworm-slim AS build\nFROM build\n'),
    reason: /FROM node:22-bookworm-slim: pin it by digest/,
  },
  {
    name: 'a third-party image by tag in a manifest',
    problems: () =>
      manifestImagesRule('d.yaml', '      containers:\n        - image: busybox:1.36\n').problems,
    reason: /busybox:1\.36: pin it by digest/,
  },
  {
    name: 'our own image as latest',
    problems: () =>
      manifestImagesRule('d.yaml', '          image: ghcr.io/kubepulse/executor:latest\n').problems,
    reason: /own images carry an exact version/,
  },
  {
    name: 'our own image by version but without a digest',
    problems: () =>
      manifestImagesRule('d.yaml', '          image: ghcr.io/kubepulse/executor:0.1.0\n').problems,
    reason: /own images carry an exact version and a digest/,
  },
  {
    name: 'a control-plane go.sum missing',
    problems: () => goBuildRule('GOFLAGS="-mod=readonly"\n', { etcd: undefined, kubernetes: `x v1 ${H1}\n` }),
    reason: /missing or empty/,
  },
  {
    name: 'go mod tidy back on the default build path',
    problems: () =>
      goBuildRule('export GOFLAGS="-mod=readonly"\n  (cd "$WORK/etcd" && go mod tidy)\n', {
        etcd: `x v1 ${H1}\n`,
      }),
    reason: /go mod tidy outside the relock path/,
  },
  {
    name: 'the Node toolchain pinned by a range instead of a version',
    problems: () =>
      nodeToolchainRule(`NODE_VERSION=24\nNODE_INTEGRITY_linux_x64=sha512-${'A'.repeat(86)}==\n`, NODE_SH),
    reason: /exact x\.y\.z/,
  },
  {
    name: 'the Node toolchain without an integrity, or with a sha1 one',
    problems: () => nodeToolchainRule('NODE_VERSION=24.22.3\nNODE_INTEGRITY_linux_x64=sha1-AAAA\n', NODE_SH),
    reason: /not a sha512 integrity/,
  },
  {
    name: 'the Node install no longer checking the tarball',
    problems: () =>
      nodeToolchainRule(
        `NODE_VERSION=24.22.3\nNODE_INTEGRITY_linux_x64=sha512-${'A'.repeat(86)}==\n`,
        'tar -xzf x\n',
      ),
    reason: /compare the tarball integrity/,
  },
  {
    name: 'go commands without -mod=readonly',
    problems: () => goBuildRule('export GOFLAGS="-buildvcs=false"\n', { etcd: `x v1 ${H1}\n` }),
    reason: /-mod=readonly/,
  },
  {
    name: "helm's go.sum missing (named by its own path)",
    problems: () =>
      goBuildRule(
        'GOFLAGS="-mod=readonly"\n',
        { helm: undefined },
        { script: 'local/tools/helm/build.sh', sumFile: () => 'local/tools/helm/go.sum' },
      ).map((problem) => ({ ...problem, message: `${problem.file}: ${problem.message}` })),
    reason: /local\/tools\/helm\/go\.sum: missing or empty/,
  },
];

describe('supply-chain rules: every regression is caught and named', () => {
  for (const { name, problems, reason } of regressions) {
    it(name, () => {
      const found = problems();
      assert.ok(
        found.some((problem) => reason.test(problem.message)),
        `expected a problem matching ${reason}, got ${JSON.stringify(found)}`,
      );
    });
  }

  it('advice in quotes and comments is not a command', () => {
    const script = [
      '# never: npm install --no-save',
      `die "run 'npm install --package-lock-only --ignore-scripts' and commit the lock"`,
      'npm ci --ignore-scripts --no-audit',
    ].join('\n');
    assert.deepEqual(shellInstallRule('setup.sh', script), []);
  });
});
