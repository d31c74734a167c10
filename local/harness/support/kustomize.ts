import { execFile } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  type KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  loadAllYaml,
  PatchStrategy,
} from '@kubernetes/client-node';
import { KubepulseError } from '../../../functions/shared/errors.js';

/**
 * kustomize built from its Go module (no download of a release binary), cached by version under
 * ${KUBEPULSE_CACHE:-~/.cache/kubepulse}/tools. v5.8.2 is the newest release whose go.mod a Go 1.26 toolchain
 * accepts (v5.8.3 asks for Go 1.27).
 */
export const KUSTOMIZE_VERSION = process.env.KUBEPULSE_KUSTOMIZE_VERSION ?? 'v5.8.2';
const FIELD_MANAGER = 'kubepulse-local';
const execFileAsync = promisify(execFile);

export class KustomizeError extends KubepulseError {
  readonly retryable = false;
  readonly code = 'kustomize-failed';
}

function toolsDir(): string {
  const cache = process.env.KUBEPULSE_CACHE || join(homedir(), '.cache', 'kubepulse');
  return join(cache, 'tools', `kustomize-${KUSTOMIZE_VERSION}`);
}

/** The kustomize binary, built with `go install` the first time (about a minute on two cores). */
export async function ensureKustomize(): Promise<string> {
  const dir = toolsDir();
  const binary = join(dir, 'kustomize');
  if (existsSync(binary)) return binary;
  mkdirSync(dir, { recursive: true });
  try {
    await execFileAsync('go', ['install', `sigs.k8s.io/kustomize/kustomize/v5@${KUSTOMIZE_VERSION}`], {
      env: { ...process.env, GOBIN: dir },
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? String(error);
    throw new KustomizeError(`go install kustomize ${KUSTOMIZE_VERSION} failed:\n${stderr.slice(-4000)}`, {
      cause: error,
    });
  }
  if (!existsSync(binary)) throw new KustomizeError(`go install left no binary at ${binary}`);
  return binary;
}

/** `kustomize build dir`, parsed into objects. */
export async function kustomizeBuild(dir: string): Promise<KubernetesObject[]> {
  const kustomize = await ensureKustomize();
  try {
    const { stdout } = await execFileAsync(kustomize, ['build', dir], { maxBuffer: 16 * 1024 * 1024 });
    return (loadAllYaml(stdout) as Array<KubernetesObject | null>).filter(
      (object): object is KubernetesObject => !!object,
    );
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? String(error);
    throw new KustomizeError(`kustomize build ${dir} failed:\n${stderr.slice(-4000)}`, { cause: error });
  }
}

// Namespaces first, then what other objects refer to (accounts and roles before their bindings).
const APPLY_ORDER = [
  'Namespace',
  'ServiceAccount',
  'ClusterRole',
  'Role',
  'ClusterRoleBinding',
  'RoleBinding',
];
const rank = (object: KubernetesObject) => {
  const index = APPLY_ORDER.indexOf(object.kind ?? '');
  return index === -1 ? APPLY_ORDER.length : index;
};

/** Server-side apply of every object, in dependency order, as field manager `kubepulse-local`. */
export async function applyObjects(
  kubeConfig: KubeConfig,
  objects: readonly KubernetesObject[],
): Promise<void> {
  const api = KubernetesObjectApi.makeApiClient(kubeConfig);
  for (const object of [...objects].sort((a, b) => rank(a) - rank(b))) {
    await api.patch(object, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
  }
}
