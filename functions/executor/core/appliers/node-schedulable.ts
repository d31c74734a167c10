import type { V1Node } from '@kubernetes/client-node';
import type { ActionOf } from '../../../shared/actions/index.js';
import { type Applier, patchApplier } from './applier.js';

type NodeAction = ActionOf<'cordon'> | ActionOf<'uncordon'>;

const isUnschedulable = (node: V1Node) => node.spec?.unschedulable === true;

/** Cordon and uncordon: spec.unschedulable, as `kubectl cordon` sets it (the node controller adds the taint). */
function nodeSchedulable<A extends NodeAction>(unschedulable: boolean): Applier<A> {
  return patchApplier<A, V1Node>({
    patchKind: 'merge',
    change(_action, current) {
      const before = isUnschedulable(current);
      return {
        patch: { spec: { unschedulable } },
        undo: { unschedulable: before },
        detail:
          before === unschedulable
            ? 'already so; stamped only'
            : `unschedulable ${before} → ${unschedulable}`,
      };
    },
    revert(_action, current, undo) {
      if (isUnschedulable(current) !== unschedulable) return { skip: 'changed since; left as it is' };
      return { patch: { spec: { unschedulable: undo.unschedulable } } };
    },
    progress(_action, current) {
      const now = isUnschedulable(current);
      return now === unschedulable
        ? { done: true, detail: `node is ${now ? 'unschedulable' : 'schedulable'}` }
        : { done: false, detail: 'spec.unschedulable does not hold the value written' };
    },
  });
}

export const cordonApplier = nodeSchedulable<ActionOf<'cordon'>>(true);
export const uncordonApplier = nodeSchedulable<ActionOf<'uncordon'>>(false);
