import type { ActionName } from '../../shared/contracts/index.js';
import type { ProblemClass } from './correlate.js';
import {
  cpuRunbook,
  crashLoopRunbook,
  evictionRunbook,
  imagePullRunbook,
  memoryRunbook,
  nodePressureRunbook,
  pendingRunbook,
  type RunbookInput,
  type RunbookProposal,
  unknownProblemRunbook,
  unusualBehaviourRunbook,
} from './runbooks.js';

/** What the planner knows about one class of problem (correlate.ts sorts anomalies into them). */
export interface Problem {
  /** What the planner falls back on when the LLM is unavailable, wrong or unsure. */
  runbook(input: RunbookInput): RunbookProposal;
  /**
   * The actions that can address it. An LLM plan outside them is replaced by the runbook even when policy
   * would allow it: deleting a leaking pod or cordoning a node for a CPU spike is no remedy, and a model that
   * proposes one has most likely been steered by text in the incident context.
   */
  actions: readonly ActionName[];
  /** No action fixes it: whatever a model proposes for it goes to a human. */
  humanOnly: boolean;
}

export const PROBLEMS: { readonly [Class in ProblemClass]: Problem } = {
  'memory-exhaustion': {
    runbook: memoryRunbook,
    actions: ['set-resources', 'rollout-restart', 'scale'],
    humanOnly: false,
  },
  'cpu-saturation': { runbook: cpuRunbook, actions: ['scale', 'set-resources'], humanOnly: false },
  'crash-loop': { runbook: crashLoopRunbook, actions: [], humanOnly: true },
  'image-pull': { runbook: imagePullRunbook, actions: [], humanOnly: true },
  eviction: { runbook: evictionRunbook, actions: ['set-resources', 'scale'], humanOnly: false },
  'node-pressure': { runbook: nodePressureRunbook, actions: ['cordon'], humanOnly: false },
  pending: { runbook: pendingRunbook, actions: [], humanOnly: false },
  // A series acting unlike itself with no limit at risk: the runbook tells a human; a restart or more replicas
  // are the only remedies a model may propose, and only where policy allows them.
  'unusual-behaviour': {
    runbook: unusualBehaviourRunbook,
    actions: ['rollout-restart', 'scale'],
    humanOnly: false,
  },
  other: { runbook: unknownProblemRunbook, actions: [], humanOnly: false },
};

export function runbookProposal(input: RunbookInput): RunbookProposal {
  return PROBLEMS[input.key.problem].runbook(input);
}
