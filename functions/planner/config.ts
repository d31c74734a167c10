import { z } from 'zod';
import { DEFAULT_POLICY, parsePolicy } from '../shared/actions/index.js';
import { clusterKeysProblem, parseClusterSigningKeys, signersOf } from '../shared/cluster-keys.js';
import { clusterBySource, clusterQueuesSchema, sqsArn } from '../shared/clusters.js';
import { blankAsUnset, env, parsedWith, readConfig } from '../shared/config.js';
import { createRedactor } from '../shared/redaction/redact.js';
import { REDIS_URL_SETTING, resolveSecretEnv, type SecretStore } from '../shared/secrets.js';
import { LlmConfigSchema, llmProviderProblems } from './llm/from-config.js';

const parseJson = (text: string): unknown => JSON.parse(text);

const PlannerEnv = z.object({
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL'),
  ALERTS_QUEUE_URL: env.url(),
  /** Where anomalies that can never be processed go at once, with their reason. */
  ANOMALIES_DLQ_URL: env.url(),
  /**
   * Per cluster (JSON keyed by cluster id, generated from the cluster list): the remediations queue its plans go to
   * (only its executor can read it), and its results queue's ARN and DLQ (a result's cluster is the queue it came
   * from; only its executor can send to it). A cluster not listed here is never planned for.
   */
  CLUSTER_QUEUES: clusterQueuesSchema({
    remediationsQueueUrl: z.url(),
    resultsQueueArn: sqsArn,
    resultsDlqUrl: z.url(),
  }),
  /**
   * The planner's Ed25519 private keys, one per cluster, so a cluster's executors (which hold only their own
   * cluster's public keys) trust nothing that signs for another: a JSON object
   * `{"<cluster>":"<id>=<PKCS#8 PEM or base64 DER or base64 32-byte seed>",…}` with exactly the clusters of
   * CLUSTER_QUEUES and a different key id each; or, with one cluster only, that one key as `id=<…>`
   * (functions/shared/cluster-keys.ts). Fetched from its store at cold start (PLAN_SIGNING_KEY_SECRET).
   */
  PLAN_SIGNING_KEY: z
    .string()
    .min(1, 'no signing key configured')
    .transform(parsedWith(parseClusterSigningKeys)),
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
    /** Unset or blank (and no LLM_PROVIDER): no LLM, runbooks only. A secret. */
    GEMINI_API_KEY: z.preprocess(blankAsUnset, z.string().min(1).optional()),
  })
  .superRefine((raw, ctx) => {
    llmProviderProblems(raw, ctx);
    // Either may have failed already (zod still runs this refinement then); its own issue says why.
    if (typeof raw.CLUSTER_QUEUES !== 'object' || typeof raw.PLAN_SIGNING_KEY !== 'object') return;
    const clusters = Object.keys(raw.CLUSTER_QUEUES);
    const keyProblem = clusterKeysProblem(raw.PLAN_SIGNING_KEY, clusters);
    if (keyProblem) ctx.addIssue({ code: 'custom', path: ['PLAN_SIGNING_KEY'], message: keyProblem });
    try {
      clusterBySource(raw.CLUSTER_QUEUES, 'resultsQueueArn');
    } catch (error) {
      ctx.addIssue({ code: 'custom', path: ['CLUSTER_QUEUES'], message: (error as Error).message });
    }
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
      alertsUrl: raw.ALERTS_QUEUE_URL,
      anomaliesDlqUrl: raw.ANOMALIES_DLQ_URL,
      clusters: new Map(Object.entries(raw.CLUSTER_QUEUES)),
      clusterByResultsQueue: clusterBySource(raw.CLUSTER_QUEUES, 'resultsQueueArn'),
    },
    signing: {
      signers: signersOf(raw.PLAN_SIGNING_KEY, Object.keys(raw.CLUSTER_QUEUES)),
    },
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

/** The signing key and the LLMs' keys never sit in the environment of a deployed function (`<NAME>_SECRET`). */
export const PLANNER_SECRETS = [
  REDIS_URL_SETTING,
  'PLAN_SIGNING_KEY',
  'GEMINI_API_KEY',
  'OPENAI_COMPATIBLE_API_KEY',
] as const;

/** The cold start's reader: secrets fetched from their stores first, then everything checked at once. */
export const loadPlannerConfig = async (
  source: Record<string, string | undefined> = process.env,
  store?: SecretStore,
) => readPlannerConfig(await resolveSecretEnv(source, PLANNER_SECRETS, store));
