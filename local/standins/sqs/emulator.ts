// Local stand-in for Amazon SQS: local-aws-sqs served in-process, with every queue and DLQ from infra/queues.cjs,
// created with exactly the properties the deployed stack gives them (infra/cloudformation.cjs:queueResources).
//
// In-process (tests):   const sqs = await startSqsEmulator({ port: 0 }); ... await sqs.close();
// Standalone (dev/demo): npx tsx local/standins/sqs/emulator.ts up|down|status   (serve = run in the foreground)
import { spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { CreateQueueCommand, ListQueuesCommand } from '@aws-sdk/client-sqs';
import { createRequestHandler } from 'local-aws-sqs';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION, localSqsClient } from './client.js';

/** Shape of one entry of infra/queues.cjs (see its JSDoc). */
export interface QueueDefinition {
  key: string;
  logicalId: string;
  fifo: boolean;
  visibilityTimeoutSeconds: number;
  maxReceiveCount: number;
  retentionSeconds: number;
  producer: string;
  consumer: string;
  purpose: string;
  /** One copy per cluster (samples, remediations, results, predictions). */
  perCluster?: boolean;
  /** Set on a per-cluster copy. */
  cluster?: string;
}

export interface InfraQueuesModule {
  queues: QueueDefinition[];
  clusterQueues(clusters?: readonly string[]): QueueDefinition[];
  parseClusters(value: unknown): string[];
  queueRef(def: QueueDefinition): string;
  DEFAULT_CLUSTERS: string[];
  queueName(prefix: string, def: QueueDefinition): string;
  deadLetterQueueName(prefix: string, def: QueueDefinition): string;
  DLQ_RETENTION_SECONDS: number;
}

// infra/queues.cjs is CommonJS (the Serverless Framework require()s it); load it the same way.
const infra = createRequire(import.meta.url)('../../../infra/queues.cjs') as InfraQueuesModule;
/** infra/queues.cjs, typed. */
export const infraQueues: InfraQueuesModule = infra;

/** An `AWS::SQS::Queue` resource as infra/cloudformation.cjs builds it. */
interface CfnQueueResource {
  Type: string;
  Properties: { QueueName: string; Tags?: { Key: string; Value: string }[] } & Record<string, unknown>;
}
interface InfraCloudFormationModule {
  queueResources(
    prefix: string,
    opts?: { clusters?: readonly string[] },
  ): { Resources: Record<string, CfnQueueResource> };
  deadLetterLogicalId(def: QueueDefinition): string;
}
const cloudformation = createRequire(import.meta.url)(
  '../../../infra/cloudformation.cjs',
) as InfraCloudFormationModule;

/** Per-queue settings a test may change to stay fast (e.g. a 1 s visibility timeout). */
export interface QueueOverride {
  visibilityTimeoutSeconds?: number;
  maxReceiveCount?: number;
  retentionSeconds?: number;
}

export interface SqsEmulatorOptions {
  /** TCP port; 0 (the default) picks a free one. */
  port?: number;
  /** Interface to bind; loopback by default. Also the host in queue URLs. */
  host?: string;
  /** Queue-name prefix, as in `${prefix}-samples`. */
  prefix?: string;
  /** Overrides keyed by queue key (`samples`, `remediations`, …); `'*'` applies to every queue first. */
  overrides?: Record<string, QueueOverride>;
  /** The cluster list (infra/queues.cjs: one copy of each per-cluster queue each); default `['local']`. */
  clusters?: readonly string[];
}

export interface SqsEmulator {
  /** `http://host:port`, for `localSqsClient(endpoint)` or `AWS_ENDPOINT_URL_SQS`. */
  endpoint: string;
  host: string;
  port: number;
  prefix: string;
  /** The cluster list the queues were made for; the first is the default cluster. */
  clusters: string[];
  /**
   * Main queue URL by queue key: `anomalies` for a shared queue, `remediations@prod-eu` for one cluster's copy of a
   * per-cluster queue, and plain `remediations` for the FIRST cluster's copy (one-cluster stacks and older tests).
   * The same keys index dlqUrls, queueArns and dlqArns.
   */
  queueUrls: Record<string, string>;
  /** Dead-letter queue URL by queue key (the key of the queue it serves). */
  dlqUrls: Record<string, string>;
  queueArns: Record<string, string>;
  dlqArns: Record<string, string>;
  /** The definitions in force, overrides applied. */
  queues: QueueDefinition[];
  /** Stops the server, dropping open long polls; all messages are lost (state is in memory only). */
  close(): Promise<void>;
}

export const DEFAULT_PREFIX = 'kubepulse-local';
export const DEFAULT_STANDALONE_PORT = 9324;

/** The queue definitions from infra/queues.cjs with `overrides` applied (unknown keys are an error). */
export function queueDefinitions(
  overrides: Record<string, QueueOverride> = {},
  clusters: readonly string[] = infra.DEFAULT_CLUSTERS,
): QueueDefinition[] {
  const known = new Set(infra.queues.map((q) => q.key));
  for (const key of Object.keys(overrides)) {
    if (key !== '*' && !known.has(key)) {
      throw new Error(`override for unknown queue key '${key}' (known: ${[...known].join(', ')})`);
    }
  }
  return infra.clusterQueues(clusters).map((def) => ({ ...def, ...overrides['*'], ...overrides[def.key] }));
}

export function queueArn(name: string): string {
  return `arn:aws:sqs:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:${name}`;
}

const PSEUDO_PARAMETERS: Record<string, string> = {
  'AWS::Partition': 'aws',
  'AWS::Region': LOCAL_REGION,
  'AWS::AccountId': LOCAL_ACCOUNT_ID,
};

/** Resolves the intrinsics queue resources use (Fn::GetAtt …Arn of another queue, Fn::Sub of pseudo parameters). */
function resolveIntrinsics(value: unknown, resources: Record<string, CfnQueueResource>): unknown {
  if (Array.isArray(value)) return value.map((v) => resolveIntrinsics(v, resources));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value);
  const [fn, arg] = entries[0] ?? [];
  if (entries.length === 1 && fn !== undefined && (fn === 'Ref' || fn.startsWith('Fn::'))) {
    if (fn === 'Fn::GetAtt' && Array.isArray(arg) && arg[1] === 'Arn' && resources[arg[0]]) {
      return queueArn(resources[arg[0]]!.Properties.QueueName);
    }
    if (fn === 'Fn::Sub' && typeof arg === 'string') {
      return arg.replace(/\$\{([^}]+)\}/g, (_, name: string) => {
        const v = PSEUDO_PARAMETERS[name];
        if (v === undefined) throw new Error(`Fn::Sub of \${${name}} is not supported locally`);
        return v;
      });
    }
    throw new Error(`intrinsic ${JSON.stringify(value)} is not supported locally`);
  }
  return Object.fromEntries(entries.map(([k, v]) => [k, resolveIntrinsics(v, resources)]));
}

/** CloudFormation queue properties → CreateQueue attributes (all strings; policies as JSON) and tags. */
function toCreateQueueInput(resource: CfnQueueResource, resources: Record<string, CfnQueueResource>) {
  const { QueueName, Tags, ...props } = resource.Properties;
  const Attributes: Record<string, string> = {};
  for (const [name, raw] of Object.entries(props)) {
    const v = resolveIntrinsics(raw, resources);
    Attributes[name] = typeof v === 'object' ? JSON.stringify(v) : String(v);
  }
  const tags = Object.fromEntries((Tags ?? []).map((t) => [t.Key, t.Value]));
  return { QueueName, Attributes, ...(Tags?.length ? { tags } : {}) };
}

/** The characters SQS accepts in a message body and string attribute values (XML 1.0's Char production). */
const INVALID_CONTENT = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const INVALID_CONTENTS_MESSAGE =
  'Invalid binary character was found in the message body, the set of allowed characters is #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF';

/** Every message body and string attribute value of a SendMessage or SendMessageBatch request, either protocol. */
function sentTexts(req: IncomingMessage, body: string): string[] {
  const target = String(req.headers['x-amz-target'] ?? '');
  if (target) {
    if (!/\.SendMessage(Batch)?$/.test(target)) return [];
    let parsed: { Entries?: unknown[] } & Record<string, unknown>;
    try {
      parsed = JSON.parse(body);
    } catch {
      return [];
    }
    const entries = (Array.isArray(parsed.Entries) ? parsed.Entries : [parsed]) as Array<{
      MessageBody?: unknown;
      MessageAttributes?: Record<string, { StringValue?: unknown }>;
    }>;
    return entries.flatMap((e) => [
      String(e.MessageBody ?? ''),
      ...Object.values(e.MessageAttributes ?? {}).map((a) => String(a?.StringValue ?? '')),
    ]);
  }
  const form = new URLSearchParams(body);
  if (!/^SendMessage(Batch)?$/.test(form.get('Action') ?? '')) return [];
  return [...form.entries()]
    .filter(([name]) => name.endsWith('MessageBody') || name.endsWith('StringValue'))
    .map(([, value]) => value);
}

/**
 * local-aws-sqs stores any body; real SQS refuses one with a character outside XML's Char (U+FFFE, U+FFFF,
 * control characters, lone surrogates) with InvalidMessageContents, failing the whole request. The emulator does
 * the same, so a sender that does not escape them fails here as it would in AWS.
 */
async function refuseInvalidContents(
  req: IncomingMessage,
  res: ServerResponse,
  handle: (req: IncomingMessage, res: ServerResponse) => unknown,
): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks);
  const body = raw.toString('utf8');
  if (sentTexts(req, body).some((text) => INVALID_CONTENT.test(text))) {
    res.statusCode = 400;
    if (req.headers['x-amz-target']) {
      res.setHeader('content-type', 'application/x-amz-json-1.0');
      res.setHeader('x-amzn-query-error', 'InvalidMessageContents;Sender');
      res.end(
        JSON.stringify({
          __type: 'com.amazonaws.sqs#InvalidMessageContents',
          message: INVALID_CONTENTS_MESSAGE,
        }),
      );
    } else {
      res.setHeader('content-type', 'text/xml');
      res.end(
        `<?xml version="1.0"?><ErrorResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><Error><Type>Sender</Type><Code>InvalidMessageContents</Code><Message>${INVALID_CONTENTS_MESSAGE}</Message><Detail/></Error><RequestId>local</RequestId></ErrorResponse>`,
      );
    }
    return;
  }
  // The handler reads the request as a stream: hand it the same bytes again.
  const replay = Object.assign(Readable.from([raw]), {
    headers: req.headers,
    method: req.method,
    url: req.url,
    socket: req.socket,
  }) as unknown as IncomingMessage;
  await handle(replay, res);
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolvePort((server.address() as AddressInfo).port);
    });
  });
}

/**
 * Starts local-aws-sqs on `host:port` and creates every queue and DLQ of infra/queues.cjs through the
 * CreateQueue API (so attributes are validated as SQS would), with the properties of the deployed stack
 * (infra/cloudformation.cjs:queueResources): RedrivePolicy and RedriveAllowPolicy, FIFO deduplication scope and
 * throughput limit, visibility timeouts, retention, long-poll wait, tags.
 *
 * We build the http server around local-aws-sqs's `createRequestHandler` rather than calling its
 * `createSqsServer`, which is the same three lines but never settles (and crashes the process with an
 * unhandled 'error') when the port is taken.
 */
export async function startSqsEmulator(options: SqsEmulatorOptions = {}): Promise<SqsEmulator> {
  const host = options.host ?? '127.0.0.1';
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  const clusters = infra.parseClusters(options.clusters ?? infra.DEFAULT_CLUSTERS);
  const defs = queueDefinitions(options.overrides, clusters);

  const { service, requestHandler } = createRequestHandler({
    port: options.port ?? 0,
    hostname: host,
    region: LOCAL_REGION,
    accountId: LOCAL_ACCOUNT_ID,
    // Recreating a queue right after deleting it is normal in tests; AWS makes you wait 60 s.
    emulateQueueCreationLifecycle: false,
  });
  const server = createServer((req, res) => {
    void refuseInvalidContents(req, res, requestHandler);
  });
  const port = await listen(server, options.port ?? 0, host);
  service.PORT = port; // queue URLs are built from it
  const endpoint = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  const close = () =>
    new Promise<void>((done) => {
      server.close(() => done());
      server.closeAllConnections(); // long polls would otherwise hold close() for up to 20 s
    });

  const client = localSqsClient(endpoint);
  const queueUrls: Record<string, string> = {};
  const dlqUrls: Record<string, string> = {};
  const queueArns: Record<string, string> = {};
  const dlqArns: Record<string, string> = {};
  try {
    const { Resources } = cloudformation.queueResources(prefix, { clusters });
    for (const def of defs) {
      const dlqResource = Resources[cloudformation.deadLetterLogicalId(def)];
      const mainResource = Resources[def.logicalId];
      if (!dlqResource || !mainResource)
        throw new Error(`infra/cloudformation.cjs has no queue resources for '${def.key}'`);

      // `key@cluster` for a cluster's copy; plain `key` too for the first cluster's (the default cluster).
      const refs = [infra.queueRef(def), ...(def.cluster === clusters[0] ? [def.key] : [])];
      const dlq = await client.send(new CreateQueueCommand(toCreateQueueInput(dlqResource, Resources)));
      for (const ref of refs) {
        dlqUrls[ref] = dlq.QueueUrl!;
        dlqArns[ref] = queueArn(dlqResource.Properties.QueueName);
      }

      // Overrides (tests) replace infra's visibility timeout, retention and maxReceiveCount.
      const input = toCreateQueueInput(mainResource, Resources);
      const redrive = JSON.parse(input.Attributes.RedrivePolicy ?? '{}') as Record<string, unknown>;
      input.Attributes.VisibilityTimeout = String(def.visibilityTimeoutSeconds);
      input.Attributes.MessageRetentionPeriod = String(def.retentionSeconds);
      input.Attributes.RedrivePolicy = JSON.stringify({ ...redrive, maxReceiveCount: def.maxReceiveCount });
      const main = await client.send(new CreateQueueCommand(input));
      for (const ref of refs) {
        queueUrls[ref] = main.QueueUrl!;
        queueArns[ref] = queueArn(mainResource.Properties.QueueName);
      }
    }
  } catch (err) {
    await close();
    throw err;
  } finally {
    client.destroy();
  }

  return {
    endpoint,
    host,
    port,
    prefix,
    clusters,
    queueUrls,
    dlqUrls,
    queueArns,
    dlqArns,
    queues: defs,
    close,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Standalone mode: a background process with a pidfile under the cache run dir.

const SELF = fileURLToPath(import.meta.url);
const REPO_ROOT = resolve(dirname(SELF), '../..');

function runDir(): string {
  const cache = process.env.KUBEPULSE_CACHE || join(homedir(), '.cache', 'kubepulse');
  return join(cache, 'run', 'sqs');
}

const paths = () => {
  const dir = runDir();
  return {
    dir,
    pid: join(dir, 'sqs.pid'),
    log: join(dir, 'sqs.log'),
    state: join(dir, 'queues.json'),
  };
};

function standalonePort(): number {
  const raw = process.env.KUBEPULSE_SQS_PORT;
  const port = raw ? Number(raw) : DEFAULT_STANDALONE_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`bad KUBEPULSE_SQS_PORT: ${raw}`);
  return port;
}

/**
 * True if `pid` exists and is not a zombie: a detached server that exited waits to be reaped by PID 1, which in
 * some containers takes seconds, and by then it holds no port.
 */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc (macOS)
  }
}

/** PID from the pidfile if that process is alive and is this emulator; undefined otherwise. */
function runningPid(): number | undefined {
  const { pid: pidFile } = paths();
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return undefined;
  // Guard against PID reuse: only claim a process whose command line names this file.
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (!cmdline.includes('emulator.ts')) return undefined;
  } catch {
    // no /proc (macOS): trust the pidfile
  }
  return pid;
}

function readState(): { endpoint: string; queueUrls: Record<string, string> } | undefined {
  try {
    return JSON.parse(readFileSync(paths().state, 'utf8'));
  } catch {
    return undefined;
  }
}

async function responds(endpoint: string): Promise<boolean> {
  const client = localSqsClient(endpoint, { maxAttempts: 1 });
  try {
    await client.send(new ListQueuesCommand({}), { abortSignal: AbortSignal.timeout(2000) });
    return true;
  } catch {
    return false;
  } finally {
    client.destroy();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function serve(): Promise<void> {
  const p = paths();
  mkdirSync(p.dir, { recursive: true });
  const emulator = await startSqsEmulator({
    port: standalonePort(),
    prefix: process.env.KUBEPULSE_SQS_PREFIX || DEFAULT_PREFIX,
    // the same comma-separated list as serverless.yml's `clusters` param
    ...(process.env.KUBEPULSE_CLUSTERS
      ? { clusters: infra.parseClusters(process.env.KUBEPULSE_CLUSTERS) }
      : {}),
  });
  const state = {
    pid: process.pid,
    endpoint: emulator.endpoint,
    prefix: emulator.prefix,
    clusters: emulator.clusters,
    queueUrls: emulator.queueUrls,
    dlqUrls: emulator.dlqUrls,
    queueArns: emulator.queueArns,
    dlqArns: emulator.dlqArns,
  };
  writeFileSync(p.state, `${JSON.stringify(state, null, 2)}\n`);
  writeFileSync(p.pid, `${process.pid}\n`);
  console.log(`[sqs] ${new Date().toISOString()} serving ${emulator.endpoint} (pid ${process.pid})`);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`[sqs] ${new Date().toISOString()} ${signal}: stopping`);
    await emulator.close();
    // Remove the files only if they are still ours (a later `up` may have replaced them).
    if (existsSync(p.pid) && readFileSync(p.pid, 'utf8').trim() === String(process.pid)) {
      rmSync(p.pid, { force: true });
      rmSync(p.state, { force: true });
    }
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

async function up(): Promise<number> {
  const p = paths();
  const existing = runningPid();
  if (existing) {
    const state = readState();
    console.log(`sqs emulator: already running (pid ${existing}) at ${state?.endpoint ?? '?'}`);
    return 0;
  }
  mkdirSync(p.dir, { recursive: true });
  rmSync(p.pid, { force: true });
  rmSync(p.state, { force: true });
  const log = openSync(p.log, 'a');
  const child = spawn(process.execPath, ['--import', 'tsx', SELF, 'serve'], {
    cwd: REPO_ROOT,
    detached: true,
    stdio: ['ignore', log, log],
    env: process.env,
  });
  closeSync(log);
  let exitCode: number | null = null;
  child.on('exit', (code) => {
    exitCode = code ?? 1;
  });
  child.unref();

  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (exitCode !== null) break;
    const state = readState();
    if (runningPid() === child.pid && state && (await responds(state.endpoint))) {
      console.log(`sqs emulator: started (pid ${child.pid}) at ${state.endpoint}`);
      console.log(`  queues: ${Object.values(state.queueUrls).join(' ')}`);
      console.log(`  state: ${p.state}   log: ${p.log}`);
      console.log(`  export AWS_ENDPOINT_URL_SQS=${state.endpoint}`);
      return 0;
    }
    await sleep(100);
  }
  console.error(`sqs emulator: failed to start (see ${p.log}):`);
  try {
    console.error(readFileSync(p.log, 'utf8').split('\n').slice(-15).join('\n'));
  } catch {}
  if (exitCode === null && child.pid) {
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {}
  }
  return 1;
}

async function down(): Promise<number> {
  const p = paths();
  const pid = runningPid();
  if (!pid) {
    rmSync(p.pid, { force: true });
    rmSync(p.state, { force: true });
    console.log('sqs emulator: not running');
    return 0;
  }
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && alive(pid)) await sleep(50);
  if (alive(pid)) {
    console.error(`sqs emulator: pid ${pid} ignored SIGTERM for 10 s, sending SIGKILL`);
    process.kill(pid, 'SIGKILL');
    const killDeadline = Date.now() + 2000;
    while (Date.now() < killDeadline && alive(pid)) await sleep(50);
  }
  rmSync(p.pid, { force: true });
  rmSync(p.state, { force: true });
  console.log(`sqs emulator: stopped (pid ${pid})`);
  return 0;
}

async function status(): Promise<number> {
  const pid = runningPid();
  const state = readState();
  if (pid && state && (await responds(state.endpoint))) {
    console.log(`sqs emulator: running (pid ${pid}) at ${state.endpoint}`);
    return 0;
  }
  console.log(pid ? `sqs emulator: pid ${pid} alive but not answering` : 'sqs emulator: not running');
  return 1;
}

async function main(argv: string[]): Promise<void> {
  const command = argv[0];
  switch (command) {
    case 'serve':
      await serve();
      return;
    case 'up':
      process.exit(await up());
      return;
    case 'down':
      process.exit(await down());
      return;
    case 'status':
      process.exit(await status());
      return;
    default:
      console.error('usage: npx tsx local/standins/sqs/emulator.ts up|down|status|serve');
      process.exit(2);
  }
}

const invokedDirectly = (() => {
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(SELF);
  } catch {
    return false;
  }
})();
if (invokedDirectly) {
  main(process.argv.slice(2)).catch((err) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(1);
  });
}

/**
 * The CLUSTER_QUEUES values the inference function and the planner read (functions/shared/clusters.ts), for this
 * emulator's queues: what the deployed stack generates with infra/cloudformation.cjs, resolved locally.
 */
export function clusterQueuesEnv(
  emulator: Pick<SqsEmulator, 'clusters' | 'queueUrls' | 'dlqUrls' | 'queueArns'>,
): { inference: string; planner: string } {
  const inference: Record<string, unknown> = {};
  const planner: Record<string, unknown> = {};
  for (const cluster of emulator.clusters) {
    const at = (key: string) => `${key}@${cluster}`;
    inference[cluster] = {
      samplesQueueArn: emulator.queueArns[at('samples')],
      samplesDlqUrl: emulator.dlqUrls[at('samples')],
      predictionsQueueUrl: emulator.queueUrls[at('predictions')],
    };
    planner[cluster] = {
      remediationsQueueUrl: emulator.queueUrls[at('remediations')],
      resultsQueueArn: emulator.queueArns[at('results')],
      resultsDlqUrl: emulator.dlqUrls[at('results')],
    };
  }
  return { inference: JSON.stringify(inference), planner: JSON.stringify(planner) };
}
