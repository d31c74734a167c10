import type { Redis } from 'ioredis';
import { ConcurrentUpdateError, DependencyUnavailableError } from '../../shared/errors.js';
import { approvedPlanIdOf } from '../core/approved-plan.js';
import {
  type ApprovalDecision,
  type ConclusionOutcome,
  type IncidentClaim,
  type IncidentConclusion,
  PendingApproval,
  PlannedIncident,
  type PlannerStatePort,
} from '../core/ports.js';

const IN_FLIGHT = 'in-flight';

// SET NX, or report what is there: one round trip, and two planners can never both claim an incident.
const CLAIM_LUA = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', tonumber(ARGV[2])) then return false end
return redis.call('GET', KEYS[1])
`;

// Deletes the key only while it still holds the in-flight marker: a recorded outcome is never dropped.
const RELEASE_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

// Compare-and-set on a whole incident record: ARGV[3] 'keep' keeps its TTL, otherwise it is the new TTL in seconds.
const REPLACE_INCIDENT_LUA = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[3] == 'keep' then redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
else redis.call('SET', KEYS[1], ARGV[2], 'EX', tonumber(ARGV[3])) end
return 1
`;

/** Concluding retries this often when a planner changes the record in between; more means a bug, not a race. */
const CONCLUDE_ATTEMPTS = 5;

// A fixed-window counter that never goes above its maximum, so a refused request costs nothing.
const TAKE_TOKEN_LUA = `
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count >= tonumber(ARGV[1]) then return 0 end
redis.call('INCR', KEYS[1])
if count == 0 then redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2])) end
return 1
`;

// Compare-and-set on the whole stored approval, so two people deciding at once cannot both win.
const REPLACE_IF_UNCHANGED_LUA = `
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1
`;

/** The planner's state in Redis; every call is one round trip and every multi-step change is a script. */
export class RedisPlannerState implements PlannerStatePort {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'kubepulse:planner:',
  ) {}

  private incidentKey = (fingerprint: string) => `${this.prefix}incident:${fingerprint}`;
  private cooldownKey = (target: string) => `${this.prefix}cooldown:${target}`;
  private get approvalsKey() {
    return `${this.prefix}approvals`;
  }

  async claimIncident(fingerprint: string, inFlightSeconds: number): Promise<IncidentClaim> {
    const existing = (await this.call('claiming an incident', () =>
      this.redis.eval(CLAIM_LUA, 1, this.incidentKey(fingerprint), IN_FLIGHT, inFlightSeconds),
    )) as string | null;
    if (existing === null) return { status: 'claimed' };
    if (existing === IN_FLIGHT) return { status: 'in-flight' };
    const record = PlannedIncident.safeParse(parseJson(existing));
    // A record this version cannot read is treated as planned with nothing to re-send: never plan twice.
    return {
      status: 'planned',
      record: record.success ? record.data : { anomalyIds: [], outputs: [] },
      revision: existing,
    };
  }

  async concludeIncident(
    fingerprint: string,
    conclusion: IncidentConclusion,
    clusterId?: string,
  ): Promise<ConclusionOutcome> {
    const key = this.incidentKey(fingerprint);
    for (let attempt = 0; attempt < CONCLUDE_ATTEMPTS; attempt++) {
      const stored = await this.call('reading an incident', () => this.redis.get(key));
      // Gone (its window passed), being planned again, or planned with other plans: this result ends nothing.
      if (stored === null || stored === IN_FLIGHT) return 'no-such-plan';
      const record = PlannedIncident.safeParse(parseJson(stored));
      if (!record.success || !planIdsOf(record.data, clusterId).includes(conclusion.planId)) {
        return 'no-such-plan';
      }
      const concluded = JSON.stringify({ ...record.data, conclusion });
      if (concluded === stored) return 'concluded';
      const replaced = await this.call('concluding an incident', () =>
        this.redis.eval(REPLACE_INCIDENT_LUA, 1, key, stored, concluded, 'keep'),
      );
      if (replaced === 1) return 'concluded';
    }
    throw new ConcurrentUpdateError(`incident ${fingerprint} kept changing while it was being concluded`);
  }

  async reopenIncident(fingerprint: string, revision: string, inFlightSeconds: number): Promise<boolean> {
    const replaced = await this.call('reopening an incident', () =>
      this.redis.eval(
        REPLACE_INCIDENT_LUA,
        1,
        this.incidentKey(fingerprint),
        revision,
        IN_FLIGHT,
        String(inFlightSeconds),
      ),
    );
    return replaced === 1;
  }

  async recordIncident(fingerprint: string, record: PlannedIncident, ttlSeconds: number): Promise<void> {
    await this.call('recording an incident', () =>
      this.redis.set(this.incidentKey(fingerprint), JSON.stringify(record), 'EX', ttlSeconds),
    );
  }

  async releaseIncident(fingerprint: string): Promise<void> {
    await this.call('releasing an incident', () =>
      this.redis.eval(RELEASE_LUA, 1, this.incidentKey(fingerprint), IN_FLIGHT),
    );
  }

  async cooldownRemaining(target: string): Promise<number> {
    const ttl = await this.call('reading a cooldown', () => this.redis.ttl(this.cooldownKey(target)));
    return Math.max(0, ttl);
  }

  async startCooldown(target: string, seconds: number): Promise<void> {
    // COOLDOWN_SECONDS=0 turns cooldowns off; Redis refuses a key that expires after 0 s.
    if (seconds <= 0) return;
    await this.call('starting a cooldown', () =>
      this.redis.set(this.cooldownKey(target), '1', 'EX', seconds),
    );
  }

  async takeAutoPlanToken(scope: string, max: number, windowSeconds: number, now: Date): Promise<boolean> {
    const window = Math.floor(now.getTime() / 1000 / windowSeconds);
    const key = `${this.prefix}rate:${scope}:${windowSeconds}:${window}`;
    const taken = await this.call('taking a rate-limit token', () =>
      this.redis.eval(TAKE_TOKEN_LUA, 1, key, max, windowSeconds),
    );
    return taken === 1;
  }

  async saveApproval(approval: PendingApproval): Promise<void> {
    const valid = PendingApproval.parse(approval);
    await this.call('saving an approval', () =>
      this.redis.hset(this.approvalsKey, valid.approvalId, JSON.stringify(valid)),
    );
  }

  async getApproval(approvalId: string): Promise<PendingApproval | undefined> {
    const stored = await this.call('reading an approval', () =>
      this.redis.hget(this.approvalsKey, approvalId),
    );
    return stored === null ? undefined : decodeApproval(stored);
  }

  /** The stored approval as it is, telling "absent" from "present but not a valid approval" (edited?). */
  async readApproval(
    approvalId: string,
  ): Promise<{ found: false } | { found: true; approval: PendingApproval | undefined }> {
    const stored = await this.call('reading an approval', () =>
      this.redis.hget(this.approvalsKey, approvalId),
    );
    return stored === null ? { found: false } : { found: true, approval: decodeApproval(stored) };
  }

  /** The incident's record: absent, being planned, or planned (undefined fields when it cannot be read). */
  async readIncident(
    fingerprint: string,
  ): Promise<
    { status: 'unknown' } | { status: 'in-flight' } | { status: 'planned'; record?: PlannedIncident }
  > {
    const stored = await this.call('reading an incident', () =>
      this.redis.get(this.incidentKey(fingerprint)),
    );
    if (stored === null) return { status: 'unknown' };
    if (stored === IN_FLIGHT) return { status: 'in-flight' };
    const record = PlannedIncident.safeParse(parseJson(stored));
    return record.success ? { status: 'planned', record: record.data } : { status: 'planned' };
  }

  async listApprovals(): Promise<PendingApproval[]> {
    const all = await this.call('listing approvals', () => this.redis.hvals(this.approvalsKey));
    return all
      .flatMap((stored) => decodeApproval(stored) ?? [])
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  async decideApproval(
    approvalId: string,
    decision: 'approved' | 'rejected',
    decidedBy: string,
    now: Date,
    reason?: string,
  ): Promise<ApprovalDecision> {
    const stored = await this.call('reading an approval', () =>
      this.redis.hget(this.approvalsKey, approvalId),
    );
    const approval = stored === null ? undefined : decodeApproval(stored);
    if (stored === null || !approval) return { ok: false, reason: 'not-found' };
    if (approval.status !== 'pending') return { ok: false, reason: 'already-decided', approval };
    if (Date.parse(approval.expiresAt) <= now.getTime()) return { ok: false, reason: 'expired', approval };
    const decided = PendingApproval.parse({
      ...approval,
      status: decision,
      decidedBy,
      decidedAt: now.toISOString(),
      ...(reason ? { decisionReason: reason } : {}),
    });
    const replaced = await this.call('deciding an approval', () =>
      this.redis.eval(
        REPLACE_IF_UNCHANGED_LUA,
        1,
        this.approvalsKey,
        approvalId,
        stored,
        JSON.stringify(decided),
      ),
    );
    if (replaced !== 1)
      throw new ConcurrentUpdateError(`approval ${approvalId} changed while it was being decided`);
    return { ok: true, approval: decided };
  }

  private async call<T>(what: string, operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      throw new DependencyUnavailableError('redis', `${what} failed: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The plans an incident record stands for: those it sent, and those its approval requests become once approved. */
/** The ids of the incident's plans (approved ones included), only those for `clusterId` when given. */
function planIdsOf(record: PlannedIncident, clusterId?: string): string[] {
  return record.outputs.flatMap((output) =>
    output.kind === 'plan' && (!clusterId || output.plan.clusterId === clusterId)
      ? [output.plan.planId]
      : output.kind === 'approval-request' && (!clusterId || output.approval.clusterId === clusterId)
        ? [approvedPlanIdOf(output.approval.approvalId)]
        : [],
  );
}

function decodeApproval(stored: string): PendingApproval | undefined {
  const result = PendingApproval.safeParse(parseJson(stored));
  return result.success ? result.data : undefined;
}
