import type { Redis } from 'ioredis';
import { z } from 'zod';
import { env, readConfig } from '../../shared/config.js';
import type { LoggerPort } from '../../shared/logger.js';
import { createGeminiPlanner } from './gemini.js';
import { createGuardedPlanner } from './guarded-planner.js';
import type { LlmMetrics } from './metrics.js';
import type { LlmPlanner } from './provider.js';

/**
 * The LLM's part of the planner's environment. No GEMINI_API_KEY means no LLM: the planner uses runbooks
 * only. GEMINI_BASE_URL points the same client at the local fake Gemini (or a proxy); unset, it is the
 * real service.
 */
export const LlmConfigSchema = z
  .object({
    GEMINI_API_KEY: z.string().min(1).optional(),
    GEMINI_MODEL: env.text('gemini-2.0-flash'),
    GEMINI_BASE_URL: env.optionalUrl(),
    GEMINI_TIMEOUT_MS: env.integer(8000, 100, 60_000),
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
  .transform((raw) => ({
    gemini: raw.GEMINI_API_KEY
      ? {
          apiKey: raw.GEMINI_API_KEY,
          model: raw.GEMINI_MODEL,
          baseUrl: raw.GEMINI_BASE_URL,
          timeoutMs: raw.GEMINI_TIMEOUT_MS,
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

export const readLlmConfig = (source: Record<string, string | undefined> = process.env) =>
  readConfig(LlmConfigSchema, source);

export interface LlmDependencies {
  redis: Redis;
  metrics: LlmMetrics;
  logger?: LoggerPort;
}

/** The guarded Gemini planner the configuration asks for, or undefined when no LLM is configured. */
export function createPlannerFromConfig(config: LlmConfig, deps: LlmDependencies): LlmPlanner | undefined {
  if (!config.gemini) return undefined;
  return createGuardedPlanner(createGeminiPlanner(config.gemini), { ...config, ...deps });
}

export const createPlannerFromEnv = (
  deps: LlmDependencies,
  source: Record<string, string | undefined> = process.env,
) => createPlannerFromConfig(readLlmConfig(source), deps);
