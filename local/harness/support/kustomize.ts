import { execFile } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  ApiException,
  CoreV1Api,
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
  return (loadAllYaml(await kustomizeBuildYaml(dir)) as Array<KubernetesObject | null>).filter(
    (object): object is KubernetesObject => !!object,
  );
}

/** `kustomize build dir` as the YAML text it prints. */
export async function kustomizeBuildYaml(dir: string): Promise<string> {
  const kustomize = await ensureKustomize();
  try {
    const { stdout } = await execFileAsync(kustomize, ['build', dir], { maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? String(error);
    throw new KustomizeError(`kustomize build ${dir} failed:\n${stderr.slice(-4000)}`, { cause: error });
  }
}

// Namespaces first, then what other objects refer to (accounts and roles before their bindings, admission
// policies before theirs).
const APPLY_ORDER = [
  'Namespace',
  'ServiceAccount',
  'ClusterRole',
  'Role',
  'ClusterRoleBinding',
  'RoleBinding',
  'ValidatingAdmissionPolicy',
  'ValidatingAdmissionPolicyBinding',
];
const rank = (object: KubernetesObject) => {
  const index = APPLY_ORDER.indexOf(object.kind ?? '');
  return index === -1 ? APPLY_ORDER.length : index;
};

/** The label on infra/kubernetes/executor-access/namespaces.yaml's RoleBindings: one per allowed namespace. */
export const EXECUTOR_NAMESPACE_LABEL = 'kubepulse.io/executor-namespace';

/**
 * The manifests with the executor's per-namespace RoleBindings (the example list of namespaces.yaml) replaced by
 * one per namespace given, cloned from the first: what an operator does by editing that file, for the namespaces
 * a local run acts in.
 */
export function withExecutorNamespaces(
  objects: readonly KubernetesObject[],
  namespaces: readonly string[],
): KubernetesObject[] {
  const isBinding = (object: KubernetesObject) =>
    object.kind === 'RoleBinding' && object.metadata?.labels?.[EXECUTOR_NAMESPACE_LABEL] === 'allowed';
  const template = objects.find(isBinding);
  if (!template) throw new KustomizeError(`no RoleBinding labelled ${EXECUTOR_NAMESPACE_LABEL}=allowed`);
  const bindings = namespaces.map((namespace) => ({
    ...structuredClone(template),
    metadata: { ...structuredClone(template.metadata), namespace },
  }));
  return [...objects.filter((object) => !isBinding(object)), ...bindings];
}

/**
 * Server-side apply of every object, in dependency order, as field manager `kubepulse-local`. A namespace an
 * object lives in is created when missing (an operator's cluster has the namespaces its RoleBindings name; a
 * fresh local control plane may not), and an immutable ConfigMap whose data changed is replaced, as the
 * manifests tell an admin to do.
 */
export async function applyObjects(
  kubeConfig: KubeConfig,
  objects: readonly KubernetesObject[],
): Promise<void> {
  const api = KubernetesObjectApi.makeApiClient(kubeConfig);
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const declared = new Set(objects.filter((o) => o.kind === 'Namespace').map((o) => o.metadata?.name));
  const referenced = new Set(objects.map((o) => o.metadata?.namespace).filter((n): n is string => !!n));
  for (const name of referenced) {
    if (declared.has(name)) continue;
    try {
      await core.createNamespace({ body: { metadata: { name } } });
    } catch (error) {
      if (!(error instanceof ApiException && error.code === 409)) throw error;
    }
  }
  const apply = (object: KubernetesObject) =>
    api.patch(object, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
  for (const object of [...objects].sort((a, b) => rank(a) - rank(b))) {
    try {
      await apply(object);
    } catch (error) {
      const immutable = (object as { immutable?: boolean }).immutable === true;
      if (!(immutable && error instanceof ApiException && error.code === 422)) throw error;
      await api.delete(object);
      await apply(object);
    }
  }
}
