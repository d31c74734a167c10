import { z } from 'zod';
import { parsePolicy } from '../shared/actions/policy.js';
import { env, readConfig } from '../shared/config.js';
import { ClusterId } from '../shared/contracts/index.js';
import { parsePublicKeyring } from '../shared/signing.js';

const HOUR = 3600;

export const ExecutorConfigSchema = z
  .object({
    CLUSTER_ID: ClusterId,
    REMEDIATIONS_QUEUE_URL: env.url(),
    /** Where plans that can never be parsed go at once, with their reason attached (FIFO, like the queue). */
    REMEDIATIONS_DLQ_URL: env.url(),
    RESULTS_QUEUE_URL: env.url(),
    /** The local SQS emulator; unset in a real cluster, where the SDK finds SQS from the region. */
    SQS_ENDPOINT_URL: env.optionalUrl(),
    AWS_REGION: env.text('us-east-1'),
    /**
     * `id=<SPKI PEM or base64 SPKI DER>,…`: the planner's public keys plans may be signed with (old and new
     * overlap during a rotation). Public keys only: a private key here is refused at start-up.
     */
    PLAN_PUBLIC_KEYS: z.string().transform((text, context) => {
      try {
        return parsePublicKeyring(text);
      } catch (error) {
        context.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    }),
    // An executor must never hold what signs plans: the planner's variable (or the HMAC keyring of old, which
    // signed as well as verified) set here is a deployment mistake worth refusing to start over.
    PLAN_SIGNING_KEY: z
      .undefined({ error: 'an executor must not hold the planner’s private key; unset it' })
      .optional(),
    PLAN_SIGNING_KEYS: z
      .undefined({
        error:
          'the shared HMAC keys are retired (any holder could mint plans); give PLAN_PUBLIC_KEYS instead',
      })
      .optional(),
    /** Plans valid for longer than this are refused whatever their signature (a leaked plan ages out). */
    PLAN_MAX_LIFETIME_SECONDS: env.integer(HOUR, 60, 24 * HOUR),
    /**
     * The remediations queue's maxReceiveCount (infra/queues.cjs): a plan signed with a key this executor does
     * not know is retried until then and dead-lettered with its reason on the last delivery; a claimed plan is
     * put back as a fresh message then, never dead-lettered. Generous, so that with the backoff it covers hours.
     */
    REMEDIATIONS_MAX_RECEIVES: env.integer(50, 1, 1000),
    /** The executor's own remediation policy (JSON, shared/actions/policy.ts). Unset: defaults, dry runs only. */
    EXECUTOR_POLICY: env.text('{}').transform((text, context) => {
      try {
        return parsePolicy(JSON.parse(text));
      } catch (error) {
        context.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    }),
    /** The executor's namespace, where its ledger lives (the downward API sets it in a pod). */
    EXECUTOR_NAMESPACE: env.text('kubepulse'),
    /** This process, as named in the ledger and in Events (the pod name in a cluster). */
    EXECUTOR_INSTANCE: env.text(process.env.HOSTNAME ?? 'kubepulse-executor'),
    /** A kubeconfig file; unset in a pod, where the ServiceAccount token is used. */
    KUBECONFIG: z.string().min(1).optional(),
    COOLDOWN_SECONDS: env.integer(900, 0, 7 * 24 * HOUR),
    VERIFY_TIMEOUT_SECONDS: env.integer(180, 1, HOUR),
    VERIFY_POLL_MS: env.integer(2000, 50, 60_000),
    /** Attempts at one write whose target keeps changing (a rollout rewrites its status), 100 ms apart doubling. */
    CONFLICT_ATTEMPTS: env.integer(5, 1, 10),
    /** An unfinished plan whose owner has been silent this long is taken over (after a crash). */
    LEASE_SECONDS: env.integer(120, 5, HOUR),
    CLOCK_SKEW_SECONDS: env.integer(60, 0, 600),
    /** Must match the remediations queue; the message is kept invisible while its plan runs. */
    VISIBILITY_TIMEOUT_SECONDS: env.integer(300, 10, 12 * HOUR),
    WAIT_TIME_SECONDS: env.integer(20, 0, 20),
    /** Plans carried out side by side, each on objects no other running plan touches (poller.ts). */
    MAX_PLANS_IN_FLIGHT: env.integer(4, 1, 10),
    /** How soon a plan that failed for a transient reason is delivered again; doubled on each further delivery. */
    RETRY_DELAY_SECONDS: env.integer(30, 0, 12 * HOUR),
    /** The longest backoff between two deliveries of a plan that keeps failing for a transient reason. */
    RETRY_MAX_DELAY_SECONDS: env.integer(300, 0, 12 * HOUR),
    /** How often the sweeper looks for plans left unfinished (it also runs at start-up). */
    SWEEP_INTERVAL_SECONDS: env.integer(300, 10, 24 * HOUR),
    /** A plan whose ledger entry has been silent this long is settled by the sweeper (longer than LEASE_SECONDS). */
    SWEEP_AFTER_SECONDS: env.integer(900, 10, 24 * HOUR),
    /** Writes (one per action applied) allowed across all plans in any hour; rollbacks are not counted. */
    EXECUTOR_MAX_WRITES_PER_HOUR: env.integer(30, 0, 10_000),
    /** Rollbacks within an hour that open the circuit breaker (automatic plans refused until an operator resets it). */
    EXECUTOR_MAX_ROLLBACKS_PER_HOUR: env.integer(3, 1, 1000),
    /** Must outlast the queue's retention (4 days), or a late redelivery would find no ledger entry. */
    LEDGER_RETENTION_HOURS: env.integer(7 * 24, 5 * 24, 90 * 24),
    HTTP_PORT: env.integer(9090, 0, 65_535),
    /** Longest wait for one API server request before it counts as unreachable (and the plan is retried). */
    KUBE_REQUEST_TIMEOUT_MS: env.integer(15_000, 500, 120_000),
    PROMETHEUS_URL: env.optionalUrl(),
    KUBEPULSE_STAGE: env.text('dev'),
  })
  .transform((raw, context) => {
    if (raw.LEASE_SECONDS <= Math.ceil(raw.VERIFY_POLL_MS / 1000)) {
      context.addIssue({
        code: 'custom',
        path: ['LEASE_SECONDS'],
        message: 'must be longer than one verify poll',
      });
    }
    if (raw.SWEEP_AFTER_SECONDS <= raw.LEASE_SECONDS) {
      context.addIssue({
        code: 'custom',
        path: ['SWEEP_AFTER_SECONDS'],
        message: 'must be longer than LEASE_SECONDS (the sweeper takes over only what its owner abandoned)',
      });
    }
    return {
      clusterId: raw.CLUSTER_ID,
      queues: {
        remediations: raw.REMEDIATIONS_QUEUE_URL,
        remediationsDlq: raw.REMEDIATIONS_DLQ_URL,
        results: raw.RESULTS_QUEUE_URL,
      },
      sqsEndpoint: raw.SQS_ENDPOINT_URL,
      region: raw.AWS_REGION,
      keyring: raw.PLAN_PUBLIC_KEYS,
      policy: raw.EXECUTOR_POLICY,
      namespace: raw.EXECUTOR_NAMESPACE,
      instance: raw.EXECUTOR_INSTANCE,
      kubeconfigPath: raw.KUBECONFIG,
      settings: {
        clusterId: raw.CLUSTER_ID,
        cooldownSeconds: raw.COOLDOWN_SECONDS,
        verifyTimeoutSeconds: raw.VERIFY_TIMEOUT_SECONDS,
        verifyPollMilliseconds: raw.VERIFY_POLL_MS,
        conflictAttempts: raw.CONFLICT_ATTEMPTS,
        clockSkewSeconds: raw.CLOCK_SKEW_SECONDS,
        maxPlanLifetimeSeconds: raw.PLAN_MAX_LIFETIME_SECONDS,
      },
      leaseSeconds: raw.LEASE_SECONDS,
      polling: {
        visibilityTimeoutSeconds: raw.VISIBILITY_TIMEOUT_SECONDS,
        waitTimeSeconds: raw.WAIT_TIME_SECONDS,
        retryDelaySeconds: raw.RETRY_DELAY_SECONDS,
        maxRetryDelaySeconds: Math.max(raw.RETRY_DELAY_SECONDS, raw.RETRY_MAX_DELAY_SECONDS),
        maxReceives: raw.REMEDIATIONS_MAX_RECEIVES,
        maxPlansInFlight: raw.MAX_PLANS_IN_FLIGHT,
      },
      sweep: { intervalSeconds: raw.SWEEP_INTERVAL_SECONDS, idleSeconds: raw.SWEEP_AFTER_SECONDS },
      limits: {
        maxWritesPerHour: raw.EXECUTOR_MAX_WRITES_PER_HOUR,
        maxRollbacksPerHour: raw.EXECUTOR_MAX_ROLLBACKS_PER_HOUR,
      },
      ledgerRetentionHours: raw.LEDGER_RETENTION_HOURS,
      httpPort: raw.HTTP_PORT,
      kubeRequestTimeoutMs: raw.KUBE_REQUEST_TIMEOUT_MS,
      prometheusUrl: raw.PROMETHEUS_URL,
      stage: raw.KUBEPULSE_STAGE,
    };
  });

export type ExecutorConfig = z.infer<typeof ExecutorConfigSchema>;

export const readExecutorConfig = (source: Record<string, string | undefined> = process.env) =>
  readConfig(ExecutorConfigSchema, source);
