import type { ActionName } from '../../../shared/contracts/index.js';
import type { ActionHandler, ActionOf } from './applier.js';
import { deletePod } from './delete-pod.js';
import { cordon, uncordon } from './node-schedulable.js';
import { rolloutRestart } from './rollout-restart.js';
import { scale } from './scale.js';
import { setResources } from './set-resources.js';

/** How the executor carries out each action of the registry; an action without a handler cannot be executed. */
export const ACTION_HANDLERS: { [Name in ActionName]: ActionHandler<ActionOf<Name>> } = {
  scale,
  'rollout-restart': rolloutRestart,
  'set-resources': setResources,
  'delete-pod': deletePod,
  cordon,
  uncordon,
};

export function handlerFor<Name extends ActionName>(name: Name): ActionHandler<ActionOf<Name>> {
  return ACTION_HANDLERS[name];
}
