// esbuild plugins for serverless-esbuild (`custom.esbuild.plugins: ./infra/esbuild-plugins.cjs`).
// serverless-esbuild `require`s this file and calls it with the Serverless instance; CommonJS because of that.
//
// bundle-assets: copies run-time files that esbuild cannot bundle (onnxruntime-web's wasm and its Emscripten
// glue .mjs, the ONNX models) into the zip of the functions that need them, as listed in serverless.yml:
//
//   custom:
//     bundleAssets:
//       <function>:
//         <directory inside the zip>: [<file relative to the service directory>, ...]
//
// Files go to `<build dir>/__only_<function>/<directory>/`: serverless-esbuild puts what is under
// `__only_<function>/` in that function's zip only (with the prefix stripped), so other functions' zips
// stay small. A listed file that does not exist fails the build, unless KUBEPULSE_ALLOW_MISSING_ASSETS=1
// (then it is only a warning; for packaging before the models exist).

const fs = require('node:fs');
const path = require('node:path');

const ONLY_PREFIX = '__only_'; // serverless-esbuild's constants.ONLY_PREFIX

/** handler `functions/inference/handler.handler` -> `functions/inference/handler` */
const handlerModule = (func) => {
  const entry = func.esbuildEntrypoint || func.handler || '';
  return entry.slice(0, entry.lastIndexOf('.'));
};
const stripExt = (p) => p.replace(/\.[^./\\]+$/, '');
const toPosix = (p) => p.split(path.sep).join('/');

function bundleAssetsPlugin(serverless) {
  const serviceDir = serverless.serviceDir || serverless.config.servicePath || process.cwd();
  const assets = serverless.service.custom?.bundleAssets ?? {};
  const functions = serverless.service.functions ?? {};
  const allowMissing = process.env.KUBEPULSE_ALLOW_MISSING_ASSETS === '1';

  for (const alias of Object.keys(assets)) {
    if (!functions[alias])
      throw new Error(`custom.bundleAssets.${alias}: no such function in serverless.yml`);
  }

  return {
    name: 'kubepulse-bundle-assets',
    setup(build) {
      const { entryPoints, outdir } = build.initialOptions;
      const entries = (Array.isArray(entryPoints) ? entryPoints : Object.values(entryPoints ?? {})).map((e) =>
        toPosix(typeof e === 'string' ? e : e.in),
      );
      if (entries.length !== 1 || !outdir) return; // serverless-esbuild builds one entry per build
      const entry = entries[0];
      // serverless-esbuild sets outdir = <build dir>/<dirname(entry)>
      const buildDir = path.resolve(outdir, path.relative(path.dirname(entry), '.'));

      // Functions whose handler is this entry and that have assets.
      const targets = Object.entries(functions)
        .filter(
          ([alias, func]) =>
            assets[alias] && stripExt(entry) === toPosix(path.normalize(handlerModule(func))),
        )
        .map(([alias]) => alias);
      if (!targets.length) return;

      const plan = []; // { src, dest, rel }
      const missing = [];
      for (const alias of targets) {
        for (const [dir, files] of Object.entries(assets[alias])) {
          if (!Array.isArray(files))
            throw new Error(`custom.bundleAssets.${alias}.${dir} must be a list of files`);
          const zipDir = path.posix.normalize(toPosix(dir));
          if (zipDir.startsWith('..') || path.posix.isAbsolute(zipDir)) {
            throw new Error(
              `custom.bundleAssets.${alias}: "${dir}" must be a relative directory inside the zip`,
            );
          }
          for (const file of files) {
            const src = path.resolve(serviceDir, file);
            const rel = path.posix.join(zipDir, path.basename(src));
            if (!fs.existsSync(src)) missing.push(`${file} (for ${alias}: ${rel})`);
            else plan.push({ src, rel, dest: path.join(buildDir, `${ONLY_PREFIX}${alias}`, rel) });
          }
        }
      }

      build.onStart(() => {
        // A failed build leaves serverless-esbuild's work folder behind; never zip a stale asset from it.
        // (Its copyExtras writes function-level package.patterns here too, but only after bundling.)
        for (const alias of targets) {
          fs.rmSync(path.join(buildDir, `${ONLY_PREFIX}${alias}`), { recursive: true, force: true });
        }
        if (!missing.length) return undefined;
        const text = `bundle asset(s) missing: ${missing.join(', ')}`;
        if (allowMissing)
          return {
            warnings: [{ text: `${text} (KUBEPULSE_ALLOW_MISSING_ASSETS=1: packaging without them)` }],
          };
        return { errors: [{ text, detail: 'set KUBEPULSE_ALLOW_MISSING_ASSETS=1 to package without them' }] };
      });

      build.onEnd((result) => {
        if (result.errors.length) return;
        for (const { src, dest } of plan) {
          fs.mkdirSync(path.dirname(dest), { recursive: true });
          fs.copyFileSync(src, dest);
        }
      });
    },
  };
}

module.exports = (serverless) => [bundleAssetsPlugin(serverless)];
