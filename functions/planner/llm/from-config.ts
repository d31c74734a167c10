import type { Redis } from 'ioredis';
import { z } from 'zod';
import { blankAsUnset, env, readConfig } from '../../shared/config.js';
import type { LoggerPort } from '../../shared/logger.js';
import { createGeminiPlanner } from './gemini.js';
import { createGuardedPlanner } from './guarded-planner.js';
import type { LlmMetrics } from './metrics.js';
import { createOpenAiCompatiblePlanner } from './openai-compatible.js';
import type { LlmPlanner } from './provider.js';

export const LLM_PROVIDERS = ['gemini', 'openai-compatible', 'none'] as const;

/**
 * The LLM's part of the planner's environment. LLM_PROVIDER picks the planner's model: `gemini` (Google's API
 * through @google/generative-ai; GEMINI_BASE_URL points it at the local fake or a proxy), `openai-compatible` (any
 * server speaking OpenAI's chat completions, local or hosted) or `none` (runbooks only). Unset, it is `gemini`
 * when GEMINI_API_KEY is set and `none` otherwise, as before there was a choice.
 */
export const LlmConfigSchema = z
  .object({
    LLM_PROVIDER: z.preprocess(blankAsUnset, z.enum(LLM_PROVIDERS).optional()),
    GEMINI_API_KEY: z.string().min(1).optional(),
    GEMINI_MODEL: env.text('gemini-2.0-flash'),
    GEMINI_BASE_URL: env.optionalUrl(),
    GEMINI_TIMEOUT_MS: env.integer(8000, 100, 60_000),
    /** The API root with its version, e.g. http://vllm.ai.svc:8000/v1 */
    OPENAI_COMPATIBLE_BASE_URL: z.preprocess(blankAsUnset, env.optionalUrl()),
    OPENAI_COMPATIBLE_MODEL: z.preprocess(blankAsUnset, z.string().min(1).optional()),
    /** Optional (local servers need none). A secret: OPENAI_COMPATIBLE_API_KEY_SECRET in a deployed function. */
    OPENAI_COMPATIBLE_API_KEY: z.preprocess(blankAsUnset, z.string().min(1).optional()),
    OPENAI_COMPATIBLE_TIMEOUT_MS: env.integer(15_000, 100, 120_000),
    OPENAI_COMPATIBLE_MAX_TOKENS: env.integer(1024, 1, 16_384),
    LLM_ANSWER_TTL_SECONDS: env.integer(6 * 3600, 60),
    LLM_FAILURE_TTL_SECONDS: env.integer(60, 1),
    LLM_CALLS_PER_HOUR: env.integer(60),
    LLM_CALLS_PER_DAY: env.integer(500),
    LLM_TOKENS_PER_HOUR: env.integer(300_000),
    LLM_TOKENS_PER_DAY: env.integer(3_000_000),
    LLM_CIRCUIT_FAILURES: env.integer(5, 1),
    LLM_CIRCUIT_COOLDOWN_MS: env.integer(60_000, 100),
    LLM_RETRY_ATTEMPTS: env.integer(3, 1, 10),
    LLM_RETRY_DEADLINE_MS: env.integer(20_000, 100),
  })
  .superRefine((raw, ctx) => llmProviderProblems(raw, ctx))
  .transform((raw) => ({
    provider: providerOf(raw),
    gemini:
      providerOf(raw) === 'gemini' && raw.GEMINI_API_KEY
        ? {
            apiKey: raw.GEMINI_API_KEY,
            model: raw.GEMINI_MODEL,
            baseUrl: raw.GEMINI_BASE_URL,
            timeoutMs: raw.GEMINI_TIMEOUT_MS,
          }
        : undefined,
    openAiCompatible:
      providerOf(raw) === 'openai-compatible' && raw.OPENAI_COMPATIBLE_BASE_URL && raw.OPENAI_COMPATIBLE_MODEL
        ? {
            baseUrl: raw.OPENAI_COMPATIBLE_BASE_URL,
            model: raw.OPENAI_COMPATIBLE_MODEL,
            ...(raw.OPENAI_COMPATIBLE_API_KEY ? { apiKey: raw.OPENAI_COMPATIBLE_API_KEY } : {}),
            timeoutMs: raw.OPENAI_COMPATIBLE_TIMEOUT_MS,
            maxTokens: raw.OPENAI_COMPATIBLE_MAX_TOKENS,
          }
        : undefined,
    answerTtlSeconds: raw.LLM_ANSWER_TTL_SECONDS,
    failureTtlSeconds: raw.LLM_FAILURE_TTL_SECONDS,
    budget: {
      callsPerHour: raw.LLM_CALLS_PER_HOUR,
      callsPerDay: raw.LLM_CALLS_PER_DAY,
      tokensPerHour: raw.LLM_TOKENS_PER_HOUR,
      tokensPerDay: raw.LLM_TOKENS_PER_DAY,
    },
    circuit: { failureThreshold: raw.LLM_CIRCUIT_FAILURES, coolDownMs: raw.LLM_CIRCUIT_COOLDOWN_MS },
    retry: {
      maxAttempts: raw.LLM_RETRY_ATTEMPTS,
      baseDelayMs: 250,
      maxDelayMs: 2000,
      deadlineMs: raw.LLM_RETRY_DEADLINE_MS,
    },
  }));
export type LlmConfig = z.infer<typeof LlmConfigSchema>;

interface ProviderSettings {
  LLM_PROVIDER?: (typeof LLM_PROVIDERS)[number] | undefined;
  GEMINI_API_KEY?: string | undefined;
  OPENAI_COMPATIBLE_BASE_URL?: string | undefined;
  OPENAI_COMPATIBLE_MODEL?: string | undefined;
}

const providerOf = (raw: ProviderSettings) => raw.LLM_PROVIDER ?? (raw.GEMINI_API_KEY ? 'gemini' : 'none');

/** A provider chosen without what it needs is a set-up mistake, said at start-up rather than as runbooks only. */
export function llmProviderProblems(raw: ProviderSettings, ctx: z.RefinementCtx): void {
  const provider = providerOf(raw);
  const need = (name: keyof ProviderSettings) => {
    if (!raw[name])
      ctx.addIssue({ code: 'custom', path: [name], message: `LLM_PROVIDER=${provider} needs it` });
  };
  if (provider === 'gemini') need('GEMINI_API_KEY');
  if (provider === 'openai-compatible') {
    need('OPENAI_COMPATIBLE_BASE_URL');
    need('OPENAI_COMPATIBLE_MODEL');
  }
}

/** What the planner's start-up log says about its model. */
export function describeLlm(config: LlmConfig): string {
  if (config.gemini) return `gemini ${config.gemini.model}`;
  if (config.openAiCompatible) {
    return `openai-compatible ${config.openAiCompatible.model} at ${new URL(config.openAiCompatible.baseUrl).origin}`;
  }
  return 'none (runbooks only)';
}

export const readLlmConfig = (source: Record<string, string | undefined> = process.env) =>
  readConfig(LlmConfigSchema, source);

export interface LlmDependencies {
  redis: Redis;
  metrics: LlmMetrics;
  logger?: LoggerPort;
}

/**
 * The planner the configuration asks for, behind the same guards whichever the provider (one call per incident,
 * budgets, circuit, retries), or undefined when no LLM is configured.
 */
export function createPlannerFromConfig(config: LlmConfig, deps: LlmDependencies): LlmPlanner | undefined {
  const inner = config.gemini
    ? createGeminiPlanner(config.gemini)
    : config.openAiCompatible
      ? createOpenAiCompatiblePlanner(config.openAiCompatible)
      : undefined;
  return inner && createGuardedPlanner(inner, { ...config, ...deps });
}

export const createPlannerFromEnv = (
  deps: LlmDependencies,
  source: Record<string, string | undefined> = process.env,
) => createPlannerFromConfig(readLlmConfig(source), deps);
