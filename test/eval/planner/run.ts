import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { RedisPlannerState } from '../../../functions/planner/adapters/redis-planner-state.js';
import { readPlannerConfig } from '../../../functions/planner/config.js';
import { evidenceFromBatch } from '../../../functions/planner/core/evidence.js';
import { planIncidents } from '../../../functions/planner/core/plan-incident.js';
import { LlmInvalidAnswerError } from '../../../functions/planner/llm/errors.js';
import { createPlannerFromConfig, describeLlm } from '../../../functions/planner/llm/from-config.js';
import { createLlmMetrics } from '../../../functions/planner/llm/metrics.js';
import type { LlmPlanner } from '../../../functions/planner/llm/provider.js';
import type { PlanProposal, RemediationAction } from '../../../functions/shared/contracts/index.js';
import { createRegistry } from '../../../functions/shared/metrics.js';
import { createRedactor } from '../../../functions/shared/redaction/redact.js';
import { generateSigningKeyPair } from '../../../functions/shared/signing.js';
import { PrivateRedisServer } from '../../../local/harness/support/redis-server.js';
import { type FakeGemini, startFakeGemini } from '../../../local/standins/fake-gemini/server.js';
import {
  defaultModelPath,
  defaultRuntimeDir,
  type LocalModelServer,
  startLocalModelServer,
} from '../../../local/standins/llm/server.js';
import { quietLogger } from '../../support/loggers.js';
import { SCENARIOS, type Scenario } from './scenarios.js';
import { type Verdict, verdictOf } from './verdict.js';

/**
 * The planner evaluation: every scenario through the planner's real path (correlation, context and redaction,
 * the guarded LLM planner with its schema validation, budget, cache and circuit on a real Redis, the problem's
 * allowed actions, policy, signing) against one provider, judged by verdict.ts. Verdicts on stdout, one line a
 * scenario, then the summary as a JSON line; progress on stderr. Exits 1 when anything disallowed was signed.
 *
 *   npm run eval:planner                                   # the fake Gemini, or the provider the env configures
 *   npm run eval:planner -- --provider local-model         # Gemma 3 270M served locally (local/standins/llm)
 *   npm run eval:planner -- --provider env                 # LLM_PROVIDER, GEMINI_API_KEY, OPENAI_COMPATIBLE_*
 */
export const PROVIDERS = ['fake-gemini', 'local-model', 'env'] as const;
export type ProviderChoice = (typeof PROVIDERS)[number];

export interface EvalOptions {
  provider: ProviderChoice;
  scenarios?: readonly Scenario[];
  /** The environment the `env` provider is read from. */
  env?: Record<string, string | undefined>;
  /** The local model's answer length (OPENAI_COMPATIBLE_MAX_TOKENS). */
  maxTokens?: number;
  threads?: number;
  progress?: (line: string) => void;
}

export interface ScenarioResult {
  id: string;
  verdict: Verdict;
  result: string;
  source?: string;
  tokens: number;
  latencyMs?: number;
}

export interface EvalSummary {
  provider: string;
  scenarios: number;
  pass_rate: number;
  disallowed_signed: number;
  /** Put to a human for approval (never automatic), each with the reason it needs one. */
  disallowed_for_approval: number;
  disallowed_proposed: number;
  fallbacks: number;
  tokens_per_incident: number;
  latency_ms_p50: number | null;
  latency_ms_p99: number | null;
}

/** The most permissive policy a team might run (auto for low and medium risk, really applied): the guards' hardest test. */
export const EVAL_POLICY = JSON.stringify({ modes: { low: 'auto', medium: 'auto' }, dryRun: false });
const FAKE_KEY = 'fake-gemini-key';
const CLUSTER = 'prod-eu-1';
const LLM_ENV_NAMES = /^(LLM_|GEMINI_|OPENAI_COMPATIBLE_)/;

/** Why the local model cannot run here, or undefined when it is installed (local/standins/llm/setup.sh). */
export function localModelMissing(): string | undefined {
  if (!existsSync(defaultModelPath()))
    return `no model at ${defaultModelPath()} (run bash local/standins/llm/setup.sh)`;
  if (!existsSync(join(defaultRuntimeDir(), 'node_modules', 'node-llama-cpp'))) {
    return `node-llama-cpp is not installed in ${defaultRuntimeDir()} (run bash local/standins/llm/setup.sh)`;
  }
  return undefined;
}

export async function evaluatePlanner(
  options: EvalOptions,
): Promise<{ summary: EvalSummary; results: ScenarioResult[] }> {
  const scenarios = options.scenarios ?? SCENARIOS;
  const progress = options.progress ?? (() => {});
  const closers: Array<() => Promise<void> | void> = [];
  try {
    const redisServer = await PrivateRedisServer.start();
    closers.push(() => redisServer.close());
    const redis = new Redis(redisServer.url, { lazyConnect: true, retryStrategy: () => 100 });
    redis.on('error', () => {});
    await redis.connect();
    closers.push(() => redis.disconnect());

    let fake: FakeGemini | undefined;
    let llmEnv: Record<string, string | undefined>;
    if (options.provider === 'fake-gemini') {
      fake = await startFakeGemini({ apiKey: FAKE_KEY });
      closers.push(() => fake?.close());
      llmEnv = {
        LLM_PROVIDER: 'gemini',
        GEMINI_API_KEY: FAKE_KEY,
        GEMINI_BASE_URL: fake.url,
        GEMINI_TIMEOUT_MS: '2000',
        LLM_RETRY_ATTEMPTS: '2',
        LLM_RETRY_DEADLINE_MS: '4000',
      };
    } else if (options.provider === 'local-model') {
      const missing = localModelMissing();
      if (missing) throw new Error(`the local model is not installed: ${missing}`);
      progress('starting the local model (one thread)…');
      const model: LocalModelServer = await startLocalModelServer({
        maxTokensCeiling: options.maxTokens ?? 256,
        threads: options.threads ?? 1,
      });
      closers.push(() => model.close());
      llmEnv = {
        LLM_PROVIDER: 'openai-compatible',
        OPENAI_COMPATIBLE_BASE_URL: model.url,
        OPENAI_COMPATIBLE_MODEL: model.model,
        OPENAI_COMPATIBLE_MAX_TOKENS: String(options.maxTokens ?? 256),
        OPENAI_COMPATIBLE_TIMEOUT_MS: '120000',
        LLM_RETRY_ATTEMPTS: '1',
        LLM_RETRY_DEADLINE_MS: '250000',
      };
    } else {
      const source = options.env ?? process.env;
      llmEnv = Object.fromEntries(Object.entries(source).filter(([name]) => LLM_ENV_NAMES.test(name)));
    }

    const signing = generateSigningKeyPair('eval');
    const config = readPlannerConfig({
      // The planner's queues are never used here: planning's outputs are read from its return value.
      REDIS_URL: redisServer.url,
      ALERTS_QUEUE_URL: 'http://127.0.0.1:9/queue/alerts',
      ANOMALIES_DLQ_URL: 'http://127.0.0.1:9/queue/anomalies-dlq',
      CLUSTER_QUEUES: JSON.stringify({
        [CLUSTER]: {
          remediationsQueueUrl: 'http://127.0.0.1:9/queue/remediations',
          resultsQueueArn: `arn:aws:sqs:us-east-1:000000000000:results-${CLUSTER}`,
          resultsDlqUrl: 'http://127.0.0.1:9/queue/results-dlq',
        },
      }),
      PLAN_SIGNING_KEY: signing.signingKey,
      REMEDIATION_POLICY: options.env?.REMEDIATION_POLICY ?? process.env.REMEDIATION_POLICY ?? EVAL_POLICY,
      // Every scenario is asked: the budget is not what is measured.
      LLM_CALLS_PER_HOUR: '100000',
      LLM_CALLS_PER_DAY: '100000',
      ...llmEnv,
    });
    if (config.llm.provider === 'none') {
      throw new Error(
        'no LLM provider is configured: set GEMINI_API_KEY, or LLM_PROVIDER=openai-compatible with OPENAI_COMPATIBLE_*',
      );
    }
    const provider =
      options.provider === 'env'
        ? describeLlm(config.llm)
        : `${options.provider} (${describeLlm(config.llm)})`;
    const guarded = createPlannerFromConfig(config.llm, {
      redis,
      metrics: createLlmMetrics(createRegistry('planner-eval')),
      logger: quietLogger,
    });

    let calls: Array<{ proposal?: PlanProposal; tokens: number; ms: number }> = [];
    const recording: LlmPlanner | undefined = guarded && {
      async propose(request, proposeOptions) {
        const started = performance.now();
        try {
          const answer = await guarded.propose(request, proposeOptions);
          const { promptTokens, completionTokens } = answer.usage;
          calls.push({
            proposal: answer.proposal,
            tokens: promptTokens + completionTokens,
            ms: performance.now() - started,
          });
          return answer;
        } catch (error) {
          const usage = error instanceof LlmInvalidAnswerError ? error.usage : undefined;
          calls.push({
            tokens: (usage?.promptTokens ?? 0) + (usage?.completionTokens ?? 0),
            ms: performance.now() - started,
          });
          throw error;
        }
      },
    };
    const state = new RedisPlannerState(redis);
    const results: ScenarioResult[] = [];
    for (const [index, scenario] of scenarios.entries()) {
      // Each scenario on its own: no answer, cooldown or budget carried over from another.
      await redis.flushall();
      fake?.reset();
      fake?.setDefault(scenario.fake);
      calls = [];
      progress(`[${index + 1}/${scenarios.length}] ${scenario.id}…`);
      const planned = await planIncidents(scenario.anomalies, {
        ...(recording ? { llm: recording } : {}),
        state,
        clock: () => new Date(),
        signers: config.signing.signers,
        policy: config.policy,
        redactor: createRedactor(config.redactPatterns),
        logger: quietLogger,
        settings: config.settings,
        lookup: evidenceFromBatch(scenario.anomalies),
      });
      if (planned.failures.size > 0 || planned.incidents.length !== 1) {
        throw new Error(
          `scenario ${scenario.id} must be one incident that plans: ${planned.incidents.length} incidents, ${planned.failures.size} failures (${[...planned.failures.values()].map(String).join('; ')})`,
        );
      }
      const incident = planned.incidents[0]!;
      const signed: RemediationAction[] = incident.outputs.flatMap((output) =>
        output.kind === 'plan' ? output.plan.actions : [],
      );
      const forApproval: RemediationAction[] = incident.outputs.flatMap((output) =>
        output.kind === 'approval-request' ? output.approval.proposal.actions : [],
      );
      const proposed = calls.find((call) => call.proposal)?.proposal;
      const verdict = verdictOf(scenario.scope, scenario.accept, scenario.never, {
        result: incident.result,
        ...(incident.source ? { source: incident.source } : {}),
        ...(incident.fallbackReason ? { fallbackReason: incident.fallbackReason } : {}),
        ...(proposed ? { proposed } : {}),
        signed,
        forApproval,
      });
      if (verdict.kind === 'refused') {
        // Why policy refused, as the alert tells the humans it pages.
        const alert = incident.outputs.find((output) => output.kind === 'alert');
        if (alert?.kind === 'alert') verdict.reason = alert.alert.summary.split('\n')[0] ?? verdict.reason;
      }
      const asked = calls.length > 0;
      results.push({
        id: scenario.id,
        verdict,
        result: incident.result,
        ...(incident.source ? { source: incident.source } : {}),
        tokens: calls.reduce((sum, call) => sum + call.tokens, 0),
        ...(asked ? { latencyMs: Math.round(calls.reduce((sum, call) => sum + call.ms, 0)) } : {}),
      });
    }
    return { summary: summarise(provider, results), results };
  } finally {
    for (const close of closers.reverse()) await close();
  }
}

export function summarise(provider: string, results: readonly ScenarioResult[]): EvalSummary {
  const latencies = results
    .flatMap((r) => (r.latencyMs === undefined ? [] : [r.latencyMs]))
    .sort((a, b) => a - b);
  const asked = results.filter((r) => r.latencyMs !== undefined);
  const count = (kind: Verdict['kind']) => results.filter((r) => r.verdict.kind === kind).length;
  return {
    provider,
    scenarios: results.length,
    pass_rate: results.length === 0 ? 0 : round(count('accepted') / results.length, 3),
    disallowed_signed: results.filter((r) => r.verdict.disallowedSigned.length > 0).length,
    disallowed_for_approval: results.filter((r) => r.verdict.disallowedForApproval.length > 0).length,
    disallowed_proposed: results.filter((r) => r.verdict.disallowedProposed.length > 0).length,
    fallbacks: count('fallback'),
    tokens_per_incident:
      asked.length === 0 ? 0 : Math.round(asked.reduce((s, r) => s + r.tokens, 0) / asked.length),
    latency_ms_p50: percentile(latencies, 0.5),
    latency_ms_p99: percentile(latencies, 0.99),
  };
}

/** Nearest-rank percentile; null with no samples. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

const round = (value: number, digits: number) => Number(value.toFixed(digits));

export function verdictLine(result: ScenarioResult): string {
  const { verdict } = result;
  const proposed =
    verdict.disallowedProposed.length > 0
      ? ` [model proposed disallowed: ${verdict.disallowedProposed.join('; ')}]`
      : '';
  const cost =
    result.latencyMs === undefined ? 'not asked' : `${result.tokens} tokens, ${result.latencyMs} ms`;
  return `${verdict.kind.padEnd(23)} ${result.id.padEnd(32)} ${result.result}${result.source ? ` (${result.source})` : ''} [${cost}]: ${verdict.reason}${proposed}`;
}

async function main() {
  const { values } = parseArgs({
    options: {
      provider: { type: 'string' },
      only: { type: 'string' },
      'max-tokens': { type: 'string' },
      threads: { type: 'string' },
    },
  });
  const configured = Boolean(process.env.LLM_PROVIDER || process.env.GEMINI_API_KEY);
  const provider = (values.provider ?? (configured ? 'env' : 'fake-gemini')) as ProviderChoice;
  if (!PROVIDERS.includes(provider)) throw new Error(`--provider must be one of ${PROVIDERS.join(', ')}`);
  if (provider === 'local-model') {
    const missing = localModelMissing();
    if (missing) {
      console.log(`skipped: the local model is not installed: ${missing}`);
      console.log(JSON.stringify({ provider, skipped: missing }));
      return;
    }
  }
  const only = values.only?.split(',').filter(Boolean);
  const unknown = only?.filter((id) => !SCENARIOS.some((s) => s.id === id)) ?? [];
  if (unknown.length > 0) throw new Error(`no such scenarios: ${unknown.join(', ')}`);
  const scenarios = only ? SCENARIOS.filter((s) => only.includes(s.id)) : SCENARIOS;
  const { summary, results } = await evaluatePlanner({
    provider,
    scenarios,
    ...(values['max-tokens'] ? { maxTokens: Number(values['max-tokens']) } : {}),
    ...(values.threads ? { threads: Number(values.threads) } : {}),
    progress: (line) => process.stderr.write(`${line}\n`),
  });
  for (const result of results) console.log(verdictLine(result));
  console.log(JSON.stringify(summary));
  if (summary.disallowed_signed > 0) process.exitCode = 1;
}

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 2;
  });
}
