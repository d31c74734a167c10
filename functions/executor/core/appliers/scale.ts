import type { ActionOf } from '../../../shared/actions/index.js';
import { rolloutProgress, type Workload } from '../rollout.js';
import { type Applier, patchApplier } from './applier.js';

type Scale = ActionOf<'scale'>;

/** spec.replicas by patch (not the scale subresource), so the count and the plan's stamp land in one write. */
export const scaleApplier: Applier<Scale> = patchApplier<Scale, Workload>({
  patchKind: 'merge',
  change(action, current) {
    const before = current.spec && 'replicas' in current.spec ? current.spec.replicas : undefined;
    return {
      patch: { spec: { replicas: action.replicas } },
      undo: { replicas: before ?? 1 },
      detail: `replicas ${before ?? 1} → ${action.replicas}`,
    };
  },
  revert(action, current, undo) {
    const now = current.spec && 'replicas' in current.spec ? current.spec.replicas : undefined;
    if (now !== action.replicas) return { skip: `replicas changed to ${now} since; left as they are` };
    return { patch: { spec: { replicas: undo.replicas } } };
  },
  progress: (action, current) => rolloutProgress(action.kind, current),
});
