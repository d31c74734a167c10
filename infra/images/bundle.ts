// Bundles an in-cluster component (the shipper or the executor) into one ESM file, main.mjs, with the esbuild
// settings the Lambda functions get (infra/esbuild-options.ts). The container image runs this file; so does the
// local stack, so the artifact the tests exercise is the one the image ships.
//   node --import tsx infra/images/bundle.ts <shipper|executor> <out dir>
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { DEPLOYED_BUNDLE_OPTIONS } from '../esbuild-options.js';

export const COMPONENTS = ['shipper', 'executor'] as const;
export type Component = (typeof COMPONENTS)[number];

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Writes `<outDir>/main.mjs` (and its source map); returns the bundle's path. */
export async function bundleComponent(component: Component, outDir: string): Promise<string> {
  mkdirSync(outDir, { recursive: true });
  const outfile = join(outDir, 'main.mjs');
  await build({
    ...DEPLOYED_BUNDLE_OPTIONS,
    entryPoints: [join(ROOT, 'functions', component, 'main.ts')],
    outfile,
    // The image runs Node 22 (infra/images/Dockerfile); the tests run the bundle on Node 24 as well.
    target: 'node22',
  });
  return outfile;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [component, outDir] = process.argv.slice(2);
  if (!COMPONENTS.includes(component as Component) || !outDir) {
    console.error(`usage: bundle.ts <${COMPONENTS.join('|')}> <out dir>`);
    process.exit(2);
  }
  console.log(await bundleComponent(component as Component, resolve(outDir)));
}
