import type { ExecutionResult } from '../../shared/contracts/index.js';
import { describeError } from '../../shared/errors.js';
import { type ExecutorDeps, settleAbandonedPlan } from './execute-plan.js';

export interface SweepReport {
  /** Plans the sweeper finished (verified, rolled back or closed); their results are to be reported. */
  settled: ExecutionResult[];
  /** Plans it could not settle this time, with why; reported as errors worth paging on, tried again next sweep. */
  unsettled: Array<{ planId: string; reason: string }>;
}

/**
 * Finds plans claimed in the ledger and left unfinished for longer than `idleSeconds` (the executor crashed, or
 * the plan's message will not come back) and settles each: what was written is verified and kept, or rolled
 * back; an interrupted rollback is finished. A plan that has written nothing is left to its message until it
 * expires, then closed. Runs at start-up and periodically, between messages (never beside a plan in progress).
 */
export async function sweepAbandoned(deps: ExecutorDeps, idleSeconds: number): Promise<SweepReport> {
  const now = deps.now();
  const report: SweepReport = { settled: [], unsettled: [] };
  const entries = await deps.ledger.unfinished(new Date(now.getTime() - idleSeconds * 1000));
  for (const entry of entries) {
    const untouched = entry.phase !== 'rolling-back' && entry.steps.every((s) => s.state === 'pending');
    if (untouched && entry.plan && Date.parse(entry.plan.expiresAt) > now.getTime()) continue;
    try {
      const outcome = await settleAbandonedPlan(entry, deps);
      if (!outcome) {
        report.unsettled.push({
          planId: entry.planId,
          reason: 'the ledger entry holds no readable plan; settle it by hand',
        });
      } else if (outcome.kind === 'result') {
        report.settled.push(outcome.result);
      }
    } catch (error) {
      report.unsettled.push({ planId: entry.planId, reason: describeError(error).message });
    }
  }
  return report;
}
