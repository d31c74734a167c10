import { z } from 'zod';
import { DEFAULT_POLICY, parsePolicy } from '../shared/actions/index.js';
import { clusterKeysProblem, parseClusterSigningKeys, signersOf } from '../shared/cluster-keys.js';
import { clusterQueuesSchema } from '../shared/clusters.js';
import { blankAsUnset, env, parsedWith, readConfig } from '../shared/config.js';
import { REDIS_URL_SETTING, resolveSecretEnv, type SecretStore } from '../shared/secrets.js';
import { keyringOf, parsePublicKeyring } from '../shared/signing.js';

const SLACK_USER_ID = /^[UW][A-Z0-9]{2,20}$/;

const ApproverEnv = z.object({
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL'),
  ALERTS_QUEUE_URL: env.url(),
  /** Per cluster, its remediations queue: the planner's CLUSTER_QUEUES (its results queue fields are not used). */
  CLUSTER_QUEUES: clusterQueuesSchema({
    remediationsQueueUrl: z.url(),
    resultsQueueArn: z.string().optional(),
    resultsDlqUrl: z.string().optional(),
  }),
  /** The planner's keys, one per cluster, as the planner reads them: an approved plan is signed with its cluster's. */
  PLAN_SIGNING_KEY: z
    .string()
    .min(1, 'no signing key configured')
    .transform(parsedWith(parseClusterSigningKeys)),
  /**
   * Other planner public keys whose seals on stored approvals are trusted (a rotation's old key, while approvals
   * it sealed are pending); the signing key's own public half always is.
   */
  PLAN_PUBLIC_KEYS: z.preprocess(
    blankAsUnset,
    z.string().transform(parsedWith(parsePublicKeyring)).optional(),
  ),
  /** The same policy document as the planner's; re-evaluated at approval time. Unset: the default policy. */
  REMEDIATION_POLICY: z.preprocess(
    blankAsUnset,
    z
      .string()
      .transform(parsedWith((text) => parsePolicy(JSON.parse(text))))
      .optional(),
  ),
  /** At most an hour: executors refuse plans valid for longer. */
  PLAN_TTL_SECONDS: env.integer(900, 60, 3600),
  /** The Slack app's signing secret; unset: Slack interactions are all refused. A secret. */
  SLACK_SIGNING_SECRET: z.preprocess(blankAsUnset, z.string().min(16).optional()),
  /** Comma-separated Slack user ids who may approve or reject; nobody else can, whatever Slack says. */
  SLACK_APPROVER_IDS: z.preprocess(
    blankAsUnset,
    z
      .string()
      .transform((text) =>
        text
          .split(',')
          .map((id) => id.trim())
          .filter(Boolean),
      )
      .pipe(z.array(z.string().regex(SLACK_USER_ID, 'must be Slack user ids (U…/W…)')))
      .optional(),
  ),
  REDIS_COMMAND_TIMEOUT_MS: env.integer(2000, 50),
  KUBEPULSE_STAGE: env.text('dev'),
});

export const ApproverConfigSchema = ApproverEnv.superRefine((raw, ctx) => {
  if (typeof raw.CLUSTER_QUEUES === 'object' && typeof raw.PLAN_SIGNING_KEY === 'object') {
    const keyProblem = clusterKeysProblem(raw.PLAN_SIGNING_KEY, Object.keys(raw.CLUSTER_QUEUES));
    if (keyProblem) ctx.addIssue({ code: 'custom', path: ['PLAN_SIGNING_KEY'], message: keyProblem });
  }
  if (raw.SLACK_SIGNING_SECRET && !raw.SLACK_APPROVER_IDS?.length) {
    ctx.addIssue({
      code: 'custom',
      path: ['SLACK_APPROVER_IDS'],
      message: 'Slack approvals need an allowlist of Slack user ids',
    });
  }
}).transform((raw) => {
  const signers = signersOf(raw.PLAN_SIGNING_KEY, Object.keys(raw.CLUSTER_QUEUES));
  return {
    redisUrl: raw.REDIS_URL,
    queues: {
      alertsUrl: raw.ALERTS_QUEUE_URL,
      remediationsByCluster: new Map(
        Object.entries(raw.CLUSTER_QUEUES).map(([cluster, queues]) => [cluster, queues.remediationsQueueUrl]),
      ),
    },
    signers,
    sealKeys: new Map([
      ...(raw.PLAN_PUBLIC_KEYS ?? []),
      ...[...signers.values()].flatMap((signer) => [...keyringOf(signer)]),
    ]),
    policy: raw.REMEDIATION_POLICY ?? DEFAULT_POLICY,
    planTtlSeconds: raw.PLAN_TTL_SECONDS,
    slack: {
      ...(raw.SLACK_SIGNING_SECRET ? { signingSecret: raw.SLACK_SIGNING_SECRET } : {}),
      approvers: new Set(raw.SLACK_APPROVER_IDS ?? []),
    },
    redisCommandTimeoutMs: raw.REDIS_COMMAND_TIMEOUT_MS,
    stage: raw.KUBEPULSE_STAGE,
  };
});
export type ApproverConfig = z.output<typeof ApproverConfigSchema>;

export const readApproverConfig = (source: Record<string, string | undefined> = process.env) =>
  readConfig(ApproverConfigSchema, source);

/** The approver holds the plan-signing key and Slack's signing secret: both from their stores (`<NAME>_SECRET`). */
export const APPROVER_SECRETS = [REDIS_URL_SETTING, 'PLAN_SIGNING_KEY', 'SLACK_SIGNING_SECRET'] as const;

/** The cold start's reader: secrets fetched from their stores first, then everything checked at once. */
export const loadApproverConfig = async (
  source: Record<string, string | undefined> = process.env,
  store?: SecretStore,
) => readApproverConfig(await resolveSecretEnv(source, APPROVER_SECRETS, store));
