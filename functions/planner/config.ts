import { z } from 'zod';
import { DEFAULT_POLICY, parsePolicy } from '../shared/actions/index.js';
import { env, readConfig } from '../shared/config.js';
import { createRedactor } from '../shared/redaction/redact.js';
import { parseSigningKey } from '../shared/signing.js';
import { LlmConfigSchema } from './llm/from-config.js';

/** Unset or empty (a deploy parameter left blank) both mean "not configured". */
const blankAsUnset = (value: unknown) => (value === '' ? undefined : value);

/** Turns what a parser throws into a config issue (the keyring's messages name key ids, never key material). */
const parsedWith =
  <T>(parse: (text: string) => T) =>
  (text: string, ctx: z.RefinementCtx): T => {
    try {
      return parse(text);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
      return z.NEVER;
    }
  };

const parseJson = (text: string): unknown => JSON.parse(text);

const PlannerEnv = z.object({
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL'),
  REMEDIATIONS_QUEUE_URL: env.url(),
  ALERTS_QUEUE_URL: env.url(),
  /** Where records that can never be processed go at once, with their reason: the DLQ of the queue they came from. */
  ANOMALIES_DLQ_URL: env.url(),
  RESULTS_DLQ_URL: env.url(),
  /** Records from this queue go to RESULTS_DLQ_URL when malformed; any other source to ANOMALIES_DLQ_URL. */
  RESULTS_QUEUE_ARN: z.string().regex(/^arn:[a-z-]+:sqs:[^:]*:\d*:[^:]+$/, 'must be an SQS queue ARN'),
  /**
   * The planner's Ed25519 private key, `id=<PKCS#8 PEM or base64 DER>` or `id=<base64 32-byte seed>`: the only
   * copy that can sign plans (executors hold the public half). Still passed by value here; fetching it from
   * Secrets Manager or SSM at cold start, so it is no longer an environment variable, is tracked separately.
   */
  PLAN_SIGNING_KEY: z.string().min(1, 'no signing key configured').transform(parsedWith(parseSigningKey)),
  /** The remediation policy as JSON (see functions/shared/actions/policy.ts); unset: the default policy. */
  REMEDIATION_POLICY: z.preprocess(
    blankAsUnset,
    z
      .string()
      .transform(parsedWith((text) => parsePolicy(parseJson(text))))
      .optional(),
  ),
  /** A JSON array of regular expressions whose matches are also redacted before anything reaches the LLM. */
  REDACT_EXTRA_PATTERNS: z.preprocess(
    blankAsUnset,
    z
      .string()
      .transform(
        parsedWith((text) => {
          const patterns = z.array(z.string().min(1)).parse(parseJson(text));
          createRedactor(patterns);
          return patterns;
        }),
      )
      .optional(),
  ),
  /** At most an hour: executors refuse plans valid for longer (PLAN_MAX_LIFETIME_SECONDS, default 3600). */
  PLAN_TTL_SECONDS: env.integer(900, 60, 3600),
  APPROVAL_TTL_SECONDS: env.integer(4 * 3600, 60, 7 * 24 * 3600),
  /** How long a planned incident is not planned again (the dedupe window). */
  INCIDENT_TTL_SECONDS: env.integer(6 * 3600, 60),
  /** After a decision to only watch an incident, how long until it is reconsidered if it keeps breaching. */
  OBSERVE_SECONDS: env.integer(1800, 60),
  /** How long a claim protects an incident being planned: at least one whole invocation. */
  IN_FLIGHT_SECONDS: env.integer(60, 1, 3600),
  /** The function's timeout, which the in-flight claim must outlast. */
  FUNCTION_TIMEOUT_SECONDS: env.integer(30, 1, 900),
  COOLDOWN_SECONDS: env.integer(900, 0),
  AUTO_PLANS_MAX: env.integer(10, 0, 10_000),
  AUTO_PLANS_WINDOW_SECONDS: env.integer(3600, 1),
  REDIS_COMMAND_TIMEOUT_MS: env.integer(2000, 50),
  PUSHGATEWAY_URL: env.optionalUrl(),
  KUBEPULSE_STAGE: env.text('dev'),
});

export const PlannerConfigSchema = z
  .object({
    ...PlannerEnv.shape,
    ...LlmConfigSchema.in.shape,
    /** Unset or blank: no LLM, runbooks only. A secret. */
    GEMINI_API_KEY: z.preprocess(blankAsUnset, z.string().min(1).optional()),
  })
  .superRefine((raw, ctx) => {
    if (raw.IN_FLIGHT_SECONDS < raw.FUNCTION_TIMEOUT_SECONDS) {
      ctx.addIssue({
        code: 'custom',
        path: ['IN_FLIGHT_SECONDS'],
        message: `must be at least FUNCTION_TIMEOUT_SECONDS (${raw.FUNCTION_TIMEOUT_SECONDS}), or a slow invocation's incident could be planned twice`,
      });
    }
  })
  .transform((raw) => ({
    redisUrl: raw.REDIS_URL,
    queues: {
      remediationsUrl: raw.REMEDIATIONS_QUEUE_URL,
      alertsUrl: raw.ALERTS_QUEUE_URL,
      anomaliesDlqUrl: raw.ANOMALIES_DLQ_URL,
      resultsDlqUrl: raw.RESULTS_DLQ_URL,
      resultsQueueArn: raw.RESULTS_QUEUE_ARN,
    },
    signing: { signer: raw.PLAN_SIGNING_KEY },
    policy: raw.REMEDIATION_POLICY ?? DEFAULT_POLICY,
    redactPatterns: raw.REDACT_EXTRA_PATTERNS ?? [],
    settings: {
      planTtlSeconds: raw.PLAN_TTL_SECONDS,
      approvalTtlSeconds: raw.APPROVAL_TTL_SECONDS,
      incidentTtlSeconds: raw.INCIDENT_TTL_SECONDS,
      observeSeconds: raw.OBSERVE_SECONDS,
      inFlightSeconds: raw.IN_FLIGHT_SECONDS,
      cooldownSeconds: raw.COOLDOWN_SECONDS,
      autoPlans: { max: raw.AUTO_PLANS_MAX, windowSeconds: raw.AUTO_PLANS_WINDOW_SECONDS },
    },
    // Already validated field by field above; this applies the LLM module's own transform.
    llm: LlmConfigSchema.parse(raw),
    redisCommandTimeoutMs: raw.REDIS_COMMAND_TIMEOUT_MS,
    pushgatewayUrl: raw.PUSHGATEWAY_URL,
    stage: raw.KUBEPULSE_STAGE,
  }));

export type PlannerConfig = z.infer<typeof PlannerConfigSchema>;

export const readPlannerConfig = (source: Record<string, string | undefined> = process.env) =>
  readConfig(PlannerConfigSchema, source);
