import type { V1Node } from '@kubernetes/client-node';
import { type ActionHandler, type ActionOf, patchAction } from './applier.js';

type NodeAction = ActionOf<'cordon'> | ActionOf<'uncordon'>;

const isUnschedulable = (node: V1Node) => node.spec?.unschedulable === true;

/** Cordon and uncordon: spec.unschedulable, as `kubectl cordon` sets it (the node controller adds the taint). */
function nodeSchedulable<A extends NodeAction>(unschedulable: boolean): ActionHandler<A> {
  return patchAction<A, V1Node>({
    target: (action) => ({ apiVersion: 'v1', kind: 'Node', name: action.node }),
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

export const cordon = nodeSchedulable<ActionOf<'cordon'>>(true);
export const uncordon = nodeSchedulable<ActionOf<'uncordon'>>(false);
