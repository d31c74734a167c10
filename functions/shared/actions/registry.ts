import type { z } from 'zod';
import { cordonSpec } from './cordon.js';
import { deletePodSpec } from './delete-pod.js';
import { rolloutRestartSpec } from './rollout-restart.js';
import { scaleSpec } from './scale.js';
import { setResourcesSpec } from './set-resources.js';
import { type ActionSpec, type ActionTarget, targetPath } from './spec.js';
import { uncordonSpec } from './uncordon.js';

/**
 * Every remediation action kubepulse knows. An action that is not here does not exist: the planner cannot
 * propose it, the wire contract (`RemediationAction`) has no variant for it and the executor refuses it. The
 * executor's half of each action is linked to this map by type, so one without the other does not compile.
 * (The wire contract is built from this map, which is why it is not in index.ts, whose policy reads the wire.)
 */
export const ACTIONS = namedAsKeyed({
  scale: scaleSpec,
  'rollout-restart': rolloutRestartSpec,
  'set-resources': setResourcesSpec,
  'delete-pod': deletePodSpec,
  cordon: cordonSpec,
  uncordon: uncordonSpec,
});

/** Refuses to compile an entry whose params name another action than its key: the lookups below would lie. */
function namedAsKeyed<
  Specs extends {
    [Name in keyof Specs]: ActionSpec<z.ZodObject<{ action: z.ZodLiteral<Name & string> }>, z.ZodObject>;
  },
>(specs: Specs): Specs {
  return specs;
}

type Actions = typeof ACTIONS;
export type ActionName = keyof Actions;
export type ActionOf<Name extends ActionName> = z.output<Actions[Name]['params']>;
type AnyAction = ActionOf<ActionName>;
export type ActionBounds = { [Name in ActionName]: z.output<Actions[Name]['bounds']> };

export const ACTION_NAMES = Object.keys(ACTIONS) as ActionName[];

/** Own properties only: `constructor` or `__proto__` are not actions. */
export function isRegisteredAction(name: unknown): name is ActionName {
  return typeof name === 'string' && Object.hasOwn(ACTIONS, name);
}

/** The spec of an action of any kind; its methods are called with that same action. */
export function specOf(action: AnyAction): ActionSpec<Actions[ActionName]['params'], z.ZodObject> {
  return ACTIONS[action.action];
}

export const targetOf = (action: AnyAction): ActionTarget => specOf(action).target(action);

/** The action in a phrase for humans, e.g. `scale shop/Deployment/checkout to 4`. */
export const describeAction = (action: AnyAction): string => specOf(action).describe(action);

/** The action's name and its target, e.g. `scale shop/Deployment/checkout`: short enough for a title. */
export const actionLabel = (action: AnyAction): string => `${action.action} ${targetPath(targetOf(action))}`;

export function defaultBounds(): ActionBounds {
  return Object.fromEntries(
    ACTION_NAMES.map((name) => [name, { ...ACTIONS[name].defaultBounds }]),
  ) as ActionBounds;
}

/** How the actions are described to the LLM: only the enabled ones, with their risk. */
export function describeActions(
  enabled: readonly ActionName[],
): Array<{ name: string; description: string }> {
  return ACTION_NAMES.filter((name) => enabled.includes(name)).map((name) => ({
    name,
    description: `${ACTIONS[name].description} (risk: ${ACTIONS[name].risk})`,
  }));
}
