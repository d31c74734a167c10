// The local demo of the scoring path: synthetic pods → samples queue → inference Lambda (run with Lambda's SQS
// event-source semantics) → anomalies queue, on a private Redis and the in-process SQS emulator. Shows a live
// view, ends with a timeline per pod and writes an HTML report with a plot.
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import type { Anomaly, UsageAnomaly } from '../../../functions/shared/contracts/index.js';
import { decodeMessageBody, encodeMessageBody } from '../../../functions/shared/contracts/index.js';
import { runSqsEventSource } from '../../harness/lambda-runner/sqs-event-source.js';
import { localInferenceEnv } from '../../harness/support/inference-env.js';
import {
  GiB,
  inventoryFor,
  noise,
  type SyntheticPod,
  sampleBatches,
} from '../../harness/support/pod-series.js';
import { PrivateRedisServer } from '../../harness/support/redis-server.js';
import { localSqsClient } from '../../standins/sqs/client.js';
import { startSqsEmulator } from '../../standins/sqs/emulator.js';

const STEP = 30;
const START = Math.floor(Date.UTC(2026, 10, 21, 9, 0, 0) / 1000);
const STEPS = 240;
const STEPS_PER_TICK = 4;
const OOM_STEP = 230;

const leak = noise(11);
const calm = noise(12);
const pods: SyntheticPod[] = [
  {
    namespace: 'shop',
    pod: 'cart-6f7d9-k2x4q',
    container: 'app',
    limitBytes: GiB,
    // Steady for an hour, then a leak that would reach the limit at OOM_STEP.
    memoryAt: (s) =>
      GiB *
      (s < 100 ? 0.42 + 0.006 * leak(s) : 0.42 + (0.58 * (s - 100)) / (OOM_STEP - 100) + 0.006 * leak(s)),
  },
  {
    namespace: 'shop',
    pod: 'search-5c8b7-p9w2d',
    container: 'app',
    limitBytes: 2 * GiB,
    // A GC sawtooth: busy but healthy, the kind of series that fools a naive threshold.
    memoryAt: (s) => 2 * GiB * (0.45 + 0.15 * ((s % 24) / 24) + 0.005 * calm(s)),
  },
];

async function main() {
  const out = resolve(process.env.KUBEPULSE_REPORT_DIR ?? 'reports');
  mkdirSync(out, { recursive: true });
  const redis = await PrivateRedisServer.start();
  const emulator = await startSqsEmulator({ port: 0, clusters: ['demo'] });
  const sqs = localSqsClient(emulator.endpoint);
  Object.assign(process.env, localInferenceEnv(redis.url, emulator));
  const { handler, shutdown } = await import('../../../functions/inference/handler.js');
  const abort = new AbortController();
  let invocations = 0;
  const lambda = runSqsEventSource({
    sqs,
    queueUrl: emulator.queueUrls.samples!,
    queueArn: emulator.queueArns.samples!,
    handler,
    batchSize: 10,
    maximumBatchingWindowMs: 200,
    waitTimeSeconds: 1,
    signal: abort.signal,
    onInvoke: () => {
      invocations++;
    },
  });

  const anomalies: Anomaly[] = [];
  const collect = async () => {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: emulator.queueUrls.anomalies,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
      }),
    );
    for (const m of Messages) {
      anomalies.push(decodeMessageBody(m.Body!) as Anomaly);
      await sqs.send(
        new DeleteMessageCommand({ QueueUrl: emulator.queueUrls.anomalies, ReceiptHandle: m.ReceiptHandle! }),
      );
    }
  };

  const send = (bodies: string[]) =>
    sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: emulator.queueUrls.samples,
        Entries: bodies.map((body, i) => ({ Id: String(i), MessageBody: body })),
      }),
    );
  await send([encodeMessageBody(inventoryFor('demo', pods))]);
  const batches = sampleBatches('demo', pods, {
    from: 0,
    to: STEPS,
    stepsPerBatch: STEPS_PER_TICK,
    startAt: START,
    stepSeconds: STEP,
  });
  for (const [tick, batch] of batches.entries()) {
    const step = Math.min((tick + 1) * STEPS_PER_TICK, STEPS);
    const bodies = [encodeMessageBody(batch)];
    if (step >= OOM_STEP && step - STEPS_PER_TICK < OOM_STEP) {
      bodies.push(
        encodeMessageBody({
          schemaVersion: 1,
          kind: 'failure-events',
          clusterId: 'demo',
          batchId: 'oom-1',
          sentAt: new Date((START + OOM_STEP * STEP) * 1000).toISOString(),
          events: [
            {
              eventId: 'cart-6f7d9-k2x4q-app-restart-1',
              reason: 'OOMKilled',
              observedAt: new Date((START + OOM_STEP * STEP) * 1000).toISOString(),
              namespace: 'shop',
              pod: 'cart-6f7d9-k2x4q',
              container: 'app',
              message: 'Container app exceeded its memory limit (1Gi)',
            },
          ],
        }),
      );
    }
    await send(bodies);
    await sleep(60);
    await collect();
    render(step, invocations, anomalies);
  }
  for (let i = 0; i < 20; i++) {
    await sleep(150);
    await collect();
  }
  abort.abort();
  await lambda;
  render(STEPS, invocations, anomalies);

  const timeline = timelineOf(anomalies);
  process.stdout.write('\n\nTimeline\n');
  for (const line of timeline) process.stdout.write(`  ${line}\n`);
  const reportPath = resolve(out, 'inference-demo.html');
  writeFileSync(reportPath, htmlReport(anomalies, timeline));
  process.stdout.write(`\nReport: ${reportPath}\n`);

  await shutdown();
  sqs.destroy();
  await emulator.close();
  await redis.close();
}

const clock = (unix: number) => new Date(unix * 1000).toISOString().slice(11, 16);

function render(step: number, invocations: number, anomalies: Anomaly[]) {
  const lines = [
    `kubepulse · scoring path demo · simulated time ${clock(START + step * STEP)} UTC · step ${step}/${STEPS} · ${invocations} Lambda invocations`,
    '',
  ];
  for (const pod of pods) {
    const ratio = pod.memoryAt(Math.max(step - 1, 0)) / pod.limitBytes;
    const bar = '█'.repeat(Math.round(ratio * 30)).padEnd(30, '·');
    const mine = anomalies.filter((a) => a.target.pod === pod.pod && a.status === 'opened');
    const usage = mine.filter((a): a is UsageAnomaly => a.source === 'usage').at(-1);
    const event = mine.find((a) => a.source === 'event');
    const notes = [
      usage
        ? `INCIDENT ${usage.reasons.join('+')} · limit predicted ${usage.predictedLimitAt ? clock(Date.parse(usage.predictedLimitAt) / 1000) : 'n/a'}`
        : '',
      event?.source === 'event' ? `EVENT ${event.event.reason}` : '',
    ].filter(Boolean);
    const note = notes.length > 0 ? notes.join(' · ') : 'ok';
    lines.push(`  ${pod.pod.padEnd(22)} ${bar} ${(ratio * 100).toFixed(0).padStart(3)}% of limit   ${note}`);
  }
  lines.push('', `  anomaly messages: ${anomalies.length}`);
  process.stdout.write(`\x1b[H\x1b[2J${lines.join('\n')}\n`);
}

function timelineOf(anomalies: Anomaly[]): string[] {
  const lines: string[] = [];
  const leakPod = pods[0]!;
  lines.push(`${clock(START + 100 * STEP)}  ${leakPod.pod}: leak begins (simulated)`);
  for (const a of anomalies) {
    if (a.source === 'usage') {
      const lead =
        a.predictedSecondsToLimit === null
          ? ''
          : ` · predicted limit at ${clock(Date.parse(a.predictedLimitAt!) / 1000)}`;
      lines.push(
        `${clock(a.asOf)}  ${a.target.pod}: incident ${a.status} (${a.reasons.join('+')}, score ${a.score})${lead}`,
      );
    } else {
      lines.push(
        `${clock(Date.parse(a.detectedAt) / 1000)}  ${a.target.pod}: ${a.event.reason} reported by the cluster`,
      );
    }
  }
  const detected = anomalies.find(
    (a) => a.source === 'usage' && a.target.pod === leakPod.pod && a.status === 'opened',
  );
  if (detected?.source === 'usage') {
    lines.push(
      `lead time: ${((START + OOM_STEP * STEP - detected.asOf) / 60).toFixed(1)} min before the OOM kill`,
    );
  } else {
    lines.push('the leak was NOT detected before the OOM kill');
  }
  return lines;
}

function htmlReport(anomalies: Anomaly[], timeline: string[]): string {
  const width = 900;
  const height = 260;
  const x = (step: number) => 50 + (step / STEPS) * (width - 70);
  const y = (ratio: number) => height - 30 - ratio * (height - 50);
  const charts = pods.map((pod) => {
    const path = Array.from(
      { length: STEPS },
      (_, s) => `${s === 0 ? 'M' : 'L'}${x(s).toFixed(1)},${y(pod.memoryAt(s) / pod.limitBytes).toFixed(1)}`,
    ).join(' ');
    const marks = anomalies
      .filter((a): a is UsageAnomaly => a.source === 'usage' && a.target.pod === pod.pod)
      .map((a) => {
        const step = (a.asOf - START) / STEP;
        const forecast = a.forecast.horizonsSeconds
          .map((h, i) => `${x(step + h / STEP).toFixed(1)},${y(a.forecast.values[i]!).toFixed(1)}`)
          .join(' ');
        const band = [
          ...a.forecast.horizonsSeconds.map(
            (h, i) => `${x(step + h / STEP).toFixed(1)},${y(a.forecast.upper[i]!).toFixed(1)}`,
          ),
          ...a.forecast.horizonsSeconds
            .map((h, i) => `${x(step + h / STEP).toFixed(1)},${y(a.forecast.lower[i]!).toFixed(1)}`)
            .reverse(),
        ].join(' ');
        return `<polygon points="${band}" fill="#f4a26133"/><polyline points="${x(step)},${y(a.window.last)} ${forecast}" fill="none" stroke="#e76f51" stroke-dasharray="4 3"/>
          <line x1="${x(step)}" x2="${x(step)}" y1="20" y2="${height - 30}" stroke="${a.status === 'opened' ? '#d62828' : '#2a9d8f'}"/>
          <text x="${x(step) + 4}" y="32" font-size="11">${a.status} ${clock(a.asOf)}</text>`;
      })
      .join('');
    const oom =
      pod === pods[0]
        ? `<line x1="${x(OOM_STEP)}" x2="${x(OOM_STEP)}" y1="20" y2="${height - 30}" stroke="#000" stroke-dasharray="2 2"/><text x="${x(OOM_STEP) + 4}" y="48" font-size="11">OOM</text>`
        : '';
    return `<h3>${pod.namespace}/${pod.pod} · memory / limit</h3>
      <svg width="${width}" height="${height}" style="background:#fafafa">
        <line x1="50" x2="${width - 20}" y1="${y(1)}" y2="${y(1)}" stroke="#999" stroke-dasharray="6 4"/><text x="8" y="${y(1) + 4}" font-size="11">limit</text>
        <text x="8" y="${y(0.5) + 4}" font-size="11">50%</text>
        <path d="${path}" fill="none" stroke="#264653" stroke-width="1.5"/>${marks}${oom}
      </svg>`;
  });
  return `<!doctype html><html><head><meta charset="utf-8"><title>kubepulse · scoring path demo</title>
    <style>body{font-family:system-ui,sans-serif;margin:24px;max-width:960px} pre{background:#f4f4f4;padding:12px}</style></head>
    <body><h1>kubepulse · scoring path demo</h1>
    <p>Synthetic pods through the real inference Lambda (SQS event-source semantics), Redis and the SQS emulator.
    Dashed orange: the forecast with its 90% band at each incident; red line: incident opened; green: resolved.</p>
    ${charts.join('\n')}
    <h2>Timeline</h2><pre>${timeline.join('\n')}</pre></body></html>`;
}

await main();
process.exit(0);
