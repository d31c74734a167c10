import type { V1Pod } from '@kubernetes/client-node';
import {
  evaluateSignedPlan,
  namespaceRefusals,
  type RemediationPolicy,
} from '../../shared/actions/policy.js';
import { targetOf } from '../../shared/actions/registry.js';
import {
  decodeMessageBody,
  type ExecutionResult,
  type RemediationAction,
  RemediationPlan,
} from '../../shared/contracts/index.js';
import { describeError, isRetryable, MalformedMessageError } from '../../shared/errors.js';
import type { LoggerPort } from '../../shared/logger.js';
import { type Keyring, verifyPlan } from '../../shared/signing.js';
import type { Applier, StepContext } from './appliers/applier.js';
import { APPLIERS } from './appliers/index.js';
import { type AuditTrail, EVENT_REASONS } from './audit.js';
import { topController } from './controller.js';
import { EvictionBlockedError, SafetyLimitError, UnknownSigningKeyError } from './errors.js';
import { gatherFacts } from './facts.js';
import type { LedgerEntry, PlanLedger } from './ledger.js';
import type { ClusterPort, ObjectRef, UsageProbe } from './ports.js';
import { replayRefusals } from './replay-guard.js';
import { circuitOpenError, type SafetyLedger } from './safety.js';
import { waitUntilSettled } from './settle.js';

export interface ExecutorSettings {
  clusterId: string;
  /** A target written by one plan is left alone by the next for this long. */
  cooldownSeconds: number;
  /** How long a change may take to settle (rollout complete, pods ready) before it is rolled back. */
  verifyTimeoutSeconds: number;
  verifyPollMilliseconds: number;
  conflictAttempts: number;
  clockSkewSeconds: number;
  /** Plans valid for longer than this (`expiresAt - createdAt`) are refused, however well signed. */
  maxPlanLifetimeSeconds: number;
}

export interface ExecutorDeps {
  cluster: ClusterPort;
  ledger: PlanLedger;
  keyring: Keyring;
  /** The executor's own policy: every action is re-checked against it whatever the plan says. */
  policy: RemediationPolicy;
  audit: AuditTrail;
  logger: LoggerPort;
  usage?: UsageProbe;
  /**
   * The hourly write budget and the rollback circuit breaker, across all plans (safety.ts). The runtime always
   * sets it; suites about other rules leave it out.
   */
  safety?: SafetyLedger;
  settings: ExecutorSettings;
  now: () => Date;
  sleep: (milliseconds: number) => Promise<void>;
}

/** What to do with the message: report a result (then delete it), or park it in the DLQ with a reason. */
export type PlanOutcome =
  | {
      kind: 'result';
      result: ExecutionResult;
      replayed: boolean;
      security?: string;
      /** Refused by a limit of the executor's own: `write-budget`, `circuit-open` or `eviction-blocked`. */
      limit?: string;
    }
  | { kind: 'malformed'; error: MalformedMessageError };

type StepOutcome = ExecutionResult['steps'][number];

/**
 * One plan, start to finish: authenticate it, claim it in the ledger, re-check every action against local policy
 * with live facts, dry-run every step, apply them in order, wait for them to settle, and roll everything back if
 * any of that fails (a plan is applied whole or not at all). A retryable error is thrown: the message stays in
 * the queue and its redelivery resumes from the ledger, skipping the steps already applied.
 */
export async function executePlanMessage(body: string, deps: ExecutorDeps): Promise<PlanOutcome> {
  const startedAt = deps.now();
  let candidate: unknown;
  try {
    candidate = decodeMessageBody(body);
  } catch (error) {
    return { kind: 'malformed', error: error as MalformedMessageError };
  }
  const verification = verifyPlan(candidate, deps.keyring, startedAt, {
    clockSkewSeconds: deps.settings.clockSkewSeconds,
    maxLifetimeSeconds: deps.settings.maxPlanLifetimeSeconds,
  });
  if (!verification.ok && verification.reason === 'malformed') {
    return {
      kind: 'malformed',
      error: new MalformedMessageError(`not a remediation plan: ${verification.detail}`),
    };
  }
  // Parsed by verifyPlan already; parsed again here only to report on a plan that failed verification.
  const plan = verification.ok ? verification.plan : RemediationPlan.parse(candidate);
  // Never deleted: a key rotation done in the wrong order must not lose plans (the poller retries, then parks it).
  if (!verification.ok && verification.reason === 'unknown-key') {
    throw new UnknownSigningKeyError(plan.signature.keyId, plan.planId);
  }
  const run = new PlanRun(plan, deps, startedAt);
  if (!verification.ok) {
    deps.logger.error('security: remediation plan refused', {
      security: true,
      planId: plan.planId,
      incidentId: plan.incidentId,
      keyId: plan.signature.keyId,
      reason: verification.reason,
      detail: verification.detail,
    });
    // An authentic plan that expired mid-execution (a redelivery after a crash) must not stay half-applied.
    if (verification.reason === 'expired') {
      const entry = await deps.ledger.find(plan.planId);
      if (entry) return run.resumeExpired(entry, verification.detail);
    }
    return run.refusedUntouched(`${verification.reason}: ${verification.detail}`, verification.reason);
  }
  // Defence in depth: each cluster's plans travel on its own queue, signed with its own key, so this only fires
  // when the queues or keys are misconfigured (or an attacker copied a plan across). Refused, never executed.
  if (plan.clusterId !== deps.settings.clusterId) {
    return run.refusedUntouched(
      `wrong-cluster: plan is for cluster ${plan.clusterId}, this is ${deps.settings.clusterId}`,
      'wrong-cluster',
    );
  }
  if (plan.scope.clusterId !== plan.clusterId) {
    return run.refusedUntouched(
      `plan's scope is cluster ${plan.scope.clusterId}, but the plan is for ${plan.clusterId}`,
    );
  }
  return run.execute();
}

/**
 * Settles a ledger entry left unfinished (the sweeper): the plan comes from the entry itself, where it was stored
 * when claimed (after its signature was verified). Undefined for an entry without a readable plan, which the
 * sweeper reports as unsettled.
 */
export async function settleAbandonedPlan(
  entry: LedgerEntry,
  deps: ExecutorDeps,
): Promise<PlanOutcome | undefined> {
  if (!entry.plan) return undefined;
  return new PlanRun(entry.plan, deps, deps.now()).settleAbandoned(entry);
}

class PlanRun {
  private readonly appliers: Applier[];
  private readonly targets: ObjectRef[];
  private readonly ctx: Omit<StepContext, 'stepIndex'>;
  private readonly dryRun: boolean;

  constructor(
    private readonly plan: RemediationPlan,
    private readonly deps: ExecutorDeps,
    private readonly startedAt: Date,
  ) {
    this.appliers = plan.actions.map((action) => APPLIERS[action.action] as Applier);
    this.targets = plan.actions.map(targetOf);
    this.ctx = {
      cluster: deps.cluster,
      planId: plan.planId,
      now: deps.now,
      conflictAttempts: deps.settings.conflictAttempts,
      sleep: deps.sleep,
    };
    // The executor's own policy can force dry runs whatever the plan asks for.
    this.dryRun = plan.dryRun || deps.policy.dryRun;
  }

  /** Refused before anything was claimed or read: forged, tampered, expired, or for another cluster. */
  refusedUntouched(reason: string, security?: string): PlanOutcome {
    const steps = this.plan.actions.map(
      (action): StepOutcome => ({ action, status: 'refused', detail: reason }),
    );
    return {
      kind: 'result',
      result: this.result('refused', steps, reason),
      replayed: false,
      ...(security ? { security } : {}),
    };
  }

  async execute(): Promise<PlanOutcome> {
    const { ledger } = this.deps;
    const cooldownKeys = await this.cooldownKeys();
    const claim = await ledger.claim(
      this.plan,
      [...new Set(cooldownKeys.flat())],
      this.dryRun,
      this.deps.now(),
    );
    let entry = claim.entry;
    // The ledger may have been deleted since this plan ran: its id on a target says so.
    const replayed = claim.fresh ? await replayRefusals(this.plan, this.deps.cluster) : [];
    if (replayed.length > 0) return this.refuse(entry, replayed);
    if (!claim.fresh) {
      if (entry.phase === 'done' && entry.result) return this.replay(entry);
      entry = await ledger.takeOver(entry, this.deps.now());
      entry = await this.recoverStartedSteps(entry);
      this.deps.logger.warn('resuming a plan left unfinished', {
        planId: this.plan.planId,
        phase: entry.phase,
        steps: entry.steps.map((s) => s.state),
      });
      // A rollback interrupted by a restart is finished, never turned back into an execution.
      if (entry.phase === 'rolling-back') {
        return this.rollBack(entry, 'rolled-back', 'rollback resumed after the executor restarted');
      }
    }
    try {
      const refusals = await this.policyRefusals(entry, cooldownKeys);
      if (refusals.length > 0) {
        const outcome = await this.refuse(entry, refusals);
        const circuitOpen = refusals[0]?.startsWith('circuit-open') && outcome.kind === 'result';
        return circuitOpen ? { ...outcome, limit: 'circuit-open' } : outcome;
      }
      await this.dryRunPending(entry);
      if (this.dryRun) return await this.finishDryRun(entry);
      entry = await this.applyPending(entry);
      const verification = await this.verify(entry);
      entry = verification.entry;
      if (!verification.ok) return await this.rollBack(entry, 'rolled-back', verification.detail);
      return await this.finish(entry, 'verified', this.stepOutcomes(entry));
    } catch (error) {
      if (isRetryable(error)) throw error;
      // Limits that say "not now" before anything was written: a refusal with its reason, not a failure.
      if (error instanceof SafetyLimitError || error instanceof EvictionBlockedError) {
        return this.refusedByLimit(await this.refreshed(entry), error);
      }
      const detail = describeError(error).message;
      this.deps.logger.error('remediation plan failed', {
        planId: this.plan.planId,
        error: describeError(error),
      });
      return this.rollBack(await this.refreshed(entry), 'failed', detail);
    }
  }

  /**
   * The sweeper's way in: a plan claimed and left unfinished (its executor crashed, or its message will not come
   * back). Nothing new is applied: what was written is verified and kept if the targets settled, rolled back if
   * not; an interrupted rollback is finished; a plan that wrote nothing is closed as failed.
   */
  async settleAbandoned(found: LedgerEntry): Promise<PlanOutcome> {
    if (found.phase === 'done' && found.result) return this.replay(found);
    let entry = await this.deps.ledger.takeOver(found, this.deps.now());
    entry = await this.recoverStartedSteps(entry);
    const abandoned = `the executor left the plan unfinished (phase ${found.phase})`;
    if (entry.phase === 'rolling-back')
      return this.rollBack(entry, 'rolled-back', `${abandoned}; rollback finished by the sweeper`);
    if (!entry.steps.some((s) => s.state === 'applied')) {
      const steps = this.plan.actions.map(
        (action): StepOutcome => ({ action, status: 'failed', detail: `${abandoned}; nothing was written` }),
      );
      return this.finish(entry, 'failed', steps, `${abandoned}; nothing was written; closed by the sweeper`);
    }
    // Only part of the plan was written: a plan is applied whole or not at all, and the sweeper applies nothing.
    if (entry.steps.some((s) => s.state === 'pending')) {
      return this.rollBack(entry, 'rolled-back', `${abandoned} part-way; the sweeper undid what it wrote`);
    }
    try {
      const verification = await this.verify(entry);
      entry = verification.entry;
      if (!verification.ok) {
        return await this.rollBack(
          entry,
          'rolled-back',
          `${abandoned}; the sweeper found: ${verification.detail}`,
        );
      }
      return await this.finish(
        entry,
        'verified',
        this.stepOutcomes(entry),
        `${abandoned}; verified by the sweeper`,
      );
    } catch (error) {
      if (isRetryable(error)) throw error;
      return this.rollBack(await this.refreshed(entry), 'failed', describeError(error).message);
    }
  }

  /** The plan expired before it finished: undo what it wrote rather than finishing it late. */
  async resumeExpired(found: LedgerEntry, detail: string): Promise<PlanOutcome> {
    if (found.phase === 'done' && found.result) return this.replay(found);
    let entry = await this.deps.ledger.takeOver(found, this.deps.now());
    entry = await this.recoverStartedSteps(entry);
    return this.rollBack(entry, 'refused', `plan expired before it finished (${detail})`);
  }

  private replay(entry: LedgerEntry): PlanOutcome {
    this.deps.logger.info('plan already executed; re-sending its result', {
      planId: this.plan.planId,
      status: entry.result?.status,
    });
    return { kind: 'result', result: entry.result!, replayed: true };
  }

  /** A step that recorded its undo data but not its completion may or may not have written; the target says. */
  private async recoverStartedSteps(entry: LedgerEntry): Promise<LedgerEntry> {
    let changed = false;
    for (const [index, step] of entry.steps.entries()) {
      if (step.state !== 'started') continue;
      const action = this.plan.actions[index]!;
      const applied = await this.appliers[index]!.alreadyApplied(action, this.step(index), step.undo);
      entry.steps[index] = applied
        ? { ...step, state: 'applied', detail: 'written before the executor stopped' }
        : { state: 'pending' };
      changed = true;
    }
    return changed ? this.deps.ledger.save(entry, this.deps.now()) : entry;
  }

  /**
   * What each action's cooldown is about: its target, and for a pod its controller too, since the pod that
   * replaces a deleted one has a new name but the same workload.
   */
  private async cooldownKeys(): Promise<string[][]> {
    return Promise.all(
      this.plan.actions.map(async (action, index) => {
        const own = targetKey(this.targets[index]!);
        if (action.action !== 'delete-pod') return [own];
        const pod = await this.deps.cluster.read<V1Pod>(this.targets[index]!);
        const controller = pod && (await topController(this.deps.cluster, pod));
        return controller ? [own, targetKey({ ...controller, namespace: action.namespace })] : [own];
      }),
    );
  }

  private async policyRefusals(entry: LedgerEntry, cooldownKeys: string[][]): Promise<string[]> {
    // The circuit breaker first: while it is open no automatic plan is looked at further.
    if (!this.dryRun && this.plan.source !== 'human' && this.deps.safety) {
      const circuit = await this.deps.safety.circuit();
      if (circuit) return [circuitOpenError(circuit).message];
    }
    // A namespace the policy refuses is refused before anything in it is read: the executor's RBAC lets it read
    // and list only where it may act, and a 403 there would report the plan failed instead of refused.
    const namespaces = new Set([
      this.plan.scope.namespace,
      ...this.plan.actions.flatMap((action) => ('namespace' in action ? [action.namespace] : [])),
    ]);
    const deniedNamespaces = [...namespaces].flatMap((namespace) =>
      namespaceRefusals(namespace, this.deps.policy),
    );
    if (deniedNamespaces.length > 0) return deniedNamespaces;
    const facts = await gatherFacts(this.plan, this.deps.cluster, this.deps.usage);
    // The planner's plan-level rules and bounds, the same code, on live facts: steps a resumed plan already
    // applied are in those facts and are not counted twice.
    const evaluation = evaluateSignedPlan(
      this.plan,
      facts,
      this.deps.policy,
      (index) => entry.steps[index]?.state !== 'pending',
    );
    const reasons: string[] = [];
    if (evaluation.verdict === 'refused') reasons.push(...evaluation.reasons);
    else if (evaluation.verdict === 'needs-approval' && this.plan.source !== 'human') {
      reasons.push(
        `needs a human's approval by local policy (${evaluation.reasons.join('; ')}), and the plan is from ${this.plan.source}`,
      );
    }
    if (this.dryRun) return reasons;
    const since = new Date(this.deps.now().getTime() - this.deps.settings.cooldownSeconds * 1000);
    for (const [index] of this.plan.actions.entries()) {
      if (entry.steps[index]?.state !== 'pending') continue;
      for (const key of cooldownKeys[index] ?? []) {
        const recent = await this.deps.ledger.recentWrites(key, since, this.plan.planId);
        if (recent.length > 0) {
          reasons.push(
            `action ${index + 1}: ${key} is cooling down after plan ${recent[0]!.planId} (${this.deps.settings.cooldownSeconds} s)`,
          );
        }
      }
    }
    return reasons;
  }

  private async refuse(entry: LedgerEntry, reasons: string[]): Promise<PlanOutcome> {
    const detail = reasons.join('; ');
    this.deps.logger.warn('remediation plan refused by local policy', { planId: this.plan.planId, reasons });
    for (const [index, action] of this.plan.actions.entries()) {
      await this.deps.audit.record({
        ...this.auditBase(index, action),
        reason: EVENT_REASONS.refused,
        message: `refused: ${detail}`.slice(0, 900),
      });
    }
    if (entry.steps.some((s) => s.state === 'applied')) return this.rollBack(entry, 'refused', detail);
    const steps = this.plan.actions.map((action): StepOutcome => ({ action, status: 'refused', detail }));
    return this.finish(entry, 'refused', steps, detail);
  }

  /** Every pending step through the API server's dry run before the first real write. */
  private async dryRunPending(entry: LedgerEntry): Promise<void> {
    for (const [index, action] of this.plan.actions.entries()) {
      if (entry.steps[index]?.state === 'pending')
        await this.appliers[index]!.dryRun(action, this.step(index));
    }
  }

  private async finishDryRun(entry: LedgerEntry): Promise<PlanOutcome> {
    const steps = this.plan.actions.map(
      (action): StepOutcome => ({
        action,
        status: 'applied',
        detail: 'dry run: the API server accepted the change; nothing was written',
      }),
    );
    return this.finish(entry, 'applied-unverified', steps, 'dry run: nothing was written');
  }

  private async applyPending(entry: LedgerEntry): Promise<LedgerEntry> {
    const { ledger } = this.deps;
    // One write per action, reserved whole before the first one (once per plan: a resumed plan has its share).
    const pending = entry.steps.filter((step) => step.state === 'pending').length;
    await this.deps.safety?.reserve(this.plan.planId, pending, this.deps.now(), this.plan.source !== 'human');
    let current = await ledger.save({ ...entry, phase: 'applying' }, this.deps.now());
    for (const [index, action] of this.plan.actions.entries()) {
      if (current.steps[index]?.state !== 'pending') continue;
      const detail = await this.appliers[index]!.apply(action, this.step(index), async (undo) => {
        current.steps[index] = { state: 'started', undo };
        current.appliedAt ??= this.deps.now().toISOString();
        current = await ledger.save(current, this.deps.now());
      });
      current.steps[index] = { ...current.steps[index], state: 'applied', detail };
      current = await ledger.save(current, this.deps.now());
      await this.deps.audit.record({
        ...this.auditBase(index, action),
        reason: EVENT_REASONS.applied,
        message: detail,
      });
    }
    return current;
  }

  /** Waits for every step to settle, then asks the usage probe whether the plan helped. */
  private async verify(entry: LedgerEntry): Promise<{ ok: boolean; detail: string; entry: LedgerEntry }> {
    const { settings, now, sleep, ledger } = this.deps;
    let current = await ledger.save({ ...entry, phase: 'verifying' }, now());
    const settled = await waitUntilSettled(
      this.plan.actions.map(
        (action, index) => () =>
          this.appliers[index]!.progress(action, this.step(index), current.steps[index]?.undo ?? {}),
      ),
      {
        timeoutSeconds: settings.verifyTimeoutSeconds,
        pollMilliseconds: settings.verifyPollMilliseconds,
        now,
        sleep,
        betweenPolls: async () => {
          current = await ledger.save(current, now());
        },
      },
    );
    if (!settled.ok) return { ...settled, entry: current };
    for (const [index, action] of this.plan.actions.entries()) {
      const check = await this.deps.usage?.check(action);
      if (check && !check.healthy) {
        return {
          ok: false,
          detail: `usage check failed: action ${index + 1}: ${check.detail}`,
          entry: current,
        };
      }
    }
    return { ok: true, detail: settled.detail, entry: current };
  }

  /** Undoes every step this plan wrote, newest first, and finishes with `status`. */
  private async rollBack(
    entry: LedgerEntry,
    status: 'rolled-back' | 'failed' | 'refused',
    rollbackReason: string,
  ): Promise<PlanOutcome> {
    let reason = rollbackReason;
    const { ledger, now } = this.deps;
    const anyApplied = entry.steps.some((s) => s.state === 'applied');
    let current = anyApplied ? await ledger.save({ ...entry, phase: 'rolling-back' }, now()) : entry;
    for (let index = this.plan.actions.length - 1; index >= 0; index -= 1) {
      const step = current.steps[index];
      if (step?.state !== 'applied') continue;
      const action = this.plan.actions[index]!;
      const undone = await this.appliers[index]!.rollback(action, this.step(index), step.undo ?? {});
      current.steps[index] = {
        ...step,
        state: undone.restored ? 'rolled-back' : 'kept',
        detail: undone.detail,
      };
      current = await ledger.save(current, now());
      await this.deps.audit.record({
        ...this.auditBase(index, action),
        reason: EVENT_REASONS.rolledBack,
        message: `${undone.detail}: ${reason}`.slice(0, 900),
      });
    }
    const finalStatus = anyApplied && status !== 'failed' ? 'rolled-back' : status;
    if (anyApplied) reason = await this.countRollback(reason);
    const steps = this.plan.actions.map((action, index): StepOutcome => {
      const step = current.steps[index];
      if (step?.state === 'rolled-back') return { action, status: 'rolled-back', detail: step.detail ?? '' };
      if (step?.state === 'kept') return { action, status: 'applied', detail: step.detail ?? '' };
      return { action, status: status === 'failed' ? 'failed' : 'refused', detail: reason.slice(0, 2000) };
    });
    this.deps.logger.warn('remediation plan not completed', {
      planId: this.plan.planId,
      status: finalStatus,
      reason,
    });
    return this.finish(current, finalStatus, steps, reason);
  }

  /**
   * Counts a plan that wrote and had to be undone. When it opens the breaker the result says so (the planner
   * pages on it) and so does an error log worth paging on; the breaker's own write failing must not lose the
   * rollback's result, so it is logged instead.
   */
  private async countRollback(reason: string): Promise<string> {
    if (!this.deps.safety) return reason;
    try {
      const opened = await this.deps.safety.recordRollback(this.plan.planId, reason, this.deps.now());
      if (!opened) return reason;
      this.deps.logger.error(
        'circuit-open: the executor stops applying automatic plans until an operator resets it',
        {
          page: true,
          planId: this.plan.planId,
          reason: opened.reason,
        },
      );
      return `${reason}; circuit-open: ${opened.reason}; automatic plans are refused until an operator resets the breaker`;
    } catch (error) {
      this.deps.logger.error('could not count a rollback against the circuit breaker', {
        page: true,
        planId: this.plan.planId,
        error: describeError(error),
      });
      return reason;
    }
  }

  /** A safety limit or a PodDisruptionBudget said no: refused, and anything this plan wrote undone. */
  private async refusedByLimit(
    entry: LedgerEntry,
    error: SafetyLimitError | EvictionBlockedError,
  ): Promise<PlanOutcome> {
    this.deps.logger[error.code === 'circuit-open' ? 'error' : 'warn'](
      'remediation plan refused by a limit',
      {
        planId: this.plan.planId,
        limit: error.code,
        reason: error.message,
      },
    );
    const outcome = await this.refuse(entry, [error.message]);
    return outcome.kind === 'result' ? { ...outcome, limit: error.code } : outcome;
  }

  private stepOutcomes(entry: LedgerEntry): StepOutcome[] {
    return this.plan.actions.map((action, index) => ({
      action,
      status: 'applied',
      detail: (entry.steps[index]?.detail ?? '').slice(0, 2000),
    }));
  }

  /** Records the result in the ledger before it is sent, so a redelivery re-sends it instead of acting again. */
  private async finish(
    entry: LedgerEntry,
    status: ExecutionResult['status'],
    steps: StepOutcome[],
    error?: string,
  ): Promise<PlanOutcome> {
    const result = this.result(status, steps, error);
    await this.deps.ledger.save({ ...entry, phase: 'done', result }, this.deps.now());
    this.deps.logger.info('remediation plan finished', { planId: this.plan.planId, status });
    return { kind: 'result', result, replayed: false };
  }

  private result(status: ExecutionResult['status'], steps: StepOutcome[], error?: string): ExecutionResult {
    return {
      schemaVersion: 1,
      kind: 'execution-result',
      clusterId: this.plan.clusterId,
      planId: this.plan.planId,
      incidentId: this.plan.incidentId,
      status,
      steps,
      startedAt: this.startedAt.toISOString(),
      finishedAt: this.deps.now().toISOString(),
      ...(error ? { error: error.slice(0, 2000) } : {}),
    };
  }

  private step(index: number): StepContext {
    return { ...this.ctx, stepIndex: index };
  }

  private auditBase(index: number, action: RemediationAction) {
    return {
      planId: this.plan.planId,
      incidentId: this.plan.incidentId,
      stepIndex: index,
      action,
      target: this.targets[index]!,
    };
  }

  /** After a failure mid-step the in-memory entry may be stale; the ledger holds what was recorded. */
  private async refreshed(entry: LedgerEntry): Promise<LedgerEntry> {
    const found = await this.deps.ledger.find(this.plan.planId);
    if (!found) return entry;
    return this.recoverStartedSteps(found);
  }
}

/** One key per object a plan may change, shared by the duplicate check, cooldowns and the ledger's labels. */
export const targetKey = (ref: ObjectRef) => `${ref.kind}/${ref.namespace ?? ''}/${ref.name}`;
