import type { BuildOptions } from 'esbuild';

/**
 * The esbuild settings every deployed bundle uses: serverless.yml's `custom.esbuild` block (the Lambda functions;
 * infra/esbuild-options.test.ts keeps the two in step), the in-cluster images (infra/images/bundle.ts) and the
 * inference benchmark's cold start, which must measure what Lambda runs.
 */
export const DEPLOYED_BUNDLE_OPTIONS = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  // serverless.yml's runtime, nodejs24.x; a bundle for another Node (the images' Node 22) overrides it
  target: 'node24',
  minify: true,
  keepNames: true,
  sourcemap: true,
  sourcesContent: false,
  mainFields: ['module', 'main'],
  // CommonJS dependencies call require() and use __dirname (ioredis); give the ESM bundle both.
  banner: {
    js: "import { createRequire as __kpCreateRequire } from 'node:module'; const require = __kpCreateRequire(import.meta.url);",
  },
  define: { __dirname: 'import.meta.dirname', __filename: 'import.meta.filename' },
  logLevel: 'error',
} as const satisfies BuildOptions;
