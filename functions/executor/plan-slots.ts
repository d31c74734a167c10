import { targetOf, targetPath } from '../shared/actions/index.js';
import { decodeMessageBody, RemediationPlan } from '../shared/contracts/index.js';

/** What a plan may touch, as keys; `exclusive` for a body that is not a readable plan (it runs alone). */
export type PlanKeys = readonly string[] | 'exclusive';

/**
 * The objects a plan's message may change: each action's target and the incident's workload (a deleted pod's
 * cooldown is its controller's too). Two plans sharing a key would race on the ledger's duplicate and cooldown
 * checks, so they never run side by side. Read before the signature is checked: a forged body can only make its
 * own plan wait, and is refused as soon as it runs.
 */
export function planKeysOf(body: string): PlanKeys {
  let plan: RemediationPlan;
  try {
    const parsed = RemediationPlan.safeParse(decodeMessageBody(body));
    if (!parsed.success) return 'exclusive';
    plan = parsed.data;
  } catch {
    return 'exclusive';
  }
  const keys = new Set(plan.actions.map((action) => targetPath(targetOf(action))));
  const workload = plan.scope.workload;
  if (workload) keys.add(`${plan.scope.namespace}/${workload.kind}/${workload.name}`);
  return [...keys];
}

interface Admitted {
  keys: PlanKeys;
  done: Promise<void>;
}

const overlaps = (a: PlanKeys, b: PlanKeys) =>
  a === 'exclusive' || b === 'exclusive' || a.some((key) => b.includes(key));

/**
 * At most `limit` plans admitted at once (running, or waiting for an earlier plan on the same object), and never
 * two with a key in common: a plan waits for every earlier admitted plan it overlaps, so plans on one object run
 * in the order they were received and plans on different objects run side by side. The remediations queue's
 * message groups already keep one workload's plans from being delivered together; this also covers plans on
 * one object that reached different groups (a pod's and its Deployment's).
 */
export class PlanSlots {
  private readonly admitted = new Set<Admitted>();

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1)
      throw new RangeError(`limit must be a positive integer: ${limit}`);
  }

  get size(): number {
    return this.admitted.size;
  }

  get free(): number {
    return this.limit - this.admitted.size;
  }

  /**
   * Admits `task` (the caller checks `free` first; over the limit it is admitted anyway) and resolves when it has
   * finished. A task's rejection is the caller's to handle: it is passed on, and the slot is freed either way.
   */
  run(keys: PlanKeys, task: () => Promise<void>): Promise<void> {
    const blockers = [...this.admitted].filter((other) => overlaps(keys, other.keys)).map((o) => o.done);
    let release!: () => void;
    const entry: Admitted = { keys, done: new Promise((resolve) => (release = resolve)) };
    this.admitted.add(entry);
    return (async () => {
      try {
        await Promise.all(blockers);
        await task();
      } finally {
        this.admitted.delete(entry);
        release();
      }
    })();
  }

  /** Resolves once a slot is free (at once if one is). */
  async whenFree(): Promise<void> {
    while (this.admitted.size >= this.limit) await Promise.race([...this.admitted].map((a) => a.done));
  }

  /** Resolves once nothing is admitted. */
  async idle(): Promise<void> {
    while (this.admitted.size > 0) await Promise.all([...this.admitted].map((a) => a.done));
  }
}
