// npm run bench:e2e — the closed loop measured on the local stack, twice: with the fake Gemini answering at once
// (so detection → verified fix measures kubepulse, not the LLM) and with a realistic LLM latency. Prints progress,
// a table, and as its last line one JSON object.
import { appendFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CPU_SATURATION,
  CRASH_LOOP,
  DEMO_POLICY,
  deployFaults,
  type FaultScenario,
  MEMORY_LEAK,
  removeFaults,
} from '../../local/harness/stack/faults.js';
import { startLocalStack } from '../../local/harness/stack/local-stack.js';
import { LoopObserver } from '../../local/harness/stack/loop-observer.js';
import { watchRemediations } from '../../local/harness/stack/remediation-watch.js';
import { type FaultOutcome, type LatencyStages, summariseFault } from '../../local/harness/stack/timeline.js';

const NAMESPACE = 'bench';
const MiB = 2 ** 20;
/** What a Gemini Flash call with a structured answer of this size takes, order of magnitude. */
const REALISTIC_LLM_LATENCY_MS = Number(process.env.KUBEPULSE_BENCH_LLM_LATENCY_MS ?? 2500);
const LOG_FILE = process.env.BENCH_E2E_LOG;
/** BENCH_E2E_QUICK=1: only the first run (the LLM answering at once), for iterating; report the full run. */
const QUICK = process.env.BENCH_E2E_QUICK === '1';

const leak = (name: string, rateKi: number): FaultScenario => ({
  ...MEMORY_LEAK,
  workload: name,
  scenario: `memory-leak;rate=${rateKi}Ki;base=64Mi;cpu=0.1`,
  failureAfterSeconds: Math.round(((256 - 64) * MiB) / (rateKi * 1024)),
});
const saturation = (name: string, load: number): FaultScenario => ({
  ...CPU_SATURATION,
  workload: name,
  scenario: `cpu-saturation;load=${load};memory=96Mi`,
});
const FAULTS: FaultScenario[] = [
  leak('cart-a', 512),
  leak('cart-b', 640),
  leak('cart-c', 768),
  leak('cart-d', 600),
  saturation('search-a', 1.4),
  saturation('search-b', 1.6),
  { ...CRASH_LOOP, workload: 'payments-a' },
];

const percentile = (values: number[], p: number) => {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};

interface RunFigures {
  outcomes: FaultOutcome[];
  llmCalls: number;
  llmTokens: number;
  incidents: number;
}

async function run(llmLatencyMs: number): Promise<RunFigures> {
  const observer = new LoopObserver();
  const started = Date.now();
  const status = (line: string) =>
    process.stderr.write(`[bench:e2e ${((Date.now() - started) / 1000).toFixed(0)}s] ${line}\n`);
  const stack = await startLocalStack({
    clusterId: 'bench',
    namespaces: [NAMESPACE],
    speed: 1,
    stepSeconds: 2,
    policy: { ...DEMO_POLICY, namespaces: { allow: [NAMESPACE] } },
    llmLatencyMs,
    onProgress: status,
    onInvoke: observer.onInvoke,
    // BENCH_E2E_LOG=<file>: every component's log lines, for finding out why a fault was not fixed.
    ...(LOG_FILE
      ? {
          onLog: (component: string, line: string) =>
            appendFileSync(
              LOG_FILE,
              `${new Date().toISOString()} llm=${llmLatencyMs} ${component} ${line}\n`,
            ),
        }
      : {}),
  });
  const remediations = await watchRemediations(stack.kubeConfig, NAMESPACE);
  try {
    const deployedAt = await deployFaults(stack.kubeConfig, NAMESPACE, FAULTS);
    const summarise = () =>
      FAULTS.map((f) =>
        summariseFault(f, NAMESPACE, deployedAt.get(f.workload)!, observer, remediations.appliedAt),
      );
    const deadline = Date.now() + 12 * 60_000;
    let outcomes = summarise();
    let lastReport = 0;
    while (Date.now() < deadline && !outcomes.every((o) => o.done)) {
      await sleep(1000);
      outcomes = summarise();
      if (Date.now() - lastReport > 15_000) {
        status(
          `LLM latency ${llmLatencyMs} ms: ${outcomes.filter((o) => o.done).length}/${outcomes.length} faults done`,
        );
        lastReport = Date.now();
      }
    }
    await sleep(10_000);
    outcomes = summarise();
    const requests = stack.llm.kind === 'fake' ? stack.llm.fake.requests : [];
    const incidents = new Set(
      observer.anomalies.filter((a) => a.status === 'opened').map((a) => workloadKey(a.target)),
    ).size;
    return {
      outcomes,
      llmCalls: requests.length,
      llmTokens: requests.reduce((n, r) => n + (r.usage?.totalTokenCount ?? 0), 0),
      incidents,
    };
  } finally {
    remediations.stop();
    await removeFaults(stack.kubeConfig, NAMESPACE, FAULTS).finally(() => stack.stop());
  }
}

const workloadKey = (target: { namespace: string; owner?: { name: string }; pod: string }) =>
  `${target.namespace}/${target.owner?.name ?? target.pod}`;

const fixTimes = (outcomes: FaultOutcome[]) =>
  outcomes.filter((o) => o.detectToFixMs !== null).map((o) => o.detectToFixMs!);

const fast = await run(0);
const slow = QUICK ? null : await run(REALISTIC_LLM_LATENCY_MS);

const stagesOf = (outcomes: FaultOutcome[]) => outcomes.flatMap((o) => (o.stages ? [o.stages] : []));
const between = (outcomes: FaultOutcome[], from: keyof LatencyStages, to: keyof LatencyStages): number[] =>
  stagesOf(outcomes).flatMap((s) => (s[from] !== null && s[to] !== null ? [s[to]! - s[from]!] : []));

/** Each leg of detection → applied → verified, per fault; the legs of one row add up to its total. */
const LEGS: [string, keyof LatencyStages, keyof LatencyStages][] = [
  ['sample→detect', 'sampledAt', 'detectedAt'],
  ['detect→trigger', 'detectedAt', 'plannerReceivedAt'],
  ['batch window', 'plannerReceivedAt', 'plannerInvokedAt'],
  ['planner', 'plannerInvokedAt', 'plannedAt'],
  ['→executor', 'plannedAt', 'executorStartedAt'],
  ['executor→applied', 'executorStartedAt', 'appliedAt'],
  ['detect→applied', 'detectedAt', 'appliedAt'],
  ['applied→verified', 'appliedAt', 'verifiedAt'],
];

for (const [label, figures] of [
  ['LLM answering at once', fast],
  ...(slow ? [[`LLM taking ${REALISTIC_LLM_LATENCY_MS} ms`, slow] as const] : []),
] as const) {
  console.log(`\n${label}\nfault                         detected lead   detect→fix   outcome`);
  for (const o of figures.outcomes) {
    console.log(
      `${`${o.target} (${o.scenario.signal})`.padEnd(30)} ${String(o.leadTimeSeconds?.toFixed(0) ?? '—').padStart(8)} s ${String(
        o.detectToFixMs === null ? '—' : (o.detectToFixMs / 1000).toFixed(1),
      ).padStart(8)} s   ${o.outcome}`,
    );
  }
  console.log(
    `\n${'where the time went (ms)'.padEnd(30)} ${LEGS.map(([name]) => name.padStart(17)).join('')}`,
  );
  for (const o of figures.outcomes) {
    if (!o.stages) continue;
    const stages = o.stages;
    const cells = LEGS.map(([, from, to]) =>
      (stages[from] === null || stages[to] === null ? '—' : String(stages[to]! - stages[from]!)).padStart(17),
    );
    console.log(`${o.target.padEnd(30)} ${cells.join('')}`);
  }
}
const leads = fast.outcomes
  .filter((o) => o.leadTimeSeconds !== null && o.scenario.signal === 'memory')
  .map((o) => o.leadTimeSeconds!);
const round = (value: number | null) => (value === null ? null : Math.round(value));
console.log(
  JSON.stringify({
    lead_time_s: round(percentile(leads, 50)),
    detect_to_fix_p50_ms: round(percentile(fixTimes(fast.outcomes), 50)),
    detect_to_fix_p99_ms: round(percentile(fixTimes(fast.outcomes), 99)),
    llm_latency_ms: REALISTIC_LLM_LATENCY_MS,
    detect_to_fix_with_llm_p50_ms: slow ? round(percentile(fixTimes(slow.outcomes), 50)) : null,
    detect_to_fix_with_llm_p99_ms: slow ? round(percentile(fixTimes(slow.outcomes), 99)) : null,
    detect_to_applied_p50_ms: round(percentile(between(fast.outcomes, 'detectedAt', 'appliedAt'), 50)),
    detect_to_applied_p99_ms: round(percentile(between(fast.outcomes, 'detectedAt', 'appliedAt'), 99)),
    applied_to_verified_p50_ms: round(percentile(between(fast.outcomes, 'appliedAt', 'verifiedAt'), 50)),
    applied_to_verified_p99_ms: round(percentile(between(fast.outcomes, 'appliedAt', 'verifiedAt'), 99)),
    detect_to_applied_with_llm_p99_ms: slow
      ? round(percentile(between(slow.outcomes, 'detectedAt', 'appliedAt'), 99))
      : null,
    llm_calls_per_incident: fast.incidents > 0 ? Number((fast.llmCalls / fast.incidents).toFixed(2)) : null,
    llm_tokens_per_incident: fast.incidents > 0 ? Math.round(fast.llmTokens / fast.incidents) : null,
    plans_applied: fast.outcomes.reduce((n, o) => n + o.plansApplied, 0),
    recovered: fast.outcomes.filter((o) => o.recovered).length,
    escalated: fast.outcomes.filter((o) => o.escalated).length,
    faults: FAULTS.length,
  }),
);
