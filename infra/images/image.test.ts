// The in-cluster images, built here without a container engine (build-image.ts) and then treated as a runtime
// would: the OCI layout's blobs checked against their digests, the layers unpacked in order, the config's
// entrypoint run as the config's user on a read-only root with a tmpfs /tmp (the manifests' securityContext), and
// its /healthz asked. Also: two builds give the same digests, the manifests pin digests, and each SBOM lists what
// is really inside.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHash, generateKeyPairSync } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import {
  type BuildContext,
  type BuiltImage,
  buildImage,
  ENTRYPOINT,
  NONROOT,
  prepareBuild,
  readDebianLock,
} from './build-image.js';
import { COMPONENTS, type Component } from './bundle.js';
import { packageDirOf, spdxLicense } from './sbom.js';

const root = new URL('../..', import.meta.url);
const dir = mkdtempSync(join(tmpdir(), 'kubepulse-oci-'));
const KUBECONFIG =
  process.env.KUBEPULSE_KUBECONFIG ??
  join(process.env.KUBEPULSE_CACHE || join(homedir(), '.cache', 'kubepulse'), 'run/control-plane/kubeconfig');
const isRoot = process.getuid?.() === 0;

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}
interface ImageConfig {
  architecture: string;
  os: string;
  rootfs: { diff_ids: string[] };
  config: { User: string; Entrypoint: string[]; Env?: string[]; WorkingDir?: string };
}

/** Reads a blob of the layout, refusing one whose bytes do not match its descriptor. */
function blob(layout: string, descriptor: Descriptor): Buffer {
  const [algorithm, hex] = descriptor.digest.split(':');
  assert.equal(algorithm, 'sha256');
  const bytes = readFileSync(join(layout, 'blobs', 'sha256', hex ?? ''));
  assert.equal(bytes.byteLength, descriptor.size, `${descriptor.digest}: size`);
  assert.equal(sha256(bytes), hex, `${descriptor.digest}: content`);
  return bytes;
}

/** Unpacks the layout's one image into `rootfs` as a runtime would; returns its config. */
function unpack(layout: string, rootfs: string): ImageConfig {
  const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as { manifests: Descriptor[] };
  assert.equal(index.manifests.length, 1);
  const manifest = JSON.parse(blob(layout, index.manifests[0] as Descriptor).toString()) as {
    config: Descriptor;
    layers: Descriptor[];
  };
  const config = JSON.parse(blob(layout, manifest.config).toString()) as ImageConfig;
  assert.equal(config.rootfs.diff_ids.length, manifest.layers.length);
  mkdirSync(rootfs, { recursive: true });
  manifest.layers.forEach((layer, i) => {
    assert.equal(layer.mediaType, 'application/vnd.oci.image.layer.v1.tar+gzip');
    const tar = gunzipSync(blob(layout, layer));
    assert.equal(`sha256:${sha256(tar)}`, config.rootfs.diff_ids[i], `layer ${i}: diff_id`);
    const names = execFileSync('tar', ['-tf', '-'], { input: tar, encoding: 'utf8', maxBuffer: 1 << 24 });
    assert.doesNotMatch(names, /(^|\/)\.wh\./m, 'no whiteouts: every layer only adds');
    assert.doesNotMatch(names, /^(\/|\.\.\/)/m, 'no absolute or escaping paths');
    execFileSync('tar', ['-xf', '-', '-C', rootfs], { input: tar, maxBuffer: 1 << 24 });
  });
  return config;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/**
 * Runs a command of the image in its unpacked root. As root: a private mount namespace, the root bind-mounted
 * read-only, a 16 MiB tmpfs on /tmp and the kubeconfig directory read-only on /kube (as a Secret would be), then
 * chroot to the config's user. Otherwise (a developer without root): the image's own dynamic loader and
 * libraries run its node directly as the current user.
 */
function runInImage(rootfs: string, config: ImageConfig, args: string[], env: Record<string, string>) {
  const [uid, gid] = config.config.User.split(':');
  const hostEnv = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' };
  if (isRoot) {
    const script = [
      'set -e',
      'mount --bind "$ROOTFS" "$ROOTFS"',
      'mount -o remount,bind,ro "$ROOTFS"',
      'mount -t tmpfs -o size=16m,mode=1777 tmpfs "$ROOTFS/tmp"',
      'mount --bind -o ro "$KUBE_DIR" "$ROOTFS/kube"',
      `exec chroot --userspec=${uid}:${gid} "$ROOTFS" "$@"`,
    ].join('\n');
    return spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', ...args], {
      env: { ...hostEnv, ...env, ROOTFS: rootfs, KUBE_DIR: join(rootfs, '..', 'kube') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  }
  const [binary, ...rest] = args;
  return spawn(
    join(rootfs, 'lib/x86_64-linux-gnu/ld-linux-x86-64.so.2'),
    [
      '--library-path',
      `${rootfs}/lib/x86_64-linux-gnu:${rootfs}/usr/lib/x86_64-linux-gnu`,
      join(rootfs, binary ?? ''),
      ...rest.map((arg) => (arg.startsWith('/app/') ? join(rootfs, arg) : arg)),
    ],
    { env: { ...env, KUBECONFIG: join(rootfs, '..', 'kube', 'config') }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
}

function outputOf(child: ReturnType<typeof spawn>): Promise<{ code: number | null; output: string }> {
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, output })));
}

async function configFor(component: Component, port: number): Promise<Record<string, string>> {
  const closed = `http://127.0.0.1:${await freePort()}`; // nothing listens: SQS and Prometheus stay unreachable
  const common = {
    CLUSTER_ID: 'image-test',
    HTTP_PORT: String(port),
    KUBECONFIG: '/kube/config',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'image-test',
    AWS_SECRET_ACCESS_KEY: 'image-test',
    // Never ask an instance metadata service for credentials: the only address this test may reach is loopback.
    AWS_EC2_METADATA_DISABLED: 'true',
    KUBEPULSE_STAGE: 'image-test',
  };
  if (component === 'shipper') {
    return {
      ...common,
      HTTP_HOST: '127.0.0.1',
      SAMPLES_QUEUE_URL: `${closed}/000000000000/samples`,
      AWS_ENDPOINT_URL_SQS: closed,
      PROMETHEUS_URL: closed,
      POD_NAMESPACE: 'kubepulse-image-test',
    };
  }
  const { publicKey } = generateKeyPairSync('ed25519');
  const spki = publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
  return {
    ...common,
    REMEDIATIONS_QUEUE_URL: `${closed}/000000000000/remediations.fifo`,
    REMEDIATIONS_DLQ_URL: `${closed}/000000000000/remediations-dlq.fifo`,
    RESULTS_QUEUE_URL: `${closed}/000000000000/results.fifo`,
    SQS_ENDPOINT_URL: closed,
    PLAN_PUBLIC_KEYS: `image-test=${spki}`,
    EXECUTOR_NAMESPACE: 'kubepulse-image-test',
  };
}

async function healthOf(url: string, child: ReturnType<typeof spawn>, deadline: number) {
  let last = 'no answer';
  while (Date.now() < deadline && child.exitCode === null) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      last = `${response.status} ${await response.text()}`;
      if (response.status === 200) return last;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return last;
}

describe('in-cluster images (OCI layouts built here, no container engine)', () => {
  let context: BuildContext;
  const first = new Map<Component, BuiltImage>();
  const second = new Map<Component, BuiltImage>();

  before(
    async () => {
      context = prepareBuild();
      for (const component of COMPONENTS)
        first.set(component, await buildImage(component, join(dir, 'a'), context));
      for (const component of COMPONENTS)
        second.set(component, await buildImage(component, join(dir, 'b'), context));
    },
    { timeout: 600_000 },
  );
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('two builds of the same tree give the same digests, layouts and SBOMs (reproducible)', () => {
    for (const component of COMPONENTS) {
      const [a, b] = [first.get(component), second.get(component)];
      assert.ok(a && b);
      assert.match(a.digest, /^sha256:[0-9a-f]{64}$/);
      assert.equal(a.digest, b.digest, component);
      assert.equal(
        readFileSync(join(a.layout, 'index.json'), 'utf8'),
        readFileSync(join(b.layout, 'index.json'), 'utf8'),
      );
      assert.deepEqual(
        readdirSync(join(a.layout, 'blobs/sha256')),
        readdirSync(join(b.layout, 'blobs/sha256')),
      );
      assert.equal(readFileSync(a.sbom, 'utf8'), readFileSync(b.sbom, 'utf8'));
    }
  });

  it('the manifests pin each image by digest (ghcr.io/kubepulse/<component>:<version>@sha256:…)', (t) => {
    const { version } = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as {
      version: string;
    };
    for (const component of COMPONENTS) {
      const manifest = readFileSync(new URL(`infra/kubernetes/${component}/deployment.yaml`, root), 'utf8');
      const pins = [...manifest.matchAll(/^\s+image: (\S+)$/gm)].map((match) => match[1]);
      assert.equal(pins.length, 1, `${component}: one image`);
      const match = new RegExp(
        `^ghcr\\.io/kubepulse/${component}:${version.replace(/\./g, '\\.')}@(sha256:[0-9a-f]{64})$`,
      ).exec(pins[0] ?? '');
      assert.ok(match, `${component}: ${pins[0]} is not <repository>:${version}@sha256:<digest>`);
      const built = first.get(component)?.digest;
      // The pins are written by `infra/images/build.sh --pin` at a release, not on every code change (see
      // infra/images/README.md); the release check sets KUBEPULSE_IMAGE_PINS=current to require the tree's digests.
      if (process.env.KUBEPULSE_IMAGE_PINS === 'current')
        assert.equal(match[1], built, `${component}: pin is stale`);
      else if (match[1] !== built)
        t.diagnostic(
          `${component}: the pinned digest is not this tree's (${built}); build.sh --pin at release`,
        );
    }
  });

  for (const component of COMPONENTS) {
    it(`${component}: unpacked, it runs as ${NONROOT} on a read-only root and serves /healthz`, {
      timeout: 180_000,
      skip: existsSync(KUBECONFIG) ? false : `no API server kubeconfig at ${KUBECONFIG}`,
    }, async () => {
      const image = first.get(component);
      assert.ok(image);
      const scratch = join(dir, `run-${component}`);
      const rootfs = join(scratch, 'rootfs');
      const config = unpack(image.layout, rootfs);
      assert.equal(config.architecture, readDebianLock().architecture);
      assert.equal(config.config.User, `${NONROOT}:${NONROOT}`);
      assert.deepEqual(config.config.Entrypoint, ENTRYPOINT);
      // What a distroless image leaves out: no shell, no package manager, nothing but node to execute.
      for (const absent of [
        'bin/sh',
        'bin/bash',
        'usr/bin/apt',
        'usr/bin/dpkg',
        'usr/bin/npm',
        'nodejs/bin/npm',
      ]) {
        assert.equal(existsSync(join(rootfs, absent)), false, `${absent} is in the image`);
      }
      // Every Debian package the SBOM names left its licence in the image.
      for (const pkg of readDebianLock().packages) {
        assert.ok(
          existsSync(join(rootfs, 'usr/share/doc', pkg.name, 'copyright')),
          `${pkg.name}: no copyright file`,
        );
      }
      mkdirSync(join(scratch, 'kube'));
      copyFileSync(KUBECONFIG, join(scratch, 'kube', 'config'));
      chmodSync(join(scratch, 'kube', 'config'), 0o444); // a Secret volume's default mode
      if (isRoot) mkdirSync(join(rootfs, 'kube'));

      if (isRoot) {
        // The root file system is read-only for the image's user; /tmp (the manifests' emptyDir) is not.
        const probe = runInImage(
          rootfs,
          config,
          [
            '/nodejs/bin/node',
            '-e',
            `const fs = require('node:fs');
             let appWritable = true; try { fs.writeFileSync('/app/x', ''); } catch { appWritable = false; }
             fs.writeFileSync('/tmp/x', 'ok');
             console.log(JSON.stringify({ uid: process.getuid(), appWritable, version: process.version }));`,
          ],
          {},
        );
        const { code, output } = await outputOf(probe);
        assert.equal(code, 0, output);
        const facts = JSON.parse(output.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
        assert.deepEqual(facts, { uid: NONROOT, appWritable: false, version: `v${context.node.version}` });
      }

      const port = await freePort();
      const child = runInImage(rootfs, config, config.config.Entrypoint, {
        ...Object.fromEntries(
          (config.config.Env ?? []).map((pair) => pair.split('=', 2) as [string, string]),
        ),
        ...(await configFor(component, port)),
      });
      const finished = outputOf(child);
      try {
        const health = await healthOf(`http://127.0.0.1:${port}/healthz`, child, Date.now() + 90_000);
        assert.match(
          health,
          /^200 /,
          `${component} /healthz: ${health}\n${(await Promise.race([finished, Promise.resolve({ output: '(still running)' })])).output}`,
        );
      } finally {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await finished;
        clearTimeout(timer);
      }
    });
  }

  for (const component of COMPONENTS) {
    it(`${component}: the SBOM lists the bundle's npm packages (versions, licences), Node and the Debian packages`, () => {
      const image = first.get(component);
      assert.ok(image);
      const sbom = JSON.parse(readFileSync(image.sbom, 'utf8')) as {
        spdxVersion: string;
        documentNamespace: string;
        packages: {
          SPDXID: string;
          name: string;
          versionInfo: string;
          licenseDeclared: string;
          externalRefs?: { referenceLocator: string }[];
        }[];
        relationships: { spdxElementId: string; relationshipType: string; relatedSpdxElement: string }[];
      };
      assert.equal(sbom.spdxVersion, 'SPDX-2.3');
      assert.ok(sbom.documentNamespace.endsWith(image.digest));
      // What esbuild says went into the bundle, read from each package's own package.json (not the lock the
      // SBOM was written from).
      const metafile = JSON.parse(
        readFileSync(join(dirname(image.layout), `.work-${component}`, 'metafile.json'), 'utf8'),
      ) as {
        inputs: Record<string, unknown>;
      };
      const expected = new Map<string, string>();
      for (const input of Object.keys(metafile.inputs)) {
        const packageDir = packageDirOf(input);
        if (!packageDir) continue;
        const manifest = JSON.parse(readFileSync(new URL(`${packageDir}/package.json`, root), 'utf8')) as {
          name: string;
          version: string;
          license?: string;
        };
        expected.set(`${manifest.name}@${manifest.version}`, spdxLicense(manifest.license ?? 'NOASSERTION'));
      }
      assert.ok(expected.size > 20, `only ${expected.size} npm packages in the bundle`);
      const npm = sbom.packages.filter((pkg) => pkg.SPDXID.startsWith('SPDXRef-npm-'));
      assert.deepEqual(
        new Map(npm.map((pkg) => [`${pkg.name}@${pkg.versionInfo}`, pkg.licenseDeclared])),
        expected,
      );
      for (const pkg of npm) assert.match(pkg.externalRefs?.[0]?.referenceLocator ?? '', /^pkg:npm\//);
      for (const name of ['zod', '@kubernetes/client-node', '@aws-sdk/client-sqs', 'prom-client']) {
        assert.ok(
          npm.some((pkg) => pkg.name === name),
          `${name} missing`,
        );
      }

      const node = sbom.packages.find((pkg) => pkg.name === 'node');
      assert.equal(node?.versionInfo, context.node.version);
      assert.equal(node?.licenseDeclared, 'MIT');
      const debian = sbom.packages.filter((pkg) => pkg.SPDXID.startsWith('SPDXRef-deb-'));
      assert.deepEqual(
        debian.map((pkg) => [pkg.name, pkg.versionInfo, pkg.licenseDeclared]),
        readDebianLock().packages.map((pkg) => [pkg.name, pkg.version, pkg.license]),
      );
      const contained = new Set(
        sbom.relationships.filter((r) => r.relationshipType === 'CONTAINS').map((r) => r.relatedSpdxElement),
      );
      for (const pkg of sbom.packages)
        if (pkg.SPDXID !== 'SPDXRef-Image') assert.ok(contained.has(pkg.SPDXID), pkg.SPDXID);
    });
  }
});
