import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { z } from 'zod';
import { RedisPlannerState } from '../functions/planner/adapters/redis-planner-state.js';
import type { PendingApproval } from '../functions/planner/core/ports.js';
import { describeAction } from '../functions/shared/actions/index.js';
import {
  checkSeal,
  DIGEST_PATTERN,
  shownDigestOf,
  shownLinesOf,
} from '../functions/shared/approvals/index.js';
import { describeError } from '../functions/shared/errors.js';
import { parsePublicKeyring } from '../functions/shared/signing.js';
import { type ApproverClient, type ApproverReply, functionUrlApprover } from './approver-client.js';

/**
 * `kubepulse plans list|show`, `kubepulse approve <id>` and `kubepulse reject <id>`: the human side of the
 * planner's approvals. Listing and showing read the planner's Redis; deciding is the approver function's job
 * (functions/approver), reached at its IAM-authenticated Function URL as the operator's own AWS identity. The
 * CLI holds no signing key: it shows the exact actions, and sends the approver the digest of what it showed,
 * so what is signed is what was seen, and who decided is whom IAM says.
 */
export const PLANS_USAGE = `usage: kubepulse plans list [--all]
       kubepulse plans show <approval-id>
       kubepulse approve <approval-id> [--yes | --digest <hex>] [--reason <text>]
       kubepulse reject <approval-id> [--reason <text>]

  plans list  approvals waiting for a human (--all: decided and expired ones too)
  plans show  the exact actions an approval would sign, its scope, expiry and digest
  approve     shows the approval; with --yes approves what it just showed, with --digest what
              plans show printed earlier (refused if the approval changed since)
  reject      refuse it
  --reason    kept with the decision and sent to the team with it

  environment: REDIS_URL; for approve and reject APPROVER_URL (the approver's Function URL) and AWS
  credentials and AWS_REGION as for any AWS CLI; PLAN_PUBLIC_KEYS to check the planner's seal when showing`;

const CliEnv = z.object({
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL'),
  APPROVER_URL: z.url().optional(),
  AWS_REGION: z.string().min(1).optional(),
  PLAN_PUBLIC_KEYS: z.string().min(1).optional(),
});

export interface PlansCliDeps {
  env: Record<string, string | undefined>;
  out: (line: string) => void;
  err: (line: string) => void;
  /** How to reach the approver; by default its Function URL (APPROVER_URL), signed with SigV4. */
  approver?: ApproverClient;
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
      yes: { type: 'boolean', default: false },
      digest: { type: 'string' },
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
  if (values.by !== undefined) {
    throw new UsageError('--by is gone: the approver records the IAM identity that called it');
  }
  if (deps.env.PLAN_SIGNING_KEY) {
    // Keys on laptops were the problem this replaced; say so rather than silently carry one around.
    deps.err('kubepulse: PLAN_SIGNING_KEY is not used by the CLI any more; remove it from this machine');
  }

  if (command === 'plans') {
    const [sub, id, ...extra] = positionals;
    if (sub === 'list' && id === undefined) {
      return withState(config.REDIS_URL, async (state) => {
        listApprovals(await state.listApprovals(), values.all ?? false, now, deps.out);
        return 0;
      });
    }
    if (sub === 'show' && id && extra.length === 0) {
      return withState(config.REDIS_URL, async (state) => {
        show(await found(state, id), config.PLAN_PUBLIC_KEYS, deps.out);
        return 0;
      });
    }
    throw new UsageError('plans takes one subcommand: list, or show <approval-id>');
  }
  if (command !== 'approve' && command !== 'reject') throw new UsageError(`unknown command ${command}`);
  const approvalId = positionals[0];
  if (!approvalId || positionals.length > 1) throw new UsageError(`${command} takes one approval id`);
  if (values.reason !== undefined && values.reason.length > MAX_REASON_LENGTH) {
    throw new UsageError(`--reason is at most ${MAX_REASON_LENGTH} characters`);
  }
  if (values.digest !== undefined && !DIGEST_PATTERN.test(values.digest)) {
    throw new UsageError('--digest is the 64 hex digits kubepulse plans show printed');
  }
  const reason = values.reason !== undefined ? { reason: values.reason } : {};

  let digest = values.digest;
  if (command === 'approve' && digest === undefined) {
    // Show first; approve only what was shown, and only when asked to.
    const approval = await withState(config.REDIS_URL, (state) => found(state, approvalId));
    show(approval, config.PLAN_PUBLIC_KEYS, deps.out);
    if (!values.yes) {
      deps.out(
        `nothing approved; to approve exactly the above: kubepulse approve ${approvalId} --digest ${shownDigestOf(approval)}`,
      );
      return 0;
    }
    digest = shownDigestOf(approval);
  }
  const approver = deps.approver ?? defaultApprover(config);
  const reply = await approver({
    approvalId,
    decision: command,
    ...(command === 'approve' && digest ? { digest } : {}),
    ...reason,
  });
  return report(approvalId, reply, deps);
}

function defaultApprover(config: z.infer<typeof CliEnv>): ApproverClient {
  if (!config.APPROVER_URL) {
    throw new Error(
      "deciding goes through the approver: set APPROVER_URL to its Function URL (the stack's ApproverUrl)",
    );
  }
  if (!config.AWS_REGION) throw new Error('set AWS_REGION to the approver’s region');
  return functionUrlApprover(config.APPROVER_URL, config.AWS_REGION);
}

async function found(state: RedisPlannerState, approvalId: string): Promise<PendingApproval> {
  const stored = await state.readApproval(approvalId);
  if (!stored.found) throw new Error(`no approval ${approvalId} (see kubepulse plans list)`);
  if (!stored.approval) throw new Error(`approval ${approvalId} is not a valid approval record (edited?)`);
  return stored.approval;
}

function show(approval: PendingApproval, publicKeys: string | undefined, out: (line: string) => void): void {
  for (const line of shownLinesOf(approval)) out(line);
  if (!publicKeys) {
    out('  seal:       not checked here (set PLAN_PUBLIC_KEYS); the approver checks it before signing');
    return;
  }
  const seal = checkSeal(approval, parsePublicKeyring(publicKeys));
  out(
    seal.ok
      ? `  seal:       valid (planner key ${approval.seal?.keyId})`
      : `  seal:       INVALID: ${seal.detail}`,
  );
}

function report(approvalId: string, reply: ApproverReply, deps: PlansCliDeps): number {
  switch (reply.status) {
    case 'approved':
      deps.out(
        `approved ${approvalId}: plan ${reply.planId} (${reply.actions} action${reply.actions === 1 ? '' : 's'}${reply.dryRun ? ', dry run' : ''}) sent to the remediations queue, valid until ${reply.expiresAt}`,
      );
      return 0;
    case 'rejected':
      deps.out(`rejected ${approvalId}; nothing will run`);
      return 0;
    case 'refused':
      deps.err(`kubepulse: the approver refused (${reply.reason}): ${reply.detail}`);
      return 1;
    default:
      deps.err(`kubepulse: the approver failed (HTTP ${reply.httpStatus}): ${reply.detail ?? 'no detail'}`);
      return 1;
  }
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
