import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { SQSClient } from '@aws-sdk/client-sqs';
import { Redis } from 'ioredis';
import { z } from 'zod';
import { RedisPlannerState } from '../functions/planner/adapters/redis-planner-state.js';
import { sendAlerts, sendPlans } from '../functions/planner/adapters/sqs-outputs.js';
import { planFromApproval } from '../functions/planner/core/approved-plan.js';
import type { PendingApproval } from '../functions/planner/core/ports.js';
import { describeAction } from '../functions/shared/actions/index.js';
import { env as envVar } from '../functions/shared/config.js';
import type { Alert } from '../functions/shared/contracts/index.js';
import { describeError } from '../functions/shared/errors.js';
import { parseSigningKey } from '../functions/shared/signing.js';

/**
 * `kubepulse plans list`, `kubepulse approve <id>` and `kubepulse reject <id>`: the human side of the planner's
 * approvals, against the same Redis the planner uses. An approved proposal becomes a plan signed with the
 * planner's keys (source `human`, id derived from the approval, so approving twice sends one plan) on the
 * remediations queue; the executor still checks every bound against the live cluster.
 */
export const PLANS_USAGE = `usage: kubepulse plans list [--all]
       kubepulse approve <approval-id> [--reason <text>] [--by <name>]
       kubepulse reject <approval-id> [--reason <text>] [--by <name>]

  plans list  approvals waiting for a human (--all: decided and expired ones too)
  approve     sign the proposal as a plan and send it to the remediations queue
  reject      refuse it
  --reason    kept with the decision (plans list --all shows it) and sent to the team with it

  environment: REDIS_URL; for approve also PLAN_SIGNING_KEY and REMEDIATIONS_QUEUE_URL; ALERTS_QUEUE_URL to
  tell the team about decisions; PLAN_TTL_SECONDS (default 900); AWS_REGION and
  credentials as for any AWS CLI (AWS_ENDPOINT_URL_SQS for the local emulator)`;

const CliEnv = z.object({
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL'),
  PLAN_SIGNING_KEY: z.string().min(1).optional(),
  REMEDIATIONS_QUEUE_URL: envVar.optionalUrl(),
  ALERTS_QUEUE_URL: envVar.optionalUrl(),
  // Executors refuse plans valid for longer than an hour (their PLAN_MAX_LIFETIME_SECONDS).
  PLAN_TTL_SECONDS: envVar.integer(900, 60, 3600),
});

export interface PlansCliDeps {
  env: Record<string, string | undefined>;
  out: (line: string) => void;
  err: (line: string) => void;
  /** An SQS client; by default one configured from the environment like any AWS tool. */
  sqs?: SQSClient;
  clock?: () => Date;
}

class UsageError extends Error {}

/** Runs one of the approval commands; returns the process exit code. */
export async function runPlansCommand(argv: readonly string[], deps: PlansCliDeps): Promise<number> {
  try {
    return await run(argv, deps);
  } catch (error) {
    if (error instanceof UsageError) {
      deps.err(`kubepulse: ${error.message}`);
      deps.err(PLANS_USAGE);
      return 2;
    }
    deps.err(`kubepulse: ${error instanceof Error ? error.message : describeError(error).message}`);
    return 1;
  }
}

/** As the approval keeps it (PendingApproval.decisionReason). */
const MAX_REASON_LENGTH = 1000;

async function run(argv: readonly string[], deps: PlansCliDeps): Promise<number> {
  const [command, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: [...rest],
    allowPositionals: true,
    options: {
      all: { type: 'boolean', default: false },
      by: { type: 'string' },
      reason: { type: 'string' },
    },
  });
  const parsedEnv = CliEnv.safeParse(deps.env);
  if (!parsedEnv.success) {
    const problems = parsedEnv.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new Error(`invalid environment:\n  ${problems.join('\n  ')}`);
  }
  const config = parsedEnv.data;
  const now = (deps.clock ?? (() => new Date()))();
  const by = values.by ?? deps.env.KUBEPULSE_USER ?? deps.env.USER ?? userInfo().username;

  if (command === 'plans') {
    if (positionals[0] !== 'list') throw new UsageError('plans takes one subcommand: list');
    return withState(config.REDIS_URL, async (state) => {
      listApprovals(await state.listApprovals(), values.all ?? false, now, deps.out);
      return 0;
    });
  }
  if (command !== 'approve' && command !== 'reject') throw new UsageError(`unknown command ${command}`);
  const approvalId = positionals[0];
  if (!approvalId || positionals.length > 1) throw new UsageError(`${command} takes one approval id`);
  if (values.reason !== undefined && values.reason.length > MAX_REASON_LENGTH) {
    throw new UsageError(`--reason is at most ${MAX_REASON_LENGTH} characters`);
  }

  if (command === 'reject') {
    return withState(config.REDIS_URL, async (state) => {
      const decision = await state.decideApproval(approvalId, 'rejected', by, now, values.reason);
      if (!decision.ok) throw new Error(refusal(approvalId, decision.reason, decision.approval));
      deps.out(`rejected ${approvalId} (incident ${decision.approval.incidentId}); nothing will run`);
      await tellTheTeam(config.ALERTS_QUEUE_URL, deps, decision.approval, now, values.reason);
      return 0;
    });
  }

  if (!config.PLAN_SIGNING_KEY) {
    throw new Error(
      'approve signs a plan: set PLAN_SIGNING_KEY to the planner’s private key (id=PEM or id=base64)',
    );
  }
  if (!config.REMEDIATIONS_QUEUE_URL) {
    throw new Error('approve sends a plan: set REMEDIATIONS_QUEUE_URL to the remediations FIFO queue');
  }
  const signer = parseSigningKey(config.PLAN_SIGNING_KEY);
  const remediationsUrl = config.REMEDIATIONS_QUEUE_URL;
  return withState(config.REDIS_URL, async (state) => {
    const decision = await state.decideApproval(approvalId, 'approved', by, now, values.reason);
    let approval: PendingApproval;
    if (decision.ok) approval = decision.approval;
    else if (decision.reason === 'already-decided' && decision.approval?.status === 'approved') {
      // An earlier approve may have failed to send: the plan id is derived from the approval, so this is one plan.
      approval = decision.approval;
      deps.out(
        `${approvalId} was already approved by ${approval.decidedBy ?? 'someone'}; sending its plan again`,
      );
    } else throw new Error(refusal(approvalId, decision.reason, decision.approval));

    const plan = planFromApproval(approval, { signer, now, planTtlSeconds: config.PLAN_TTL_SECONDS });
    await sendPlans(deps.sqs ?? new SQSClient({}), remediationsUrl, [plan]);
    deps.out(
      `approved ${approvalId}: plan ${plan.planId} (${plan.actions.length} action${plan.actions.length === 1 ? '' : 's'}${plan.dryRun ? ', dry run' : ''}) sent to the remediations queue, valid until ${plan.expiresAt}`,
    );
    if (decision.ok) await tellTheTeam(config.ALERTS_QUEUE_URL, deps, approval, now, values.reason);
    return 0;
  });
}

async function withState<T>(redisUrl: string, work: (state: RedisPlannerState) => Promise<T>): Promise<T> {
  const redis = new Redis(redisUrl, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    connectTimeout: 3000,
    retryStrategy: () => null,
  });
  redis.on('error', () => {});
  try {
    await redis.connect();
  } catch (error) {
    const { hostname, port } = new URL(redisUrl);
    throw new Error(`cannot reach Redis at ${hostname}:${port || 6379}: ${(error as Error).message}`);
  }
  try {
    return await work(new RedisPlannerState(redis));
  } finally {
    redis.disconnect();
  }
}

function refusal(
  id: string,
  reason: 'not-found' | 'already-decided' | 'expired',
  approval?: PendingApproval,
) {
  switch (reason) {
    case 'not-found':
      return `no approval ${id} (see kubepulse plans list)`;
    case 'already-decided':
      return `approval ${id} was already ${approval?.status} by ${approval?.decidedBy ?? 'someone'} at ${approval?.decidedAt ?? '?'}`;
    case 'expired':
      return `approval ${id} expired at ${approval?.expiresAt}; if the incident persists the planner proposes again`;
  }
}

/** An info alert, so the channel that was asked for approval hears the answer. */
async function tellTheTeam(
  alertsUrl: string | undefined,
  deps: PlansCliDeps,
  approval: PendingApproval,
  now: Date,
  reason: string | undefined,
): Promise<void> {
  if (!alertsUrl) return;
  const verb = approval.status === 'approved' ? 'approved' : 'rejected';
  const alert: Alert = {
    schemaVersion: 1,
    kind: 'alert',
    clusterId: approval.clusterId,
    alertId: `decision-${approval.approvalId}`.slice(0, 128),
    dedupKey: `${approval.incidentId}/decision`,
    severity: 'info',
    status: 'firing',
    title: `Remediation ${verb} by ${approval.decidedBy ?? 'someone'}`.slice(0, 300),
    summary: [
      `Approval ${approval.approvalId} for incident ${approval.incidentId}: ${verb}.`,
      ...(reason ? [`Reason: ${reason}`] : []),
      `Proposed: ${approval.proposal.actions.map(describeAction).join('; ')}`,
    ]
      .join('\n')
      .slice(0, 4000),
    createdAt: now.toISOString(),
    incidentId: approval.incidentId,
    ...(approval.target ? { target: approval.target } : {}),
    links: [],
  };
  await sendAlerts(deps.sqs ?? new SQSClient({}), alertsUrl, [alert]);
}

function listApprovals(
  approvals: readonly PendingApproval[],
  all: boolean,
  now: Date,
  out: (line: string) => void,
): void {
  const expired = (a: PendingApproval) => Date.parse(a.expiresAt) <= now.getTime();
  const shown = all ? approvals : approvals.filter((a) => a.status === 'pending' && !expired(a));
  if (shown.length === 0) {
    out(all ? 'no approvals' : 'no approvals pending');
    return;
  }
  for (const a of shown) {
    const status = a.status === 'pending' && expired(a) ? 'expired' : a.status;
    out(`${a.approvalId}  ${status}  cluster ${a.clusterId}  incident ${a.incidentId}`);
    if (a.target) out(`  target:    ${a.target.namespace}/${a.target.owner?.name ?? a.target.pod}`);
    // What the signed plan will be allowed to touch, and nothing else.
    if (a.scope) {
      const workload = a.scope.workload ? ` ${a.scope.workload.kind}/${a.scope.workload.name}` : '';
      const nodes = a.scope.nodes.length > 0 ? `, nodes ${a.scope.nodes.join(', ')}` : '';
      out(`  scope:     ${a.scope.clusterId}/${a.scope.namespace}${workload}${nodes}`);
    }
    out(
      `  proposed:  ${a.proposal.actions.map(describeAction).join('; ')} (${a.source}${a.dryRun ? ', dry run' : ''})`,
    );
    out(`  diagnosis: ${a.proposal.diagnosis}`);
    out(`  why:       ${a.reasons.join('; ')}`);
    out(
      status === 'pending'
        ? `  expires:   ${a.expiresAt} (in ${minutes(Date.parse(a.expiresAt) - now.getTime())})`
        : status === 'expired'
          ? `  expired:   ${a.expiresAt}`
          : `  decided:   by ${a.decidedBy ?? '?'} at ${a.decidedAt ?? '?'}`,
    );
    if (a.decisionReason) out(`  reason:    ${a.decisionReason}`);
  }
}

const minutes = (ms: number) =>
  ms >= 3_600_000
    ? `${Math.floor(ms / 3_600_000)}h${Math.floor((ms % 3_600_000) / 60_000)}m`
    : `${Math.ceil(ms / 60_000)}m`;
