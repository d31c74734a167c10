// npm run bench:inference — the real inference handler against a real Redis with synthetic load.
// Prints progress to stderr and, as its last stdout line, one JSON object with the figures.
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { build } from 'esbuild';
import { loadModelBundle } from '../../functions/inference/adapters/model-bundle.js';
import {
  createOrtWindowScorer,
  loadOrtWeb,
  type OrtModule,
} from '../../functions/inference/adapters/ort-window-scorer.js';
import type { InferenceConfig } from '../../functions/inference/config.js';
import { DEFAULT_DETECTION_POLICY } from '../../functions/inference/core/defaults.js';
import type { InferenceDeps } from '../../functions/inference/core/process-batch.js';
import { handleSamplesEvent } from '../../functions/inference/handle-samples-event.js';
import { createInferenceRuntime } from '../../functions/inference/runtime.js';
import {
  encodeMessageBody,
  type PredictionDigest,
  type SampleBatch,
} from '../../functions/shared/contracts/index.js';
import { DEPLOYED_BUNDLE_OPTIONS } from '../../infra/esbuild-options.js';
import { GiB, inventoryFor, noise, type SyntheticPod } from '../../local/harness/support/pod-series.js';
import { PrivateRedisServer } from '../../local/harness/support/redis-server.js';
import { localSqsClient } from '../../local/standins/sqs/client.js';
import { startSqsEmulator } from '../../local/standins/sqs/emulator.js';
import { errorsOnlyLogger } from '../support/loggers.js';

const SERIES = Number(process.env.BENCH_SERIES ?? 2000);
const RECORDS_PER_INVOCATION = 10;
const TIMED_INVOCATIONS = Number(process.env.BENCH_INVOCATIONS ?? 12);
const STEP = 30;
const START = 1_790_000_000;
const MODEL_DIR = resolve('models/dist');

const status = (text: string) => process.stderr.write(`\r\x1b[2K[bench:inference] ${text}`);
const done = (text: string) => process.stderr.write(`\r\x1b[2K[bench:inference] ${text}\n`);

function podsFor(count: number): SyntheticPod[] {
  return Array.from({ length: count }, (_, i) => {
    const jitter = noise(i);
    const leaking = i % 50 === 0;
    return {
      namespace: `team-${i % 20}`,
      pod: `svc-${i}-7d9f-x${i}`,
      container: 'app',
      limitBytes: GiB,
      memoryAt: (s: number) =>
        // Most series sit at their own level with noise, as most pods do; one in fifty leaks.
        GiB * (leaking ? 0.3 + s * 0.002 : 0.3 + (0.4 * ((i * 37) % 100)) / 100) + GiB * 0.01 * jitter(s),
    };
  });
}

/** One record per step: every series' sample at that step, as the shipper sends them. */
function stepRecord(pods: SyntheticPod[], step: number): SQSRecord {
  const batch: SampleBatch = {
    schemaVersion: 1,
    kind: 'sample-batch',
    clusterId: 'bench',
    batchId: `step-${step}`,
    sentAt: new Date((START + step * STEP) * 1000).toISOString(),
    stepSeconds: STEP,
    series: pods.map((p) => ({
      metric: 'memory_working_set_bytes' as const,
      namespace: p.namespace,
      pod: p.pod,
      container: p.container,
      samples: [[START + step * STEP, Math.round(p.memoryAt(step))]],
    })),
  };
  return sqsRecord(`m-${step}`, encodeMessageBody(batch));
}

/** The bench's one cluster's samples queue: the record's cluster is the queue it came from. */
const SAMPLES_ARN = 'arn:aws:sqs:us-east-1:123456789012:kubepulse-local-samples-bench';

function sqsRecord(messageId: string, body: string): SQSRecord {
  return {
    messageId,
    receiptHandle: messageId,
    body,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: String(Date.now()),
      SenderId: 'bench',
      ApproximateFirstReceiveTimestamp: String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: SAMPLES_ARN,
    awsRegion: 'us-east-1',
  };
}

/**
 * The same runtime with its phases timed (Powertools validation, Redis load, scoring, Redis commit, sending the
 * prediction digests to the in-process SQS emulator): what the
 * end-to-end figure is made of, for stderr only. A few performance.now() calls per invocation cost nothing measurable.
 */
function withPhaseTimers(runtime: Awaited<ReturnType<typeof createInferenceRuntime>>) {
  const phases = { validate: 0, load: 0, score: 0, commit: 0, relay: 0 };
  const timedCall =
    <A extends unknown[], R>(phase: keyof typeof phases, call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      const started = performance.now();
      try {
        return await call(...args);
      } finally {
        phases[phase] += performance.now() - started;
      }
    };
  const { store, scorer } = runtime.core;
  const validator = Object.create(runtime.validator) as typeof runtime.validator;
  validator.process = timedCall('validate', () => runtime.validator.process());
  validator.register = (...args) => runtime.validator.register(...args);
  const relay = runtime.predictionRelay;
  const timed = {
    ...runtime,
    ...(relay
      ? {
          predictionRelay: { send: timedCall('relay', (digests: PredictionDigest[]) => relay.send(digests)) },
        }
      : {}),
    validator,
    core: {
      ...runtime.core,
      store: {
        load: timedCall('load', (request) => store.load(request)),
        commit: timedCall('commit', (commits, events) => store.commit(commits, events)),
        loadLineages: timedCall('load', (keys) => store.loadLineages(keys)),
      },
      scorer: { metadata: scorer.metadata, score: timedCall('score', (w, n) => scorer.score(w, n)) },
    } satisfies InferenceDeps,
  };
  return { timed, phases };
}

async function measureModel(
  ort: OrtModule,
  provider: 'wasm' | 'cpu',
  rows: number,
  rounds: number,
): Promise<{ modelOnly: number; withFeatures: number }> {
  const bundle = await loadModelBundle(MODEL_DIR);
  const scorer = await createOrtWindowScorer(ort, bundle, provider);
  const width = bundle.metadata.window;
  const windows = new Float32Array(rows * width);
  for (let i = 0; i < windows.length; i++) windows[i] = 0.4 + 0.1 * Math.sin(i / 7);
  // Model calls only, as the figure is defined: the inputs (relative windows, features) are built once, untimed.
  const inputs = scorer.prepare(windows, rows);
  await scorer.run(inputs);
  let started = performance.now();
  for (let r = 0; r < rounds; r++) await scorer.run(inputs);
  const modelOnly = (rows * rounds) / ((performance.now() - started) / 1000);
  started = performance.now();
  for (let r = 0; r < rounds; r++) await scorer.score(windows, rows);
  const withFeatures = (rows * rounds) / ((performance.now() - started) / 1000);
  return { modelOnly, withFeatures };
}

/** BENCH_PROFILE=<file>: a V8 CPU profile of the timed invocations only (open it in Chrome DevTools or speedscope). */
async function startProfile(path: string | undefined): Promise<{ stop(): Promise<void> }> {
  if (!path) return { async stop() {} };
  const { Session } = await import('node:inspector/promises');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return {
    async stop() {
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(path, JSON.stringify(profile));
      session.disconnect();
      done(`CPU profile of the timed invocations: ${path}`);
    },
  };
}

/**
 * The floor under the cold start: a fresh `node` that only loads onnxruntime-web, creates both sessions and scores
 * one window. Nothing the handler adds (bundle, clients, Redis, SQS) is in it.
 */
async function measureOrtColdStart(): Promise<number> {
  const script = `
    const { readFileSync } = await import('node:fs');
    const ort = await import('onnxruntime-web');
    ort.env.wasm.numThreads = 1;
    const dir = ${JSON.stringify(MODEL_DIR)};
    const meta = JSON.parse(readFileSync(dir + '/metadata.json', 'utf8'));
    const options = { graphOptimizationLevel: 'all', executionProviders: ['wasm'] };
    const [forecaster, classifier] = await Promise.all([
      ort.InferenceSession.create(readFileSync(dir + '/' + meta.forecaster.file), options),
      ort.InferenceSession.create(readFileSync(dir + '/' + meta.classifier.file), options),
    ]);
    const features = meta.classifier.features.length;
    await Promise.all([
      forecaster.run({ [meta.forecaster.input.name]: new ort.Tensor('float32', new Float32Array(meta.window), [1, meta.window]) }),
      classifier.run({ [meta.classifier.input.name]: new ort.Tensor('float32', new Float32Array(features), [1, features]) }),
    ]);
    console.log(JSON.stringify({ ms: performance.now() }));`;
  const runs: number[] = [];
  for (let i = 0; i < 3; i++) {
    const child = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    runs.push(JSON.parse(child.stdout.trim().split('\n').at(-1)!).ms);
  }
  return runs.sort((a, b) => a - b)[1]!;
}

/** Fresh `node` running the esbuild bundle Lambda would run: process start to the first scored batch. */
async function measureColdStart(
  redisUrl: string,
  anomaliesQueueUrl: string,
  dlqUrl: string,
  endpoint: string,
  firstFreshStep: number,
) {
  const dir = mkdtempSync(join(tmpdir(), 'kubepulse-cold-'));
  try {
    // What Lambda runs: serverless.yml's esbuild settings (minified, names kept), not a debug build.
    await build({
      ...DEPLOYED_BUNDLE_OPTIONS,
      entryPoints: ['functions/inference/handler.ts'],
      outfile: join(dir, 'handler.mjs'),
    });
    const ortDist = dirname(
      createRequire(import.meta.url).resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm'),
    );
    for (const file of ['ort-wasm-simd-threaded.wasm', 'ort-wasm-simd-threaded.mjs']) {
      copyFileSync(join(ortDist, file), join(dir, file));
    }
    const runs: number[] = [];
    for (let i = 0; i < 3; i++) {
      // A step Redis has not seen, with full windows behind it, so the first invocation really scores.
      const event: SQSEvent = { Records: [stepRecord(podsFor(50), firstFreshStep + i)] };
      writeFileSync(
        join(dir, 'cold.mjs'),
        `const { handler } = await import('./handler.mjs');
         const response = await handler(${JSON.stringify(event)}, { awsRequestId: 'cold', getRemainingTimeInMillis: () => 30000 });
         if (response.batchItemFailures.length > 0) throw new Error('cold invocation failed');
         console.log(JSON.stringify({ ms: performance.now() }));
         process.exit(0);`,
      );
      // Asynchronous: the SQS emulator the child publishes to runs in this process and must keep serving.
      // BENCH_COLD_PROFILE_DIR: write a V8 CPU profile of each cold start there (chrome://inspect or speedscope).
      const profileDir = process.env.BENCH_COLD_PROFILE_DIR;
      const profileArgs = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${resolve(profileDir)}`] : [];
      profileArgs.push(...(process.env.BENCH_COLD_NODE_ARGS ?? '').split(' ').filter(Boolean));
      const child = await promisify(execFile)(process.execPath, [...profileArgs, join(dir, 'cold.mjs')], {
        env: {
          ...process.env,
          REDIS_URL: redisUrl,
          ANOMALIES_QUEUE_URL: anomaliesQueueUrl,
          SAMPLES_DLQ_URL: dlqUrl,
          MODEL_DIR,
          ORT_WASM_DIR: dir,
          AWS_ENDPOINT_URL_SQS: endpoint,
          AWS_REGION: 'us-east-1',
          AWS_ACCESS_KEY_ID: 'local',
          AWS_SECRET_ACCESS_KEY: 'local',
          POWERTOOLS_LOG_LEVEL: 'ERROR',
        },
        encoding: 'utf8',
        timeout: 60_000,
      });
      // performance.now() in the child counts from its own process start.
      runs.push(JSON.parse(child.stdout.trim().split('\n').at(-1)!).ms);
    }
    return runs.sort((a, b) => a - b)[1]!;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main() {
  const redisServer = await PrivateRedisServer.start();
  const emulator = await startSqsEmulator({ port: 0 });
  const sqs = localSqsClient(emulator.endpoint);
  try {
    const config: InferenceConfig = {
      redisUrl: redisServer.url,
      anomaliesQueueUrl: emulator.queueUrls.anomalies!,
      clusters: {
        byCluster: new Map([
          [
            'bench',
            {
              samplesQueueArn: SAMPLES_ARN,
              samplesDlqUrl: emulator.dlqUrls.samples!,
              predictionsQueueUrl: emulator.queueUrls.predictions!,
            },
          ],
        ]),
        bySource: new Map([[SAMPLES_ARN, 'bench']]),
      },
      modelDir: MODEL_DIR,
      ortWasmDir: undefined,
      windowTtlSeconds: 3600,
      inventoryTtlSeconds: 3600,
      eventDedupTtlSeconds: 3600,
      windowSlack: 64,
      policy: DEFAULT_DETECTION_POLICY,
      redisCommandTimeoutMs: 5000,
      pushgatewayUrl: undefined,
      stage: 'bench',
    };
    const runtime = await createInferenceRuntime(config, errorsOnlyLogger, { sqs });
    const window = runtime.core.scorer.metadata.window;
    const pods = podsFor(SERIES);

    // Warm-up: fill every window, untimed.
    await handleSamplesEvent(
      [sqsRecord('inventory', encodeMessageBody(inventoryFor('bench', pods)))],
      runtime,
    );
    for (let step = 0; step < window; step += RECORDS_PER_INVOCATION) {
      status(`warming windows: step ${step}/${window} for ${SERIES} series`);
      const records = Array.from({ length: RECORDS_PER_INVOCATION }, (_, k) => stepRecord(pods, step + k));
      await handleSamplesEvent(records, runtime);
    }

    // Timed: every sample now completes a window, so every sample is scored.
    const events: SQSRecord[][] = [];
    for (let i = 0; i < TIMED_INVOCATIONS; i++) {
      const first = window + 10 + i * RECORDS_PER_INVOCATION;
      events.push(Array.from({ length: RECORDS_PER_INVOCATION }, (_, k) => stepRecord(pods, first + k)));
    }
    let samples = 0;
    let roundTrips = 0;
    let windows = 0;
    const { timed, phases } = withPhaseTimers(runtime);
    const profile = await startProfile(process.env.BENCH_PROFILE);
    const started = performance.now();
    for (const [i, records] of events.entries()) {
      const { outcome, failures } = await handleSamplesEvent(records, timed);
      if (failures.size > 0)
        throw new Error(`bench invocation failed: ${[...failures.values()][0]?.message}`);
      samples += outcome.stats.samplesIn;
      roundTrips += outcome.stats.redisRoundTrips;
      windows += outcome.stats.windowsScored;
      status(
        `invocation ${i + 1}/${events.length}: ${outcome.stats.samplesIn} samples, ${outcome.stats.windowsScored} windows`,
      );
    }
    const elapsed = (performance.now() - started) / 1000;
    await profile.stop();
    const samplesPerSecond = samples / elapsed;
    done(`end to end: ${samples} samples (${windows} windows) in ${elapsed.toFixed(2)} s`);
    const perInvocation = (ms: number) => (ms / events.length).toFixed(1);
    done(
      `ms per invocation: validate ${perInvocation(phases.validate)}, load ${perInvocation(phases.load)}, score ${perInvocation(phases.score)}, commit ${perInvocation(phases.commit)}, relay ${perInvocation(phases.relay)}, rest ${perInvocation(elapsed * 1000 - Object.values(phases).reduce((a, b) => a + b))}`,
    );
    await runtime.close();

    const rowsPerInvocation = SERIES * RECORDS_PER_INVOCATION;
    status('model only, onnxruntime-web (WASM)…');
    const wasm = await measureModel(await loadOrtWeb(undefined), 'wasm', rowsPerInvocation, 5);
    status('model only, onnxruntime-node (native)…');
    const ortNode = (await import('onnxruntime-node')) as unknown as OrtModule;
    const native = await measureModel(ortNode, 'cpu', rowsPerInvocation, 5);
    done(
      `model calls only: wasm ${wasm.modelOnly.toFixed(0)} windows/s, native ${native.modelOnly.toFixed(0)} windows/s; with feature extraction: wasm ${wasm.withFeatures.toFixed(0)}, native ${native.withFeatures.toFixed(0)}`,
    );

    status('cold start (esbuild bundle, fresh node process)…');
    const coldStartMs = await measureColdStart(
      redisServer.url,
      emulator.queueUrls.anomalies!,
      emulator.dlqUrls.samples!,
      emulator.endpoint,
      window + 10 + TIMED_INVOCATIONS * RECORDS_PER_INVOCATION + 5,
    );
    done(`cold start: ${coldStartMs.toFixed(0)} ms`);
    status('onnxruntime-web alone, fresh node process…');
    const ortColdStartMs = await measureOrtColdStart();
    done(`onnxruntime-web alone (both sessions, one window scored): ${ortColdStartMs.toFixed(0)} ms`);

    const round = (x: number, digits = 0) => Number(x.toFixed(digits));
    console.log(
      JSON.stringify({
        series: SERIES,
        samples_per_invocation: rowsPerInvocation,
        samples_per_s: round(samplesPerSecond),
        model_windows_per_s: round(wasm.modelOnly),
        native_model_windows_per_s: round(native.modelOnly),
        scorer_windows_per_s: round(wasm.withFeatures),
        e2e_over_model: round(samplesPerSecond / wasm.modelOnly, 3),
        wasm_over_native: round(wasm.modelOnly / native.modelOnly, 3),
        redis_round_trips_per_invocation: round(roundTrips / events.length, 2),
        cold_start_ms: round(coldStartMs),
        ort_cold_start_ms: round(ortColdStartMs),
        peak_rss_mb: round(process.resourceUsage().maxRSS / 1024),
      }),
    );
  } finally {
    sqs.destroy();
    await emulator.close();
    await redisServer.close();
  }
}

await main();
process.exit(0);
