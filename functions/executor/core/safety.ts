import type { KubernetesObject } from '@kubernetes/client-node';
import { KubernetesConflictError, SafetyLimitError } from './errors.js';
import type { ClusterPort, ObjectRef } from './ports.js';

/**
 * The executor's limits across all plans: a write budget per hour, and a circuit breaker that opens after too
 * many rollbacks within an hour and stays open until an operator closes it.
 *
 * Kept in a Lease of their own (coordination.k8s.io, `kubepulse-executor-safety` in the executor's namespace),
 * not in the plan ledger: the ledger is ConfigMaps the executor creates and prunes (and an operator may delete),
 * so deleting it would reset the counts. The executor's RBAC on Leases is get, create and update with no delete,
 * and its admission policy refuses any write by it that removes `kubepulse.io/circuit-open` once set: only an
 * operator closes the breaker (docs/operations.md). What a stolen executor token could still do is rewrite the
 * write counts of the last hour; docs/security.md says so.
 */
export const SAFETY_LEASE = 'kubepulse-executor-safety';

export const SAFETY_ANNOTATIONS = {
  /** JSON [{planId, at, writes}]: write reservations of the last hour, one per plan. */
  writes: 'kubepulse.io/writes',
  /** JSON [{planId, at}]: plans rolled back in the last hour. */
  rollbacks: 'kubepulse.io/rollbacks',
  /** JSON {openedAt, reason} while the breaker is open; removed only by an operator. */
  circuitOpen: 'kubepulse.io/circuit-open',
} as const;

export interface SafetyLimits {
  /** Writes (one per action applied) allowed across all plans in any hour. */
  maxWritesPerHour: number;
  /** Rollbacks within an hour that open the circuit breaker. */
  maxRollbacksPerHour: number;
}

interface Reservation {
  planId: string;
  at: string;
  writes: number;
}
interface Rollback {
  planId: string;
  at: string;
}
export interface CircuitState {
  openedAt: string;
  reason: string;
}

interface Lease extends KubernetesObject {
  spec?: Record<string, unknown>;
}

const HOUR_MS = 3600 * 1000;
/** Conditional updates of the Lease retried when another write got in between (two executors). */
const CONFLICT_ATTEMPTS = 5;

export class SafetyLedger {
  private readonly ref: ObjectRef;

  constructor(
    private readonly cluster: ClusterPort,
    namespace: string,
    readonly limits: SafetyLimits,
  ) {
    this.ref = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', name: SAFETY_LEASE, namespace };
  }

  /** The breaker's state: undefined while closed. */
  async circuit(): Promise<CircuitState | undefined> {
    const lease = await this.cluster.read<Lease>(this.ref);
    return lease ? decode(lease).circuit : undefined;
  }

  /**
   * Reserves `writes` of the hourly budget for a plan, once per plan (a resumed plan reserved already). Throws
   * SafetyLimitError when the budget would be exceeded, or when the breaker is open and `honourCircuit` is set
   * (automatic plans; a plan a human approved is that human's call).
   */
  async reserve(planId: string, writes: number, now: Date, honourCircuit: boolean): Promise<void> {
    await this.update(now, (state) => {
      if (honourCircuit && state.circuit) throw circuitOpenError(state.circuit);
      if (state.writes.some((r) => r.planId === planId)) return false;
      const used = state.writes.reduce((sum, r) => sum + r.writes, 0);
      if (used + writes > this.limits.maxWritesPerHour) {
        throw new SafetyLimitError(
          'write-budget',
          `the executor's budget of ${this.limits.maxWritesPerHour} writes per hour is spent (${used} used, this plan needs ${writes}); try again later or raise EXECUTOR_MAX_WRITES_PER_HOUR`,
        );
      }
      state.writes.push({ planId, at: now.toISOString(), writes });
      return true;
    });
  }

  /** Counts a rollback; returns the breaker's state when this one opened it. */
  async recordRollback(planId: string, reason: string, now: Date): Promise<CircuitState | undefined> {
    let opened: CircuitState | undefined;
    await this.update(now, (state) => {
      if (state.rollbacks.some((r) => r.planId === planId)) return false;
      state.rollbacks.push({ planId, at: now.toISOString() });
      if (!state.circuit && state.rollbacks.length >= this.limits.maxRollbacksPerHour) {
        opened = {
          openedAt: now.toISOString(),
          reason: `${state.rollbacks.length} rollbacks within an hour (plans ${state.rollbacks.map((r) => r.planId).join(', ')}; last: ${reason.slice(0, 300)})`,
        };
        state.circuit = opened;
      }
      return true;
    });
    return opened;
  }

  /** Read, change, conditional write; creates the Lease when it does not exist yet. */
  private async update(now: Date, change: (state: State) => boolean): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      const lease = (await this.cluster.read<Lease>(this.ref)) ?? (await this.createEmpty());
      const state = decode(lease, now);
      if (!change(state)) return;
      try {
        await this.cluster.replace<Lease>(encode(lease, state));
        return;
      } catch (error) {
        if (!(error instanceof KubernetesConflictError) || attempt >= CONFLICT_ATTEMPTS) throw error;
      }
    }
  }

  private async createEmpty(): Promise<Lease> {
    const created = await this.cluster.create<Lease>({
      apiVersion: this.ref.apiVersion,
      kind: this.ref.kind,
      metadata: {
        name: this.ref.name,
        namespace: this.ref.namespace,
        labels: { 'app.kubernetes.io/managed-by': 'kubepulse-executor' },
      },
      spec: {},
    });
    // Another executor created it first: read theirs.
    const lease = created ?? (await this.cluster.read<Lease>(this.ref));
    if (!lease) throw new KubernetesConflictError(`${SAFETY_LEASE} vanished while it was created`);
    return lease;
  }
}

export function circuitOpenError(circuit: CircuitState): SafetyLimitError {
  return new SafetyLimitError(
    'circuit-open',
    `the executor stopped applying automatic plans at ${circuit.openedAt} after ${circuit.reason}; an operator must reset it (docs/operations.md)`,
  );
}

interface State {
  writes: Reservation[];
  rollbacks: Rollback[];
  circuit?: CircuitState;
}

/** Records older than an hour are dropped (when `now` is given); the breaker's state never is. */
function decode(lease: Lease, now?: Date): State {
  const annotations = lease.metadata?.annotations ?? {};
  const since = now ? now.getTime() - HOUR_MS : Number.NEGATIVE_INFINITY;
  const recent = <T extends { at: string }>(list: T[]) => list.filter((r) => Date.parse(r.at) > since);
  const circuit = parse<CircuitState | undefined>(annotations[SAFETY_ANNOTATIONS.circuitOpen], undefined);
  return {
    writes: recent(parse<Reservation[]>(annotations[SAFETY_ANNOTATIONS.writes], [])),
    rollbacks: recent(parse<Rollback[]>(annotations[SAFETY_ANNOTATIONS.rollbacks], [])),
    // An annotation an operator set by hand with any text still counts as open: deny by default.
    ...(annotations[SAFETY_ANNOTATIONS.circuitOpen] !== undefined
      ? {
          circuit: circuit?.reason
            ? circuit
            : { openedAt: 'unknown', reason: annotations[SAFETY_ANNOTATIONS.circuitOpen] ?? '' },
        }
      : {}),
  };
}

function encode(lease: Lease, state: State): Lease {
  const annotations: Record<string, string> = {
    ...lease.metadata?.annotations,
    [SAFETY_ANNOTATIONS.writes]: JSON.stringify(state.writes),
    [SAFETY_ANNOTATIONS.rollbacks]: JSON.stringify(state.rollbacks),
  };
  if (state.circuit) annotations[SAFETY_ANNOTATIONS.circuitOpen] = JSON.stringify(state.circuit);
  return { ...lease, metadata: { ...lease.metadata, annotations } };
}

function parse<T>(text: string | undefined, fallback: T): T {
  if (text === undefined) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}
