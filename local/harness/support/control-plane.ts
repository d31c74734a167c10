import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ApiException, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { KubepulseError } from '../../../functions/shared/errors.js';

/**
 * The local Kubernetes control plane (local/standins/control-plane/): real etcd, kube-apiserver, controller-manager and
 * scheduler built from source, plus kwok faking node kwok-node-0. Tests and the demo share one instance.
 */

const scriptsDir = fileURLToPath(new URL('../../standins/control-plane/', import.meta.url));
const buildScript = `${scriptsDir}build.sh`;
const clusterScript = `${scriptsDir}cluster.sh`;
const execFileAsync = promisify(execFile);

/** The control plane could not be built or started; the scripts' output says why. */
export class ControlPlaneError extends KubepulseError {
  readonly retryable = false;
  readonly code = 'control-plane-failed';
}

export interface ControlPlane {
  kubeconfigPath: string;
  /** Authenticated as kubepulse-admin (group system:masters). */
  kubeConfig: KubeConfig;
}

/**
 * Builds the binaries if they are not cached (minutes, the first time; progress goes to stderr), starts
 * whatever is not running and waits until the fake node is Ready. Cheap when everything is already up.
 */
export async function ensureControlPlane(): Promise<ControlPlane> {
  await runScript(buildScript, []);
  await runScript(clusterScript, ['up']);
  const { stdout } = await execFileAsync('bash', [clusterScript, 'kubeconfig']);
  const kubeconfigPath = stdout.trim();
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(kubeconfigPath);
  return { kubeconfigPath, kubeConfig };
}

/** `cluster.sh status`: each component's state, and whether all of them are up. */
export async function controlPlaneStatus(): Promise<{ allUp: boolean; report: string }> {
  try {
    const { stdout } = await execFileAsync('bash', [clusterScript, 'status']);
    return { allUp: true, report: stdout };
  } catch (error) {
    const report = (error as { stdout?: string }).stdout ?? String(error);
    return { allUp: false, report };
  }
}

/**
 * Why the control plane cannot be built here, or undefined if it can (or already is). Building needs Go >= 1.26;
 * running needs curl and openssl.
 */
export async function controlPlaneBlocker(): Promise<string | undefined> {
  for (const tool of ['curl', 'openssl']) {
    if (!(await succeeds('sh', ['-c', `command -v ${tool}`]))) return `${tool} is not installed`;
  }
  const { stdout: binDir } = await execFileAsync('bash', [buildScript, '--print-bin-dir']);
  if (await succeeds('test', ['-x', `${binDir.trim()}/kube-apiserver`])) return undefined;
  try {
    const { stdout } = await execFileAsync('go', ['env', 'GOVERSION']);
    const minor = Number(/^go1\.(\d+)/.exec(stdout.trim())?.[1] ?? 0);
    return minor >= 26
      ? undefined
      : `Go >= 1.26 is needed to build the control plane, found ${stdout.trim()}`;
  } catch {
    return 'Go is not installed (Go >= 1.26 builds the control plane)';
  }
}

/**
 * A KubeConfig for the same cluster authenticated as ServiceAccount namespace/name (created if missing), with a
 * token from the TokenRequest API. The API server refuses lifetimes under 600 s.
 */
export async function serviceAccountKubeConfig(
  admin: KubeConfig,
  namespace: string,
  name: string,
  ttlSeconds: number,
): Promise<KubeConfig> {
  const core = admin.makeApiClient(CoreV1Api);
  try {
    await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
  } catch (error) {
    if (!(error instanceof ApiException && error.code === 409)) throw error;
  }
  const tokenRequest = await core.createNamespacedServiceAccountToken({
    namespace,
    name,
    body: { spec: { audiences: [], expirationSeconds: ttlSeconds } },
  });
  const token = tokenRequest.status?.token;
  if (!token) throw new ControlPlaneError(`TokenRequest for ${namespace}/${name} returned no token`);
  const cluster = admin.getCurrentCluster();
  if (!cluster) throw new ControlPlaneError('the admin KubeConfig has no current cluster');
  const user = `system:serviceaccount:${namespace}:${name}`;
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [cluster],
    users: [{ name: user, token }],
    contexts: [{ name: user, cluster: cluster.name, user }],
    currentContext: user,
  });
  return config;
}

/** Runs a script with its output copied to stderr (build progress stays visible in test runs). */
function runScript(script: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let tail = '';
    const forward = (chunk: Buffer) => {
      process.stderr.write(chunk);
      tail = (tail + chunk.toString()).slice(-4000);
    };
    child.stdout.on('data', forward);
    child.stderr.on('data', forward);
    child.once('error', (error) => reject(new ControlPlaneError(`cannot run ${script}`, { cause: error })));
    child.once('close', (code) => {
      if (code === 0) resolve();
      else reject(new ControlPlaneError(`${script} ${args.join(' ')} exited ${code}:\n${tail}`));
    });
  });
}

async function succeeds(command: string, args: string[]): Promise<boolean> {
  try {
    await execFileAsync(command, args);
    return true;
  } catch {
    return false;
  }
}

/** Runs an API server delete and treats "already gone" (404) as done. */
export async function deleteIfPresent(remove: () => Promise<unknown>): Promise<void> {
  try {
    await remove();
  } catch (error) {
    if ((error as { code?: number }).code !== 404) throw error;
  }
}
