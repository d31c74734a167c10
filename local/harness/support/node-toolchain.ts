import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const NODE_ENV_FILE = resolve(dirname(fileURLToPath(import.meta.url)), '../../toolchain/node.env');

/** The pinned Node.js of local/toolchain/node.env, and where local/toolchain/node.sh installs it on this machine. */
export interface PinnedNode {
  version: string;
  major: number;
  /** Undefined on a platform the npm registry serves no build for (node.sh then uses the node on PATH). */
  binary: string | undefined;
}

export function pinnedNode(envFile = NODE_ENV_FILE): PinnedNode {
  const values = new Map<string, string>();
  for (const line of readFileSync(envFile, 'utf8').split('\n')) {
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(\S+)$/.exec(line.trim());
    if (match) values.set(match[1]!, match[2]!);
  }
  const version = values.get('NODE_VERSION');
  if (!version || !/^\d+\.\d+\.\d+$/.test(version)) throw new Error(`${envFile}: no NODE_VERSION=x.y.z`);
  const platform = { x64: 'linux-x64', arm64: 'linux-arm64' }[process.arch as string];
  const cache = process.env.KUBEPULSE_CACHE || join(homedir(), '.cache', 'kubepulse');
  const binary =
    process.platform === 'linux' && platform
      ? join(cache, 'toolchain', `node-v${version}-${platform}`, 'bin', 'node')
      : undefined;
  return { version, major: Number(version.split('.')[0]), binary };
}

/**
 * The node binary a Lambda sandbox runs for a template's `Runtime` (`nodejs24.x`): the pinned one when its major
 * matches, else the node running this process if that one matches, else an error that says how to get it. A
 * sandbox on another major than the deployed runtime would test something Lambda never runs.
 */
export function nodeForLambdaRuntime(
  runtime: string,
  pinned: PinnedNode = pinnedNode(),
  current = { execPath: process.execPath, version: process.version },
): string {
  const match = /^nodejs(\d+)\.x$/.exec(runtime);
  if (!match) throw new Error(`Lambda runtime ${runtime}: not a Node.js runtime (nodejs<major>.x)`);
  const major = Number(match[1]);
  if (pinned.major === major && pinned.binary && existsSync(pinned.binary)) return pinned.binary;
  if (Number(current.version.slice(1).split('.')[0]) === major) return current.execPath;
  throw new Error(
    `Lambda runtime ${runtime} needs Node ${major}, but this is ${current.version} and the pinned Node ` +
      (pinned.major === major
        ? `v${pinned.version} is not installed: run bash local/setup.sh`
        : `is v${pinned.version} (local/toolchain/node.env): pin the runtime's major there, or the runtime in serverless.yml`),
  );
}
