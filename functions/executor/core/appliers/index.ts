import type { ActionName, ActionOf } from '../../../shared/actions/index.js';
import type { Applier } from './applier.js';
import { deletePodApplier } from './delete-pod.js';
import { cordonApplier, uncordonApplier } from './node-schedulable.js';
import { rolloutRestartApplier } from './rollout-restart.js';
import { scaleApplier } from './scale.js';
import { setResourcesApplier } from './set-resources.js';

/**
 * How the executor carries out each action of the registry (`shared/actions/`): an action without an applier
 * does not compile, so none can reach the executor unexecutable.
 */
export const APPLIERS: { [Name in ActionName]: Applier<ActionOf<Name>> } = {
  scale: scaleApplier,
  'rollout-restart': rolloutRestartApplier,
  'set-resources': setResourcesApplier,
  'delete-pod': deletePodApplier,
  cordon: cordonApplier,
  uncordon: uncordonApplier,
};
