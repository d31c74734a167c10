// README's first command ends here: the whole loop on one machine, on embedded defaults and no keys. It starts
// the Docker-free stack, injects a memory leak, CPU saturation and a crash loop, and shows shipper → inference →
// planner → executor → verification live; then prints a timeline per fault and writes an HTML report.
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeAction } from '../../../functions/shared/actions/index.js';
import type { UsageAnomaly } from '../../../functions/shared/contracts/index.js';
import { DEMO_FAULTS, DEMO_POLICY, deployFaults } from '../../harness/stack/faults.js';
import { startLocalStack } from '../../harness/stack/local-stack.js';
import { type LoopEvent, LoopObserver, workloadOf } from '../../harness/stack/loop-observer.js';
import { instant, range } from '../../harness/stack/prometheus-query.js';
import { type FaultOutcome, summariseFault } from '../../harness/stack/timeline.js';
import { clock, duration, type PlotMarker, renderReport, type SeriesPlot } from './report/html-report.js';

const NAMESPACE = 'demo';
const STEP_SECONDS = 2;
const TIMEOUT_MS = Number(process.env.KUBEPULSE_DEMO_TIMEOUT_SECONDS ?? 720) * 1000;
const MiB = 2 ** 20;
const tty = process.stdout.isTTY === true;

const out = resolve(process.env.KUBEPULSE_REPORT_DIR ?? 'reports');
mkdirSync(out, { recursive: true });
const logPath = resolve(out, 'e2e-demo.log');
const log = createWriteStream(logPath);
const startedAt = Date.now();
const since = () => `${((Date.now() - startedAt) / 1000).toFixed(0).padStart(4)}s`;
const recent: string[] = [];
const say = (line: string) => {
  const stamped = `${since()}  ${line}`;
  recent.push(stamped);
  if (recent.length > 12) recent.shift();
  log.write(`${stamped}\n`);
  if (!tty) console.log(stamped);
};

function narrate(event: LoopEvent): void {
  if (event.kind === 'anomaly') {
    const a = event.anomaly;
    const what =
      a.source === 'usage'
        ? `${a.signal} ${a.reasons.join('+')} (score ${a.score.toFixed(2)}${
            a.predictedSecondsToLimit !== null ? `, limit in ${duration(a.predictedSecondsToLimit)}` : ''
          })`
        : `${a.event.reason}`;
    const verb =
      a.source === 'event'
        ? 'failure reported'
        : a.status === 'opened'
          ? 'incident opened'
          : 'incident resolved';
    say(`inference  ${verb}: ${workloadOf(a)} ${what}`);
  } else if (event.kind === 'result') {
    const r = event.result;
    say(
      `executor   plan ${r.status}: ${r.steps.map((s) => `${describeAction(s.action)} [${s.status}]`).join(', ')}`,
    );
  } else {
    const a = event.alert;
    say(`notifier   ${a.severity} alert ${a.status}: ${a.title}`);
  }
}

async function liveView(
  prometheusUrl: string,
  outcomes: () => FaultOutcome[],
  observer: LoopObserver,
): Promise<void> {
  const memory = await instant(
    prometheusUrl,
    `max by (pod) (container_memory_working_set_bytes{namespace="${NAMESPACE}"}) / max by (pod) (kube_pod_container_resource_limits{namespace="${NAMESPACE}",resource="memory"})`,
  ).catch(() => []);
  const cpu = await instant(
    prometheusUrl,
    `max by (pod) (rate(container_cpu_usage_seconds_total{namespace="${NAMESPACE}"}[10s])) / max by (pod) (kube_pod_container_resource_limits{namespace="${NAMESPACE}",resource="cpu"})`,
  ).catch(() => []);
  const predicted = await instant(
    prometheusUrl,
    `kubepulse_predicted_memory_ratio{namespace="${NAMESPACE}"}`,
  ).catch(() => []);
  const toLimit = await instant(
    prometheusUrl,
    `min by (pod) (kubepulse_predicted_seconds_to_limit{namespace="${NAMESPACE}"})`,
  ).catch(() => []);
  const lines = [
    `kubepulse demo — ${since()} — shipper → inference → planner → executor → verification (log: ${logPath})`,
    '',
    'pod                          memory/limit                forecast peak  limit in   cpu/limit',
  ];
  for (const m of memory.sort((a, b) => (a.labels.pod ?? '').localeCompare(b.labels.pod ?? ''))) {
    const pod = m.labels.pod ?? '?';
    const c = cpu.find((x) => x.labels.pod === pod)?.v;
    const p = predicted.find((x) => x.labels.pod === pod)?.v;
    const bar = '█'.repeat(Math.max(0, Math.min(20, Math.round(m.v * 20)))).padEnd(20, '·');
    const t = toLimit.find((x) => x.labels.pod === pod)?.v;
    lines.push(
      `${pod.padEnd(28)} ${bar} ${(m.v * 100).toFixed(0).padStart(3)}%  ${
        p === undefined ? '     —' : `${(p * 100).toFixed(0).padStart(5)}%`
      }         ${duration(t ?? null).padEnd(10)} ${c === undefined ? '—' : `${(c * 100).toFixed(0)}%`}`,
    );
  }
  lines.push(
    '',
    'fault                                  detected   lead     plan / action                              outcome',
  );
  for (const o of outcomes()) {
    lines.push(
      `${o.fault.padEnd(38)} ${clock(o.detectedAt).padEnd(10)} ${duration(o.leadTimeSeconds).padEnd(8)} ${o.plan
        .slice(0, 42)
        .padEnd(42)} ${o.outcome}`,
    );
  }
  const llm = observer.invocations.get('planner');
  lines.push(
    '',
    `invocations: ${[...observer.invocations].map(([k, v]) => `${k} ${v.count}`).join(', ') || '—'}${llm ? '' : ''}`,
  );
  lines.push('', ...recent);
  process.stdout.write(`\x1b[2J\x1b[H${lines.join('\n')}\n`);
}

async function plotsFor(
  prometheusUrl: string,
  outcomes: FaultOutcome[],
  from: number,
  to: number,
): Promise<SeriesPlot[]> {
  const plots: SeriesPlot[] = [];
  for (const o of outcomes) {
    const { workload, signal } = o.scenario;
    const selector = `namespace="${NAMESPACE}",pod=~"${workload}-.*"`;
    // A crash loop has no usage worth plotting; its restarts tell the story.
    const isRestarts = signal === 'events';
    const isMemory = signal === 'memory';
    const scale = isMemory ? 1 / MiB : 1;
    const usageExpr = isRestarts
      ? `max(kube_pod_container_status_restarts_total{${selector}})`
      : isMemory
        ? `max(container_memory_working_set_bytes{${selector}})`
        : `max(rate(container_cpu_usage_seconds_total{${selector}}[10s]))`;
    const limitExpr = `max(kube_pod_container_resource_limits{${selector},resource="${isMemory ? 'memory' : 'cpu'}"})`;
    const [usage] = await range(prometheusUrl, usageExpr, from, to, STEP_SECONDS).catch(() => []);
    const [limit] = isRestarts
      ? []
      : await range(prometheusUrl, limitExpr, from, to, STEP_SECONDS).catch(() => []);
    const limitSteps = (limit?.points ?? []).filter((p, i, all) => i === 0 || p.v !== all[i - 1]!.v);
    const forecasts = o.anomalies
      .filter((a): a is UsageAnomaly => a.source === 'usage' && a.status === 'opened')
      .map((a) => {
        const k = (a.normalisation.denominator * scale) as number;
        return {
          at: a.asOf,
          horizonsSeconds: a.forecast.horizonsSeconds,
          values: a.forecast.values.map((v) => v * k),
          lower: a.forecast.lower.map((v) => v * k),
          upper: a.forecast.upper.map((v) => v * k),
        };
      });
    const markers: PlotMarker[] = [{ t: o.faultBeganAt!, kind: 'fault', label: 'fault injected' }];
    if (o.detectedAt) markers.push({ t: o.detectedAt, kind: 'detected', label: 'detected' });
    if (o.failurePredictedFor && o.scenario.signal === 'memory')
      markers.push({ t: o.failurePredictedFor, kind: 'predicted-failure', label: 'OOM predicted for' });
    if (o.actionAppliedAt) markers.push({ t: o.actionAppliedAt, kind: 'action', label: 'action applied' });
    if (o.recoveryVerifiedAt)
      markers.push({ t: o.recoveryVerifiedAt, kind: 'verified', label: 'recovery verified' });
    for (const f of o.failures)
      markers.push({ t: Date.parse(f.event.observedAt) / 1000, kind: 'failure', label: f.event.reason });
    const escalation = o.alerts.find((a) => a.status === 'firing' && !a.planId);
    if (o.escalated && escalation)
      markers.push({ t: Date.parse(escalation.createdAt) / 1000, kind: 'escalated', label: 'human paged' });
    plots.push({
      title: `${NAMESPACE}/${workload} — ${o.fault}`,
      unit: isRestarts ? 'restarts' : isMemory ? 'MiB' : 'cores',
      usage: (usage?.points ?? []).map((p) => ({ t: p.t, v: p.v * scale })),
      limit: limitSteps.map((p) => ({ t: p.t, v: p.v * scale })),
      forecasts,
      markers,
    });
  }
  return plots;
}

async function main(): Promise<void> {
  console.log(
    'kubepulse demo: starting the local stack (the first run builds the control plane: minutes, with progress)',
  );
  const observer = new LoopObserver(narrate);
  const stack = await startLocalStack({
    clusterId: 'demo',
    namespaces: [NAMESPACE],
    speed: 1,
    stepSeconds: STEP_SECONDS,
    policy: DEMO_POLICY,
    onProgress: (line) => console.log(`  ${since()}  ${line}`),
    onInvoke: observer.onInvoke,
    onLog: (source, line) => log.write(`[${source}] ${line}\n`),
  });
  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    await stack.stop();
    log.end();
  };
  process.once('SIGINT', () => void shutdown().then(() => process.exit(130)));
  try {
    say(
      `LLM: ${
        stack.llm.kind === 'fake'
          ? 'fake Gemini (set GEMINI_API_KEY for the real one)'
          : stack.llm.kind === 'real'
            ? 'Gemini'
            : `OpenAI-compatible at ${stack.llm.baseUrl}`
      }`,
    );
    const deployedAt = await deployFaults(stack.kubeConfig, NAMESPACE, DEMO_FAULTS);
    for (const fault of DEMO_FAULTS) say(`cluster    ${fault.workload}: ${fault.title} injected`);
    const outcomes = () =>
      DEMO_FAULTS.map((f) => summariseFault(f, NAMESPACE, deployedAt.get(f.workload)!, observer));
    const deadline = Date.now() + TIMEOUT_MS;
    let lastView = 0;
    while (Date.now() < deadline && !outcomes().every((o) => o.done)) {
      if (tty && Date.now() - lastView > 1000) {
        await liveView(stack.prometheusUrl, outcomes, observer);
        lastView = Date.now();
      }
      await sleep(250);
    }
    // A little more, so the plots show the recovery.
    await sleep(30_000);
    const final = outcomes();
    const from = Math.floor(Math.min(...deployedAt.values()) / 1000) - 10;
    const to = Math.floor(Date.now() / 1000);
    const plots = await plotsFor(stack.prometheusUrl, final, from, to);
    const reportPath = resolve(out, 'e2e-demo.html');
    const llmCalls = stack.llm.kind === 'fake' ? stack.llm.fake.requests.length : `n/a (${stack.llm.kind})`;
    writeFileSync(
      reportPath,
      renderReport({
        title: 'kubepulse · end-to-end demo',
        generatedAt: new Date(),
        summary: {
          'faults injected': final.length,
          'ended as expected': final.filter((o) => o.done).length,
          'plans applied': final.reduce((n, o) => n + o.plansApplied, 0),
          'LLM calls': llmCalls,
          'alerts delivered (Slack / PagerDuty / webhook)': `${stack.receivers.slack.accepted().length} / ${stack.receivers.pagerDuty.accepted().length} / ${stack.receivers.webhook.accepted().length}`,
          'step (s)': STEP_SECONDS,
        },
        timeline: final,
        plots,
      }),
    );
    if (tty) await liveView(stack.prometheusUrl, () => final, observer);
    console.log('\nTimeline per fault');
    for (const o of final) {
      console.log(
        `- ${o.fault} (${NAMESPACE}/${o.target}): began ${clock(o.faultBeganAt)}, failure predicted for ${clock(
          o.failurePredictedFor,
        )}, detected ${clock(o.detectedAt)} (lead ${duration(o.leadTimeSeconds)}), ${o.plan}, applied ${clock(
          o.actionAppliedAt,
        )}, verified ${clock(o.recoveryVerifiedAt)} → ${o.outcome}`,
      );
    }
    console.log(`\nReport: ${reportPath}\nLogs:   ${logPath}`);
    process.exitCode = final.every((o) => o.done) ? 0 : 1;
  } finally {
    await shutdown();
  }
}

await main();
