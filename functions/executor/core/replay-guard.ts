import type { V1Pod } from '@kubernetes/client-node';
import { targetOf } from '../../shared/actions/registry.js';
import type { RemediationPlan } from '../../shared/contracts/index.js';
import { ANNOTATIONS, describeRef } from './appliers/applier.js';
import type { ClusterPort } from './ports.js';

/**
 * How much younger than the plan a pod may look and still be the one the planner saw: the planner read the pod
 * before signing, so only clock differences between the planner and the API server can make it look younger.
 */
export const POD_CREATION_TOLERANCE_SECONDS = 5;

/**
 * The second replay guard, for when the ledger is gone (its ConfigMap deleted or lost): every write of a plan
 * stamps its target with `kubepulse.io/last-remediation: <planId>` in the same patch as the change, so a plan
 * claimed afresh whose id is already on one of its targets has run before and is refused. A pod to delete
 * carries no stamp (it is gone afterwards); one created after the plan was signed is not the pod the planner
 * saw (a StatefulSet's replacement has the same name) and is refused too.
 *
 * Returns the reasons to refuse; empty when nothing says the plan ran before.
 */
export async function replayRefusals(plan: RemediationPlan, cluster: ClusterPort): Promise<string[]> {
  const reasons: string[] = [];
  const signedAt = Date.parse(plan.createdAt);
  for (const [index, action] of plan.actions.entries()) {
    const ref = targetOf(action);
    const current = await cluster.read<V1Pod>(ref);
    if (!current) continue; // a missing target is the policy's refusal to make, with its own reason
    if (action.action === 'delete-pod') {
      const created = current.metadata?.creationTimestamp;
      if (created && new Date(created).getTime() > signedAt + POD_CREATION_TOLERANCE_SECONDS * 1000) {
        reasons.push(
          `action ${index + 1}: replay: ${describeRef(ref)} was created after the plan was signed; it is not the pod the plan is about`,
        );
      }
      continue;
    }
    const annotations = current.metadata?.annotations ?? {};
    if (
      annotations[ANNOTATIONS.lastRemediation] === plan.planId ||
      annotations[ANNOTATIONS.lastRollback] === plan.planId
    ) {
      reasons.push(
        `action ${index + 1}: replay: ${describeRef(ref)} already carries ${ANNOTATIONS.lastRemediation}=${plan.planId}; this plan ran before`,
      );
    }
  }
  return reasons;
}
