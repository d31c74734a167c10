import type { ActionOf } from '../../../shared/actions/index.js';
import { rolloutProgress, type Workload } from '../rollout.js';
import { type Applier, patchApplier } from './applier.js';

type RolloutRestart = ActionOf<'rollout-restart'>;

/** The annotation `kubectl rollout restart` sets: a new value changes the pod template, so every pod is replaced. */
export const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt';

const restartedAt = (workload: Workload): string | undefined =>
  workload.spec?.template.metadata?.annotations?.[RESTARTED_AT];

/**
 * Rolling back puts the previous value back: the template then matches the previous revision again, which is
 * what `kubectl rollout undo` achieves.
 */
export const rolloutRestartApplier: Applier<RolloutRestart> = patchApplier<RolloutRestart, Workload>({
  patchKind: 'strategic-merge',
  change(_action, current, now) {
    const value = now.toISOString();
    return {
      patch: { spec: { template: { metadata: { annotations: { [RESTARTED_AT]: value } } } } },
      undo: { previous: restartedAt(current) ?? null, written: value },
      detail: `pod template ${RESTARTED_AT}=${value}`,
    };
  },
  revert(_action, current, undo) {
    if (restartedAt(current) !== undo.written) return { skip: 'restarted again since; left as it is' };
    return {
      patch: { spec: { template: { metadata: { annotations: { [RESTARTED_AT]: undo.previous } } } } },
    };
  },
  progress: (action, current) => rolloutProgress(action.kind, current),
});
