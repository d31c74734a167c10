// Runs the Lambda functions locally from the artefacts `osls package` produces, as Lambda would: each function's
// zip unpacked into its own task root, its handler loaded in its own Node process (one sandbox per function,
// cold on first use, warm afterwards, killed and re-initialised after a timeout), with exactly the environment,
// timeout and memory the generated CloudFormation gives it, and triggered by the event-source mappings of that
// same template (batch size, batching window, ReportBatchItemFailures) through runSqsEventSource.
//
// Queue references in the template (Ref / Fn::GetAtt of queues from infra/queues.cjs) are resolved to the SQS
// emulator's queues; other values (Redis URL, Pushgateway, …) come from the template's defaults unless the caller
// overrides them per variable.
import { type ChildProcess, execFileSync, fork } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { SqsEmulator } from '../../standins/sqs/emulator.js';
import { nodeForLambdaRuntime } from '../support/node-toolchain.js';
import { type InvocationReport, runSqsEventSource } from './sqs-event-source.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const SANDBOX_RUNTIME = join(dirname(fileURLToPath(import.meta.url)), 'sandbox-runtime.mjs');
const CACHE_DIR = process.env.KUBEPULSE_CACHE ?? join(homedir(), '.cache', 'kubepulse');
/** What a package depends on; a change to any of these files means packaging again. */
const PACKAGE_INPUTS = ['functions', 'models/dist', 'infra', 'serverless.yml', 'package-lock.json'];

type CfnValue =
  | string
  | number
  | boolean
  | { Ref: string }
  | { 'Fn::GetAtt': [string, string] }
  | { 'Fn::Sub': string };

interface CfnFunction {
  Type: 'AWS::Lambda::Function';
  Properties: {
    Code: { S3Key: string };
    Handler: string;
    Runtime?: string;
    FunctionName: string;
    MemorySize?: number;
    Timeout?: number;
    Environment?: { Variables?: Record<string, CfnValue> };
  };
}
interface CfnEventSourceMapping {
  Type: 'AWS::Lambda::EventSourceMapping';
  Properties: {
    BatchSize?: number;
    MaximumBatchingWindowInSeconds?: number;
    EventSourceArn: CfnValue;
    FunctionName: CfnValue;
    Enabled?: boolean;
    FunctionResponseTypes?: string[];
  };
}
interface CfnTemplate {
  Resources: Record<string, { Type: string; Properties?: unknown }>;
}

export interface PackagedService {
  /** Where the function zips and the CloudFormation template are. */
  dir: string;
  template: CfnTemplate;
}

/** Distinguishes packages made with different params. */
const shortHash = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 12);

function packageInputsHash(): string {
  const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '--', ...PACKAGE_INPUTS], {
    cwd: ROOT,
    encoding: 'utf8',
  })
    .split('\n')
    .filter((f) => f !== '' && existsSync(join(ROOT, f)))
    .sort();
  const hash = createHash('sha256');
  for (const file of files)
    hash
      .update(file)
      .update('\0')
      .update(readFileSync(join(ROOT, file)))
      .update('\0');
  return hash.digest('hex').slice(0, 16);
}

/**
 * `osls package` into a cache folder keyed by the hash of everything the package is built from, so that the
 * demo packages once and then starts in seconds. Offline: no AWS call is made while packaging.
 */
export function ensurePackagedService(
  options: {
    stage?: string;
    /** serverless.yml's `clusters` param (the emulator must be started with the same list); default: its own. */
    clusters?: readonly string[];
    /** Other `--param`s (e.g. concurrency for more clusters). */
    params?: Readonly<Record<string, string>>;
    onProgress?: (line: string) => void;
  } = {},
) {
  const stage = options.stage ?? 'local';
  const params = Object.entries({
    ...(options.clusters ? { clusters: options.clusters.join(',') } : {}),
    ...options.params,
  }).map(([name, value]) => `${name}=${value}`);
  const variant = params.length ? `${shortHash(params.join('\n'))}-` : '';
  const dir = join(CACHE_DIR, 'packages', `${stage}-${variant}${packageInputsHash()}`);
  const templatePath = join(dir, 'cloudformation-template-update-stack.json');
  if (!existsSync(templatePath)) {
    options.onProgress?.(`packaging the functions with osls (stage ${stage}) into ${dir} …`);
    const work = `${dir}.tmp-${process.pid}`;
    rmSync(work, { recursive: true, force: true });
    mkdirSync(dirname(dir), { recursive: true });
    execFileSync(
      join(ROOT, 'node_modules/.bin/osls'),
      ['package', '--stage', stage, '--package', work, ...params.flatMap((param) => ['--param', param])],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          ...process.env,
          AWS_ACCESS_KEY_ID: 'offline-fake',
          AWS_SECRET_ACCESS_KEY: 'offline-fake',
          AWS_EC2_METADATA_DISABLED: 'true',
        },
      },
    );
    rmSync(dir, { recursive: true, force: true });
    renameSync(work, dir);
  }
  const template = JSON.parse(readFileSync(templatePath, 'utf8')) as CfnTemplate;
  return { dir, template } satisfies PackagedService;
}

class SandboxTimeoutError extends Error {
  override name = 'Sandbox.Timedout';
}

/**
 * One function's execution environment: a child process that loads the bundled handler and serves one
 * invocation at a time. Like Lambda, it is started on first use (a cold start), reused while healthy, and
 * replaced after a timeout or a crash.
 */
export class FunctionSandbox {
  private child: ChildProcess | undefined;
  private ready: Promise<void> | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private pending = new Map<string, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  coldStarts = 0;
  invocations = 0;
  /** `process.version` of the running runtime, as it reported when it came up. */
  nodeVersion: string | undefined;

  constructor(
    readonly functionName: string,
    private readonly taskRoot: string,
    private readonly handlerSpec: string,
    private readonly environment: Record<string, string>,
    readonly timeoutMs: number,
    private readonly memoryLimitInMB: number,
    private readonly onOutput?: (functionName: string, line: string) => void,
    /** The node binary the runtime runs on (packaged stacks: the one the template's Runtime names). */
    private readonly nodeExecPath: string = process.execPath,
  ) {}

  /** Invocations are serialised: a Lambda execution environment handles one event at a time. */
  invoke(event: SQSEvent): Promise<SQSBatchResponse | undefined> {
    const run = this.queue.then(() => this.invokeNow(event));
    this.queue = run.catch(() => undefined);
    return run as Promise<SQSBatchResponse | undefined>;
  }

  /** The function as runSqsEventSource calls it. */
  readonly handler = (event: SQSEvent, _context: Context) => this.invoke(event);

  private start(): Promise<void> {
    this.coldStarts += 1;
    const child = fork(SANDBOX_RUNTIME, [this.taskRoot, this.handlerSpec], {
      cwd: this.taskRoot,
      env: this.environment,
      execArgv: [],
      execPath: this.nodeExecPath,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    this.child = child;
    for (const stream of [child.stdout, child.stderr]) {
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        for (const line of chunk.split('\n')) if (line !== '') this.onOutput?.(this.functionName, line);
      });
    }
    child.on('message', (message: { type: string; id?: string; result?: unknown; error?: unknown }) => {
      if (message.type === 'ready' || message.id === undefined) return;
      const waiter = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.type === 'result') waiter?.resolve(message.result);
      else
        waiter?.reject(
          Object.assign(new Error(JSON.stringify(message.error)), { lambdaError: message.error }),
        );
    });
    child.on('exit', (code, signal) => {
      // A runtime killed on timeout was forgotten already; its successor's state is not ours to reset.
      if (this.child !== child) return;
      this.child = undefined;
      this.ready = undefined;
      for (const waiter of this.pending.values())
        waiter.reject(
          new Error(`${this.functionName}: runtime exited (${signal ?? code}) during the invocation`),
        );
      this.pending.clear();
    });
    return new Promise((ready, fail) => {
      child.once('message', (message: { node?: string }) => {
        this.nodeVersion = message.node;
        ready();
      });
      child.once('exit', (code) =>
        fail(new Error(`${this.functionName}: runtime failed to start (${code})`)),
      );
    });
  }

  private async invokeNow(event: SQSEvent): Promise<unknown> {
    this.ready ??= this.start();
    await this.ready;
    const child = this.child!;
    const id = randomUUID();
    this.invocations += 1;
    const deadlineMs = Date.now() + this.timeoutMs;
    const answer = new Promise((resolve, reject) => this.pending.set(id, { resolve, reject }));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => {
        // Lambda freezes and discards an environment whose invocation timed out; the next one starts cold.
        child.kill('SIGKILL');
        // Forget it now, not on 'exit': the next invocation must not be sent to the dying process.
        this.child = undefined;
        this.ready = undefined;
        reject(new SandboxTimeoutError(`Task timed out after ${(this.timeoutMs / 1000).toFixed(2)} seconds`));
      }, this.timeoutMs);
    });
    child.send({
      type: 'invoke',
      id,
      event,
      deadlineMs,
      requestId: id,
      functionName: this.functionName,
      memoryLimitInMB: this.memoryLimitInMB,
    });
    try {
      return await Promise.race([answer, timeout]);
    } finally {
      clearTimeout(timer);
      this.pending.delete(id);
    }
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    const exited = new Promise((done) => child.once('exit', done));
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(killer);
  }
}

export interface PackagedStackOptions {
  service: PackagedService;
  sqs: SQSClient;
  emulator: Pick<SqsEmulator, 'endpoint' | 'queueUrls' | 'dlqUrls' | 'queueArns' | 'dlqArns' | 'queues'>;
  /** Environment variables to replace, per function key (`inference`, `planner`, …) or `'*'` for all. */
  environmentOverrides?: Record<string, Record<string, string>>;
  /** Only these functions (keys); default: every function with an SQS mapping. */
  functions?: string[];
  /** Replaces every mapping's batching window (tests that must not wait seconds per batch). */
  maximumBatchingWindowMs?: number;
  onInvoke?: (functionKey: string, report: InvocationReport) => void;
  onOutput?: (functionKey: string, line: string) => void;
  onError?: (functionKey: string, err: unknown) => void;
}

export interface PackagedStack {
  sandboxes: Map<string, FunctionSandbox>;
  stop(): Promise<void>;
}

/** `InferenceLambdaFunction` → `inference`, the key serverless.yml uses. */
const functionKeyOf = (logicalId: string) =>
  logicalId.replace(/LambdaFunction$/, '').replace(/^./, (c) => c.toLowerCase());

/** Unpacks a zip with the system's unzip (Debian's; Lambda does the same with the uploaded archive). */
function unpack(zipPath: string, into: string): void {
  rmSync(into, { recursive: true, force: true });
  mkdirSync(into, { recursive: true });
  execFileSync('unzip', ['-q', '-o', zipPath, '-d', into]);
}

export async function startPackagedStack(options: PackagedStackOptions): Promise<PackagedStack> {
  const { service, emulator } = options;
  const resources = service.template.Resources;
  const queueByLogicalId = new Map<string, { url: string; arn: string }>();
  for (const def of emulator.queues) {
    // A per-cluster copy is indexed `key@cluster` in the emulator's maps.
    const ref = def.cluster ? `${def.key}@${def.cluster}` : def.key;
    queueByLogicalId.set(def.logicalId, {
      url: emulator.queueUrls[ref]!,
      arn: emulator.queueArns[ref]!,
    });
    queueByLogicalId.set(`${def.logicalId.replace(/Queue$/, '')}DeadLetterQueue`, {
      url: emulator.dlqUrls[ref]!,
      arn: emulator.dlqArns[ref]!,
    });
  }
  const resolveValue = (value: CfnValue, where: string): string => {
    if (typeof value !== 'object') return String(value);
    if ('Ref' in value) {
      const queue = queueByLogicalId.get(value.Ref);
      if (queue) return queue.url;
    } else if ('Fn::Sub' in value) {
      // CLUSTER_QUEUES: `${Queue}` is its URL, `${Queue.Arn}` its ARN (infra/cloudformation.cjs).
      return value['Fn::Sub'].replace(/\$\{([A-Za-z0-9]+)(\.Arn)?\}/g, (whole, id: string, arn?: string) => {
        const queue = queueByLogicalId.get(id);
        if (!queue) throw new Error(`${where}: cannot resolve ${whole} locally`);
        return arn ? queue.arn : queue.url;
      });
    } else {
      const [logicalId, attribute] = value['Fn::GetAtt'];
      const queue = queueByLogicalId.get(logicalId);
      if (queue && attribute === 'Arn') return queue.arn;
      if (queue && attribute === 'QueueUrl') return queue.url;
    }
    throw new Error(`${where}: cannot resolve ${JSON.stringify(value)} locally`);
  };

  const sandboxes = new Map<string, FunctionSandbox>();
  const controller = new AbortController();
  const loops: Promise<void>[] = [];
  const runRoot = join(CACHE_DIR, 'run', 'lambda', `${process.pid}`);

  for (const [logicalId, resource] of Object.entries(resources)) {
    if (resource.Type !== 'AWS::Lambda::EventSourceMapping') continue;
    const mapping = (resource as CfnEventSourceMapping).Properties;
    if (mapping.Enabled === false) continue;
    const target = mapping.FunctionName;
    const functionLogicalId =
      typeof target === 'object' && 'Fn::GetAtt' in target ? target['Fn::GetAtt'][0] : String(target);
    const fn = resources[functionLogicalId] as CfnFunction | undefined;
    if (!fn) throw new Error(`${logicalId}: no function ${functionLogicalId} in the template`);
    const key = functionKeyOf(functionLogicalId);
    if (options.functions && !options.functions.includes(key)) continue;

    let sandbox = sandboxes.get(key);
    if (!sandbox) {
      const zip = join(service.dir, fn.Properties.Code.S3Key.split('/').at(-1)!);
      const taskRoot = join(runRoot, key);
      unpack(zip, taskRoot);
      const environment: Record<string, string> = {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        TZ: 'UTC',
        LANG: 'en_US.UTF-8',
        LAMBDA_TASK_ROOT: taskRoot,
        AWS_LAMBDA_FUNCTION_NAME: fn.Properties.FunctionName,
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.Properties.MemorySize ?? 1024),
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'local',
        AWS_ENDPOINT_URL_SQS: emulator.endpoint,
      };
      for (const [name, value] of Object.entries(fn.Properties.Environment?.Variables ?? {})) {
        // The package's paths are absolute in Lambda (/var/task); here the task root is elsewhere.
        environment[name] = resolveValue(value, `${key}.${name}`).replaceAll('/var/task', taskRoot);
      }
      Object.assign(environment, options.environmentOverrides?.['*'], options.environmentOverrides?.[key]);
      sandbox = new FunctionSandbox(
        key,
        taskRoot,
        fn.Properties.Handler,
        environment,
        (fn.Properties.Timeout ?? 6) * 1000,
        fn.Properties.MemorySize ?? 1024,
        (_, line) => options.onOutput?.(key, line),
        nodeForLambdaRuntime(fn.Properties.Runtime ?? 'unset'),
      );
      sandboxes.set(key, sandbox);
    }

    const queueArn = resolveValue(mapping.EventSourceArn, `${logicalId}.EventSourceArn`);
    const queue = [...queueByLogicalId.values()].find((q) => q.arn === queueArn)!;
    loops.push(
      runSqsEventSource({
        sqs: options.sqs,
        queueUrl: queue.url,
        queueArn,
        handler: sandbox.handler,
        batchSize: mapping.BatchSize ?? 10,
        maximumBatchingWindowMs:
          options.maximumBatchingWindowMs ?? (mapping.MaximumBatchingWindowInSeconds ?? 0) * 1000,
        reportBatchItemFailures: (mapping.FunctionResponseTypes ?? []).includes('ReportBatchItemFailures'),
        functionName: fn.Properties.FunctionName,
        // The sandbox enforces the timeout itself (and kills the runtime); the runner's own limit sits just past it.
        timeoutMs: sandbox.timeoutMs + 1000,
        memoryLimitInMB: fn.Properties.MemorySize ?? 1024,
        waitTimeSeconds: 1,
        signal: controller.signal,
        onInvoke: (report) => options.onInvoke?.(key, report),
        onError: (err) => options.onError?.(key, err),
      }),
    );
  }
  if (sandboxes.size === 0) throw new Error('no SQS-triggered function to run in the packaged template');

  return {
    sandboxes,
    async stop() {
      controller.abort();
      await Promise.all(loops);
      await Promise.all([...sandboxes.values()].map((s) => s.stop()));
      rmSync(runRoot, { recursive: true, force: true });
    },
  };
}
