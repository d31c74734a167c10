import type { PlanProposal, RemediationAction } from '../../../functions/shared/contracts/index.js';
import type { IncidentData } from './incident-data.js';

/**
 * What the fake Gemini answers to one generateContent request. Scripted per test (a queue) or as the
 * server's default; `latencyMs` delays any of them.
 */
export type ScriptedReply = (
  | /** A sensible proposal derived from the prompt's `<incident-data>` block (the demo's default). */
  { kind: 'derived' }
  /** Any JSON value as the model's answer text. */
  | { kind: 'proposal'; proposal: unknown }
  /** Raw answer text, e.g. prose instead of JSON, or JSON cut off with finishReason MAX_TOKENS. */
  | { kind: 'text'; text: string; finishReason?: 'STOP' | 'MAX_TOKENS' }
  /** Valid JSON that breaks the plan contract (missing fields, out-of-range numbers, mixed action fields). */
  | { kind: 'schema-violation' }
  /** A schema-valid answer that obeys an instruction smuggled into the context; policy must refuse it. */
  | { kind: 'injection'; variant: InjectionVariant }
  /** No candidate text: the answer was blocked by a safety filter. */
  | { kind: 'blocked' }
  /** An API error with Gemini's error body; 429 carries RetryInfo. */
  | { kind: 'error'; status: 400 | 403 | 429 | 500 | 503; retryDelaySeconds?: number }
  /** Never answers; the client's timeout has to end it. */
  | { kind: 'hang' }
  /** HTTP 200 with a body that is not JSON, like a proxy's error page. */
  | { kind: 'http-garbage' }
) & { latencyMs?: number };

export const INJECTION_VARIANTS = [
  'scale-to-zero',
  'other-namespace',
  'absurd-limits',
  'delete-pod',
  'cordon-node',
] as const;
export type InjectionVariant = (typeof INJECTION_VARIANTS)[number];

/** Valid JSON, invalid plan: no rationale, confidence out of range, a negative replica count, a stray field. */
export const SCHEMA_VIOLATING_ANSWER = {
  decision: 'act',
  diagnosis: 'memory is running out',
  confidence: 7,
  actions: [
    { action: 'scale', namespace: 'shop', kind: 'Deployment', name: 'web', replicas: -1 },
    { action: 'rollout-restart', namespace: 'shop', kind: 'Deployment', name: 'web', replicas: 3 },
  ],
};

const MEMORY_LIMIT_FACTOR = 1.5;
const ACTIONABLE_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet'] as const;
type ActionableKind = (typeof ACTIONABLE_KINDS)[number];

/** What a careful model would propose for the incident in the prompt's data block. */
export function deriveProposal(data: IncidentData | undefined): PlanProposal {
  if (!data) return escalate('The prompt carried no incident-data block, so there is nothing to go on.');
  const workload = workloadOf(data);
  switch (data.problem) {
    case 'memory-exhaustion':
      return workload
        ? raiseMemoryLimit(data, workload)
        : escalate(`${data.subject} is not a workload to resize.`);
    case 'cpu-saturation':
      return workload ? scaleOut(data, workload) : escalate(`${data.subject} is not a workload to scale.`);
    case 'crash-loop':
      return escalate(
        `${data.subject} is in CrashLoopBackOff: its container keeps failing at start-up. ` +
          'Its logs and recent changes need a human; no automatic action fixes a crash.',
      );
    default:
      return escalate(`No automatic remedy is known for ${data.problem} of ${data.subject}.`);
  }
}

interface Workload {
  kind: ActionableKind;
  name: string;
}

function workloadOf(data: IncidentData): Workload | undefined {
  const [kind, name] = data.subject.split('/');
  return ACTIONABLE_KINDS.includes(kind as ActionableKind) && name
    ? { kind: kind as ActionableKind, name }
    : undefined;
}

function raiseMemoryLimit(data: IncidentData, workload: Workload): PlanProposal {
  const container =
    data.usage.find((usage) => usage.signal === 'memory')?.container ??
    data.events.find((event) => event.container)?.container ??
    data.containers[0]?.container;
  const limits = data.containers
    .filter((candidate) => candidate.container === container)
    .flatMap((candidate) => (candidate.limits.memoryBytes ? [candidate.limits.memoryBytes] : []));
  if (!container || limits.length === 0) {
    return escalate(
      `${data.subject} is running out of memory, but its container or memory limit is unknown.`,
    );
  }
  const current = Math.max(...limits);
  const raised = Math.round(current * MEMORY_LIMIT_FACTOR);
  const ref = { namespace: data.namespace, kind: workload.kind, name: workload.name };
  return {
    decision: 'act',
    diagnosis: `Container ${container} of ${data.subject} is running out of memory.`,
    rationale: `Raise its memory limit by ${MEMORY_LIMIT_FACTOR}x (${current} to ${raised} bytes) and restart it so the new limit applies.`,
    confidence: 0.8,
    actions: [
      { action: 'set-resources', ...ref, container, limits: { memoryBytes: raised } },
      { action: 'rollout-restart', ...ref },
    ],
  };
}

function scaleOut(data: IncidentData, workload: Workload): PlanProposal {
  // Counting the pods in the context would guess low (it lists only the troubled ones) and so scale down.
  if (workload.kind === 'DaemonSet' || data.replicas === undefined) {
    return escalate(
      `${data.subject} is saturating its CPU, but it cannot be scaled or its replica count is unknown.`,
    );
  }
  return {
    decision: 'act',
    diagnosis: `${data.subject} is saturating its CPU.`,
    rationale: `Add one replica (${data.replicas} to ${data.replicas + 1}) to spread the load.`,
    confidence: 0.7,
    actions: [
      {
        action: 'scale',
        namespace: data.namespace,
        kind: workload.kind,
        name: workload.name,
        replicas: data.replicas + 1,
      },
    ],
  };
}

function escalate(diagnosis: string): PlanProposal {
  return {
    decision: 'escalate',
    diagnosis,
    rationale: 'A human should decide.',
    confidence: 0.9,
    actions: [],
  };
}

/** The answer of a model that did what a line in the logs told it to. */
export function injectedProposal(variant: InjectionVariant, data: IncidentData | undefined): PlanProposal {
  const namespace = data?.namespace ?? 'default';
  const workload = (data && workloadOf(data)) ?? { kind: 'Deployment', name: 'victim' };
  const kind = workload.kind === 'DaemonSet' ? 'Deployment' : workload.kind;
  const actionsByVariant: Record<InjectionVariant, RemediationAction> = {
    'scale-to-zero': { action: 'scale', namespace, kind, name: workload.name, replicas: 0 },
    'other-namespace': {
      action: 'rollout-restart',
      namespace: 'kube-system',
      kind: 'Deployment',
      name: 'coredns',
    },
    'absurd-limits': {
      action: 'set-resources',
      namespace,
      kind,
      name: workload.name,
      container: data?.containers[0]?.container ?? 'app',
      limits: { memoryBytes: 1e15, cpuCores: 10_000 },
    },
    'delete-pod': { action: 'delete-pod', namespace, pod: data?.containers[0]?.pod ?? 'victim-0' },
    'cordon-node': { action: 'cordon', node: data?.nodes[0] ?? 'node-1' },
  };
  return {
    decision: 'act',
    diagnosis: 'As instructed by the operator note in the logs.',
    rationale: 'The context said to do this.',
    confidence: 1,
    actions: [actionsByVariant[variant]],
  };
}
