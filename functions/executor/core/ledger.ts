import type { V1ConfigMap } from '@kubernetes/client-node';
import { ExecutionResult, RemediationPlan } from '../../shared/contracts/index.js';
import { shortId } from '../../shared/ids.js';
import type { UndoRecord } from './appliers/applier.js';
import { KubernetesConflictError, PlanBusyError } from './errors.js';
import type { ClusterPort } from './ports.js';

/**
 * One ConfigMap per plan in the executor's namespace. Creating it is the claim: the API server lets exactly one
 * create succeed, so a plan delivered twice is executed once. Every later change is a replace guarded by
 * resourceVersion, so two executors can never both believe they own the same plan. It records each step's undo
 * data before the step writes, and the final result, which a redelivery re-sends instead of acting again.
 */
export type StepState = 'pending' | 'started' | 'applied' | 'rolled-back' | 'kept';
export type Phase = 'claimed' | 'applying' | 'verifying' | 'rolling-back' | 'done';

export interface LedgerStep {
  state: StepState;
  undo?: UndoRecord;
  detail?: string;
}

export interface LedgerEntry {
  name: string;
  resourceVersion: string;
  planId: string;
  owner: string;
  heartbeatAt: string;
  phase: Phase;
  dryRun: boolean;
  /** When the first step wrote: what cooldowns count from. */
  appliedAt?: string;
  steps: LedgerStep[];
  result?: ExecutionResult;
  /**
   * The signed plan as claimed (verified before the claim), so the sweeper can verify or roll back a plan whose
   * message is gone. Absent on entries written before it was recorded.
   */
  plan?: RemediationPlan;
}

const LEDGER_LABEL = 'kubepulse.io/ledger';
const KEYS = {
  planId: 'plan-id',
  incidentId: 'incident-id',
  owner: 'owner',
  heartbeatAt: 'heartbeat-at',
  phase: 'phase',
  dryRun: 'dry-run',
  appliedAt: 'applied-at',
  steps: 'steps',
  targets: 'targets',
  result: 'result',
  plan: 'plan',
} as const;

/** A label per target, so the cooldown check finds the plans that touched it with one selector. */
export const targetLabel = (targetKey: string) => `kubepulse.io/target-${shortId(targetKey, 32)}`;

export class PlanLedger {
  constructor(
    private readonly cluster: ClusterPort,
    private readonly namespace: string,
    /** This executor process; a crashed owner's claim is taken over once its heartbeat is older than the lease. */
    readonly owner: string,
    private readonly leaseSeconds: number,
  ) {}

  static nameOf(planId: string): string {
    return `kubepulse-plan-${shortId(planId, 40)}`;
  }

  /** Claims the plan, or returns the existing entry (`fresh: false`) when it was claimed before. */
  async claim(
    plan: RemediationPlan,
    targetKeys: readonly string[],
    dryRun: boolean,
    now: Date,
  ): Promise<{ entry: LedgerEntry; fresh: boolean }> {
    const configMap: V1ConfigMap = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: PlanLedger.nameOf(plan.planId),
        namespace: this.namespace,
        labels: {
          'app.kubernetes.io/managed-by': 'kubepulse-executor',
          [LEDGER_LABEL]: 'plan',
          ...Object.fromEntries(targetKeys.map((key) => [targetLabel(key), 'true'])),
        },
      },
      data: {
        [KEYS.planId]: plan.planId,
        [KEYS.incidentId]: plan.incidentId,
        [KEYS.owner]: this.owner,
        [KEYS.heartbeatAt]: now.toISOString(),
        [KEYS.phase]: 'claimed',
        [KEYS.dryRun]: String(dryRun),
        [KEYS.steps]: JSON.stringify(plan.actions.map((): LedgerStep => ({ state: 'pending' }))),
        [KEYS.targets]: JSON.stringify(targetKeys),
        [KEYS.plan]: JSON.stringify(plan),
      },
    };
    const created = await this.cluster.create(configMap);
    if (created) return { entry: decode(created), fresh: true };
    const existing = await this.find(plan.planId);
    if (!existing) throw new PlanBusyError(`ledger entry for plan ${plan.planId} vanished while claiming it`);
    return { entry: existing, fresh: false };
  }

  async find(planId: string): Promise<LedgerEntry | undefined> {
    const configMap = await this.cluster.read<V1ConfigMap>({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      name: PlanLedger.nameOf(planId),
      namespace: this.namespace,
    });
    return configMap ? decode(configMap) : undefined;
  }

  /** Takes over an unfinished entry whose owner is this process or has stopped heart-beating. */
  async takeOver(entry: LedgerEntry, now: Date): Promise<LedgerEntry> {
    const idleSeconds = (now.getTime() - Date.parse(entry.heartbeatAt)) / 1000;
    if (entry.owner !== this.owner && idleSeconds < this.leaseSeconds) {
      throw new PlanBusyError(
        `plan ${entry.planId} is being executed by ${entry.owner} (heartbeat ${Math.round(idleSeconds)} s ago)`,
      );
    }
    return this.save({ ...entry, owner: this.owner }, now);
  }

  /** Writes the entry if nobody else has written it since we read it; refreshes the heartbeat. */
  async save(entry: LedgerEntry, now: Date): Promise<LedgerEntry> {
    const current = await this.cluster.read<V1ConfigMap>({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      name: entry.name,
      namespace: this.namespace,
    });
    if (!current) throw new PlanBusyError(`ledger entry ${entry.name} was deleted under us`);
    if (current.metadata?.resourceVersion !== entry.resourceVersion) {
      throw new PlanBusyError(`ledger entry for plan ${entry.planId} was changed by another executor`);
    }
    const data: Record<string, string> = {
      ...current.data,
      [KEYS.owner]: entry.owner,
      [KEYS.heartbeatAt]: now.toISOString(),
      [KEYS.phase]: entry.phase,
      [KEYS.steps]: JSON.stringify(entry.steps),
    };
    if (entry.appliedAt) data[KEYS.appliedAt] = entry.appliedAt;
    if (entry.result) data[KEYS.result] = JSON.stringify(entry.result);
    try {
      return decode(await this.cluster.replace<V1ConfigMap>({ ...current, data }));
    } catch (error) {
      if (error instanceof KubernetesConflictError) {
        throw new PlanBusyError(`ledger entry for plan ${entry.planId} was changed by another executor`, {
          cause: error,
        });
      }
      throw error;
    }
  }

  /** Plans other than `exceptPlanId` that wrote to the target since `since` (dry runs never count). */
  async recentWrites(targetKey: string, since: Date, exceptPlanId: string): Promise<LedgerEntry[]> {
    const configMaps = await this.cluster.list<V1ConfigMap>('v1', 'ConfigMap', {
      namespace: this.namespace,
      labelSelector: `${LEDGER_LABEL}=plan,${targetLabel(targetKey)}`,
    });
    return configMaps
      .map(decode)
      .filter(
        (entry) =>
          entry.planId !== exceptPlanId &&
          !entry.dryRun &&
          entry.appliedAt !== undefined &&
          Date.parse(entry.appliedAt) >= since.getTime(),
      );
  }

  /**
   * Entries not done whose owner has been silent since before `idleSince`: plans an executor claimed and then
   * stopped working on (a crash, or a message that will not come back), for the sweeper to settle.
   */
  async unfinished(idleSince: Date): Promise<LedgerEntry[]> {
    const configMaps = await this.cluster.list<V1ConfigMap>('v1', 'ConfigMap', {
      namespace: this.namespace,
      labelSelector: `${LEDGER_LABEL}=plan`,
    });
    return configMaps
      .map(decode)
      .filter((entry) => entry.phase !== 'done' && Date.parse(entry.heartbeatAt) < idleSince.getTime());
  }

  /** Deletes finished entries older than the retention, which must outlast the queue's message retention. */
  async prune(olderThan: Date): Promise<number> {
    const configMaps = await this.cluster.list<V1ConfigMap>('v1', 'ConfigMap', {
      namespace: this.namespace,
      labelSelector: `${LEDGER_LABEL}=plan`,
    });
    let deleted = 0;
    for (const configMap of configMaps) {
      const entry = decode(configMap);
      if (entry.phase !== 'done' || Date.parse(entry.heartbeatAt) >= olderThan.getTime()) continue;
      if (await this.cluster.delete(refOf(configMap), { uid: configMap.metadata?.uid })) deleted += 1;
    }
    return deleted;
  }
}

const refOf = (configMap: V1ConfigMap) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  name: configMap.metadata?.name ?? '',
  namespace: configMap.metadata?.namespace ?? '',
});

function decode(configMap: V1ConfigMap): LedgerEntry {
  const data = configMap.data ?? {};
  const result = data[KEYS.result];
  const planText = data[KEYS.plan];
  const plan = planText ? RemediationPlan.safeParse(safeJson(planText)) : undefined;
  return {
    name: configMap.metadata?.name ?? '',
    resourceVersion: configMap.metadata?.resourceVersion ?? '',
    planId: data[KEYS.planId] ?? '',
    owner: data[KEYS.owner] ?? '',
    heartbeatAt: data[KEYS.heartbeatAt] ?? new Date(0).toISOString(),
    phase: (data[KEYS.phase] ?? 'claimed') as Phase,
    dryRun: data[KEYS.dryRun] === 'true',
    ...(data[KEYS.appliedAt] ? { appliedAt: data[KEYS.appliedAt] } : {}),
    steps: JSON.parse(data[KEYS.steps] ?? '[]') as LedgerStep[],
    ...(result ? { result: ExecutionResult.parse(JSON.parse(result)) } : {}),
    ...(plan?.success ? { plan: plan.data } : {}),
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
