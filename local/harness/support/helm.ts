import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type KubernetesObject, loadAllYaml } from '@kubernetes/client-node';
import { KubepulseError } from '../../../functions/shared/errors.js';

/**
 * helm, built from its Go module by local/tools/helm/build.sh (pinned, module graph locked in the repository,
 * cached under ${KUBEPULSE_CACHE:-~/.cache/kubepulse}/tools/helm-<version>), and the chart in infra/helm/kubepulse.
 */

const buildScript = fileURLToPath(new URL('../../tools/helm/build.sh', import.meta.url));
export const CHART_DIR = fileURLToPath(new URL('../../../infra/helm/kubepulse', import.meta.url));
const execFileAsync = promisify(execFile);

/** helm could not be built, or a helm command failed; `stderr` holds helm's own words. */
export class HelmError extends KubepulseError {
  readonly retryable = false;
  readonly code = 'helm-failed';
  constructor(
    message: string,
    readonly stderr: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

let built: Promise<string> | undefined;

/** The helm binary, built the first time (minutes on two cores; progress on stderr), then < 1 s. */
export function ensureHelm(): Promise<string> {
  built ??= (async () => {
    await new Promise<void>((resolve, reject) => {
      const child = spawn('bash', [buildScript], { stdio: ['ignore', 'inherit', 'inherit'] });
      child.once('error', (error) =>
        reject(new HelmError(`cannot run ${buildScript}`, '', { cause: error })),
      );
      child.once('close', (code) =>
        code === 0 ? resolve() : reject(new HelmError(`${buildScript} exited ${code}`, '')),
      );
    });
    const { stdout } = await execFileAsync('bash', [buildScript, '--print-bin']);
    return stdout.trim();
  })();
  return built;
}

/** Why helm cannot be built here (no Go >= 1.26), or undefined when it can or already is. */
export async function helmBlocker(): Promise<string | undefined> {
  const { stdout: bin } = await execFileAsync('bash', [buildScript, '--print-bin']);
  try {
    await execFileAsync(bin.trim(), ['version', '--short']);
    return undefined;
  } catch {
    // not built yet: Go decides
  }
  try {
    const { stdout } = await execFileAsync('go', ['env', 'GOVERSION']);
    const minor = Number(/^go1\.(\d+)/.exec(stdout.trim())?.[1] ?? 0);
    return minor >= 26 ? undefined : `Go >= 1.26 is needed to build helm, found ${stdout.trim()}`;
  } catch {
    return 'Go is not installed (Go >= 1.26 builds helm)';
  }
}

/**
 * Runs helm with its own config, cache and data directories beside the binary (nothing read from or written
 * to the user's ~/.config/helm).
 */
export async function helm(args: readonly string[]): Promise<{ stdout: string; stderr: string }> {
  const bin = await ensureHelm();
  const home = `${bin}-home`;
  try {
    return await execFileAsync(bin, [...args], {
      env: {
        ...process.env,
        HELM_CONFIG_HOME: `${home}/config`,
        HELM_CACHE_HOME: `${home}/cache`,
        HELM_DATA_HOME: `${home}/data`,
      },
      maxBuffer: 32 * 1024 * 1024,
    });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? String(error);
    throw new HelmError(`helm ${args.join(' ')} failed:\n${stderr.slice(-4000)}`, stderr, { cause: error });
  }
}

/** `helm template` of the chart with the given extra arguments (--set …), parsed into objects as written. */
export async function helmTemplate(
  args: readonly string[] = [],
  releaseName = 'kubepulse',
): Promise<KubernetesObject[]> {
  const { stdout } = await helm(['template', releaseName, CHART_DIR, ...args]);
  return parseManifests(stdout);
}

/**
 * Multi-document YAML into plain objects, every field kept. loadAllYaml deserialises a known apiVersion/kind
 * into the client's models, which silently drops any field the models lack: a comparison of two renderings
 * would not see a difference there. Hiding each document's top-level apiVersion from it makes it return what
 * js-yaml parsed; the key is put back afterwards. Documents holding only comments (a template that rendered
 * nothing) are skipped.
 */
export function parseManifests(yaml: string): KubernetesObject[] {
  const HIDDEN = 'kubepulseRawApiVersion';
  return yaml
    .split(/^---[ \t]*$/m)
    .filter((document) => /^[^#\s]/m.test(document))
    .map((document) => {
      const [object, ...more] = loadAllYaml(document.replace(/^apiVersion:/m, `${HIDDEN}:`)) as Array<
        Record<string, unknown>
      >;
      if (!object || more.length > 0)
        throw new HelmError('a YAML document did not hold one object', document);
      const { [HIDDEN]: apiVersion, ...rest } = object;
      return { apiVersion, ...rest } as KubernetesObject;
    });
}
