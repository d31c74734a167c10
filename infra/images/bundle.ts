// Bundles an in-cluster component (the shipper or the executor) into one ESM file, main.mjs, with the esbuild
// settings the Lambda functions get (infra/esbuild-options.ts). The container image runs this file; so does the
// local stack, so the artifact the tests exercise is the one the image ships.
//   node --import tsx infra/images/bundle.ts <shipper|executor> <out dir>
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { DEPLOYED_BUNDLE_OPTIONS } from '../esbuild-options.js';

export const COMPONENTS = ['shipper', 'executor'] as const;
export type Component = (typeof COMPONENTS)[number];

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface ImageBundle {
  /** `<outDir>/main.mjs` */
  bundle: string;
  /** `<outDir>/main.mjs.map` */
  sourceMap: string;
  /** esbuild's record of every input file (paths relative to the repository root), for the SBOM. */
  metafile: Metafile;
}

/** Writes `<outDir>/main.mjs` (and its source map); returns the bundle's path. */
export async function bundleComponent(component: Component, outDir: string): Promise<string> {
  return (await bundleForImage(component, outDir)).bundle;
}

/**
 * The bytes depend on the sources and the locked dependencies only, not on where the checkout or the output
 * directory is: esbuild works from the repository root and lays the output out as if it were
 * `<root>/image/<component>/main.mjs` (so the source map names `../../functions/…` from any checkout), and the
 * files are then written to `outDir`. The image digest depends on these bytes.
 */
export async function bundleForImage(component: Component, outDir: string): Promise<ImageBundle> {
  const nominalOutfile = join(ROOT, 'image', component, 'main.mjs');
  const result = await build({
    ...DEPLOYED_BUNDLE_OPTIONS,
    absWorkingDir: ROOT,
    entryPoints: [join(ROOT, 'functions', component, 'main.ts')],
    outfile: nominalOutfile,
    write: false,
    metafile: true,
  });
  mkdirSync(outDir, { recursive: true });
  const written: Record<string, string> = {};
  for (const file of result.outputFiles) {
    const target = join(outDir, basename(file.path));
    writeFileSync(target, file.contents);
    written[basename(file.path)] = target;
  }
  const bundle = written['main.mjs'];
  const sourceMap = written['main.mjs.map'];
  if (!bundle || !sourceMap)
    throw new Error(`esbuild wrote ${Object.keys(written).join(', ')}, not main.mjs + map`);
  return { bundle, sourceMap, metafile: result.metafile };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [component, outDir] = process.argv.slice(2);
  if (!COMPONENTS.includes(component as Component) || !outDir) {
    console.error(`usage: bundle.ts <${COMPONENTS.join('|')}> <out dir>`);
    process.exit(2);
  }
  console.log(await bundleComponent(component as Component, resolve(outDir)));
}
