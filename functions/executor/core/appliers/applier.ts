import type { KubernetesObject } from '@kubernetes/client-node';
import { targetOf } from '../../../shared/actions/index.js';
import type { RemediationAction } from '../../../shared/contracts/index.js';
import { ConcurrentUpdateError } from '../../../shared/errors.js';
import { KubernetesConflictError, TargetMismatchError } from '../errors.js';
import type { ClusterPort, ObjectRef, PatchKind } from '../ports.js';

/** What a step recorded before it wrote: enough to put the target back, and to recognise our own write. */
export type UndoRecord = Record<string, unknown>;

export interface StepContext {
  cluster: ClusterPort;
  planId: string;
  /** Which step of the plan this is: with the plan id, it tells whether this very step already wrote. */
  stepIndex: number;
  now: () => Date;
  /** Fresh read + new patch attempts when the object changes under us (HTTP 409). */
  conflictAttempts: number;
  /**
   * Waits between those attempts. A Deployment rolling out after a plan's first step has its status written
   * several times a second; attempts back to back can all land in that stream. Default: no wait.
   */
  sleep?: (milliseconds: number) => Promise<void>;
}

/** The wait before conflict attempt `attempt + 1`: 100 ms doubling, with jitter so two writers part ways. */
export const conflictBackoffMs = (attempt: number, random = Math.random) =>
  Math.round(100 * 2 ** (attempt - 1) * (0.5 + random()));

export interface Progress {
  /** The change is in effect and the target has settled (rollout complete, pods ready). */
  done: boolean;
  /** Settling is impossible (e.g. the rollout exceeded its progress deadline); no point waiting. */
  failed?: boolean;
  detail: string;
}

/**
 * The executor's half of one action: how it is carried out through the API server, on the target its spec
 * (`shared/actions/`) names. Where its event, annotation and cooldown go is that target too.
 */
export interface Applier<A extends RemediationAction = RemediationAction> {
  /** Server-side dry run on a fresh read: throws what the real write would throw, persists nothing. */
  dryRun(action: A, ctx: StepContext): Promise<void>;
  /**
   * Makes the change. `record` is awaited with the undo data before the write, so a crash after the write can
   * still be undone. Returns a description of what changed.
   */
  apply(action: A, ctx: StepContext, record: (undo: UndoRecord) => Promise<void>): Promise<string>;
  /** Whether this plan's change is already on the target: a redelivery after a crash between write and ledger. */
  alreadyApplied(action: A, ctx: StepContext, undo: UndoRecord | undefined): Promise<boolean>;
  /** Puts back what `apply` changed, unless someone has changed it since; returns what it did. */
  rollback(action: A, ctx: StepContext, undo: UndoRecord): Promise<{ restored: boolean; detail: string }>;
  progress(action: A, ctx: StepContext, undo: UndoRecord): Promise<Progress>;
}

export const ANNOTATIONS = {
  lastRemediation: 'kubepulse.io/last-remediation',
  lastStep: 'kubepulse.io/last-remediation-step',
  lastAction: 'kubepulse.io/last-remediation-action',
  lastAt: 'kubepulse.io/last-remediation-at',
  lastRollback: 'kubepulse.io/last-rollback',
  lastRollbackStep: 'kubepulse.io/last-rollback-step',
} as const;

/** A change described on a fresh read of the target; `patch` holds only the fields that change. */
export interface Change {
  patch: Record<string, unknown>;
  undo: UndoRecord;
  detail: string;
}

/** How one patch-based action changes, reverts and checks its target. Pure apart from `progress`. */
export interface PatchSteps<A extends RemediationAction, T extends KubernetesObject> {
  patchKind: PatchKind;
  change(action: A, current: T, now: Date): Change;
  /** The patch that restores `undo`, or why it must not be restored (the value is no longer the one we wrote). */
  revert(action: A, current: T, undo: UndoRecord): { patch: Record<string, unknown> } | { skip: string };
  progress(action: A, current: T, undo: UndoRecord, cluster: ClusterPort): Promise<Progress> | Progress;
}

/**
 * The read → patch → dry run → write cycle every patch-based action shares, on the target its spec names. Each
 * write carries the resourceVersion it was built from, so a concurrent change makes it fail with 409 and it is
 * rebuilt on a fresh read rather than overwriting what someone else just did. The same write stamps the target
 * with the plan id, which is how a redelivered plan knows the change already happened.
 */
export function patchApplier<A extends RemediationAction, T extends KubernetesObject>(
  steps: PatchSteps<A, T>,
): Applier<A> {
  return {
    async dryRun(action, ctx) {
      const build = (current: T) => ({
        patch: steps.change(action, current, ctx.now()).patch,
        annotations: stamp(action, ctx),
      });
      await conditionalWrite(steps, action, ctx, build, { dryRun: true });
    },
    apply: (action, ctx, record) => applyChange(steps, action, ctx, record),
    alreadyApplied: (action, ctx) => stampedByThisStep(action, ctx),
    rollback: (action, ctx, undo) => revertChange(steps, action, ctx, undo),
    async progress(action, ctx, undo) {
      return steps.progress(action, await readTarget<T>(action, ctx), undo, ctx.cluster);
    },
  };
}

/** The fields a write changes, and the annotations it stamps on the target. */
interface Write {
  patch: Record<string, unknown>;
  annotations: Record<string, string>;
}

async function readTarget<T extends KubernetesObject>(
  action: RemediationAction,
  ctx: StepContext,
): Promise<T> {
  const ref = targetOf(action);
  const current = await ctx.cluster.read<T>(ref);
  if (!current) throw new TargetMismatchError(`${describeRef(ref)} does not exist`);
  return current;
}

/**
 * One conditional write built on a fresh read: dry run, then (unless dry-running) `beforeWrite`, then the write
 * itself. Undefined when `build` decides there is nothing to write.
 */
async function conditionalWrite<A extends RemediationAction, T extends KubernetesObject>(
  steps: PatchSteps<A, T>,
  action: A,
  ctx: StepContext,
  build: (current: T) => Write | undefined,
  options: { dryRun: boolean; beforeWrite?: () => Promise<void> },
): Promise<T | undefined> {
  const ref = targetOf(action);
  for (let attempt = 1; ; attempt += 1) {
    const current = await readTarget<T>(action, ctx);
    const built = build(current);
    if (!built) return undefined;
    const body = withMetadata(ref, current, built.patch, built.annotations) as T;
    try {
      const dryRun = await ctx.cluster.patch(body, steps.patchKind, { dryRun: true });
      if (options.dryRun) return dryRun;
      await options.beforeWrite?.();
      return await ctx.cluster.patch(body, steps.patchKind);
    } catch (error) {
      if (!(error instanceof KubernetesConflictError)) throw error;
      if (attempt >= ctx.conflictAttempts) {
        throw new ConcurrentUpdateError(`${describeRef(ref)} kept changing under us (${attempt} attempts)`, {
          cause: error,
        });
      }
      await ctx.sleep?.(conflictBackoffMs(attempt));
    }
  }
}

const stamp = (action: RemediationAction, ctx: StepContext) => ({
  [ANNOTATIONS.lastRemediation]: ctx.planId,
  [ANNOTATIONS.lastStep]: String(ctx.stepIndex),
  [ANNOTATIONS.lastAction]: action.action,
  [ANNOTATIONS.lastAt]: ctx.now().toISOString(),
});

async function applyChange<A extends RemediationAction, T extends KubernetesObject>(
  steps: PatchSteps<A, T>,
  action: A,
  ctx: StepContext,
  record: (undo: UndoRecord) => Promise<void>,
): Promise<string> {
  let change: Change | undefined;
  await conditionalWrite(
    steps,
    action,
    ctx,
    (current) => {
      change = steps.change(action, current, ctx.now());
      return { patch: change.patch, annotations: stamp(action, ctx) };
    },
    // Recorded from the same read the patch is built on, before the write, so a crash after it can be undone.
    { dryRun: false, beforeWrite: () => record(change!.undo) },
  );
  return change!.detail;
}

async function stampedByThisStep(action: RemediationAction, ctx: StepContext): Promise<boolean> {
  const annotations = (await ctx.cluster.read(targetOf(action)))?.metadata?.annotations ?? {};
  return (
    annotations[ANNOTATIONS.lastRemediation] === ctx.planId &&
    annotations[ANNOTATIONS.lastStep] === String(ctx.stepIndex)
  );
}

async function revertChange<A extends RemediationAction, T extends KubernetesObject>(
  steps: PatchSteps<A, T>,
  action: A,
  ctx: StepContext,
  undo: UndoRecord,
): Promise<{ restored: boolean; detail: string }> {
  const ref = targetOf(action);
  const annotations = (await readTarget<T>(action, ctx)).metadata?.annotations ?? {};
  // Our own rollback already wrote before the executor stopped: nothing left to restore.
  if (
    annotations[ANNOTATIONS.lastRollback] === ctx.planId &&
    annotations[ANNOTATIONS.lastRollbackStep] === String(ctx.stepIndex)
  ) {
    return { restored: true, detail: `restored ${describeRef(ref)} before a restart` };
  }
  let skipped: string | undefined;
  const build = (current: T): Write | undefined => {
    const revert = steps.revert(action, current, undo);
    if ('skip' in revert) {
      skipped = revert.skip;
      return undefined;
    }
    const rollbackStamp = {
      [ANNOTATIONS.lastRollback]: ctx.planId,
      [ANNOTATIONS.lastRollbackStep]: String(ctx.stepIndex),
    };
    return { patch: revert.patch, annotations: rollbackStamp };
  };
  const reverted = await conditionalWrite(steps, action, ctx, build, { dryRun: false });
  if (!reverted) return { restored: false, detail: skipped ?? 'nothing to restore' };
  return { restored: true, detail: `restored ${describeRef(ref)}` };
}

function withMetadata(
  ref: ObjectRef,
  current: KubernetesObject,
  patch: Record<string, unknown>,
  annotations: Record<string, string>,
): KubernetesObject {
  return {
    ...patch,
    apiVersion: ref.apiVersion,
    kind: ref.kind,
    metadata: {
      name: ref.name,
      ...(ref.namespace ? { namespace: ref.namespace } : {}),
      resourceVersion: current.metadata?.resourceVersion,
      annotations,
    },
  } as KubernetesObject;
}

export const describeRef = (ref: ObjectRef) =>
  `${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`;
