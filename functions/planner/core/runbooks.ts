import type { RemediationPolicy, TargetFacts, WorkloadFacts } from '../../shared/actions/index.js';
import type { PlanProposal, RemediationAction } from '../../shared/contracts/index.js';
import { clip } from '../../shared/text.js';
import type { ContainerSnapshot, PlanningContext } from './context.js';
import { type IncidentKey, subjectOf } from './correlate.js';

/**
 * Deterministic proposals for the problems whose remedy is well known: what the planner falls back on when
 * the LLM is unavailable, wrong or unsure. A runbook never acts on what it cannot bound; it escalates with a
 * diagnosis instead. Policy still judges every proposal. Which runbook serves which problem: PROBLEMS in
 * problems.ts.
 */
export interface RunbookProposal {
  runbook: string;
  proposal: PlanProposal;
}

export interface RunbookInput {
  key: IncidentKey;
  context: PlanningContext;
  facts: TargetFacts;
  policy: RemediationPolicy;
}

const MIB = 1024 ** 2;
/** How far a runbook raises a memory limit; policy bounds can only lower it. */
export const MEMORY_RAISE_FACTOR = 1.5;
export const SCALE_OUT_FACTOR = 1.5;
/** Normalised usage per minute above which memory growth counts as a leak (6% of the limit an hour). */
export const LEAK_SLOPE_PER_MINUTE = 0.001;

export function crashLoopRunbook(input: RunbookInput): RunbookProposal {
  return escalate(
    'crash-loop',
    `${subjectOf(input.key)} is crash-looping. ${terminationSummary(input.context)}`,
    input,
  );
}

export function imagePullRunbook(input: RunbookInput): RunbookProposal {
  return escalate('image-pull', imagePullDiagnosis(input), input);
}

export function evictionRunbook(input: RunbookInput): RunbookProposal {
  return escalate(
    'eviction',
    `Pods of ${subjectOf(input.key)} were evicted. ${eventSummary(input.context)}`,
    input,
  );
}

export function pendingRunbook(input: RunbookInput): RunbookProposal {
  return escalate(
    'pending',
    `Pods of ${subjectOf(input.key)} cannot be scheduled. ${eventSummary(input.context)}`,
    input,
  );
}

export function unknownProblemRunbook(input: RunbookInput): RunbookProposal {
  return escalate('unknown', `${subjectOf(input.key)} shows an anomaly no runbook covers.`, input);
}

/**
 * Unusual behaviour never acts on its own: a warning goes to a human, information is watched (an info alert).
 * The diagnosis says what was unusual, so the human knows where to look.
 */
export function unusualBehaviourRunbook(input: RunbookInput): RunbookProposal {
  const unusual = input.context.usage.filter((u) => u.problem === 'unusual-behaviour');
  const warning = unusual.some((u) => u.severity === 'warning');
  const what = unusual.map((u) => `${u.signal} of ${u.pod} (score ${u.unusualScore ?? '?'})`).join(', ');
  const diagnosis =
    `${subjectOf(input.key)} behaves unlike its own history with no limit at risk` +
    `${what ? `: ${what}` : ''}. Worth a look: a deploy, a dependency or the traffic may have changed.`;
  if (warning) return escalate('unusual', diagnosis, input);
  return {
    runbook: 'unusual-observe',
    proposal: {
      decision: 'observe',
      diagnosis: clip(diagnosis, 2000),
      rationale: 'Mildly unusual behaviour is shown to humans, not acted on.',
      confidence: 1,
      actions: [],
    },
  };
}

export function memoryRunbook(input: RunbookInput): RunbookProposal {
  const { context, facts, policy } = input;
  const oomKilled =
    context.events.some((e) => e.reason === 'OOMKilled') ||
    context.containers.some((c) => c.lastTerminationReason === 'OOMKilled' || c.reason === 'OOMKilled');
  const breach = context.usage.find(
    (u) => u.signal === 'memory' && u.reasons.includes('forecast-limit-breach'),
  );
  const subject = subjectOf(input.key);
  if (!oomKilled && !breach) {
    return escalate(
      'memory',
      `Memory of ${subject} looks anomalous but no limit is at risk; worth a look.`,
      input,
    );
  }
  const workload = scalableWorkload(facts, ['Deployment', 'StatefulSet', 'DaemonSet']);
  if (!workload)
    return escalate('memory', `${subject} ${what(oomKilled, breach)}, but has no workload to resize.`, input);
  const containerName = incidentContainer(context, workload);
  const container = workload.containers.find((c) => c.name === containerName);
  const current = container?.limits.memoryBytes;
  if (!container || current === undefined || current <= 0) {
    return escalate(
      'memory',
      `${subject} ${what(oomKilled, breach)}, but its memory limit is unknown.`,
      input,
    );
  }
  const bounds = policy.bounds['set-resources'];
  const raised = Math.min(
    Math.ceil((current * MEMORY_RAISE_FACTOR) / MIB) * MIB,
    current * bounds.maxIncreaseFactor,
    bounds.maxMemoryBytes,
  );
  if (raised <= current) {
    return escalate(
      'memory',
      `${subject} ${what(oomKilled, breach)} and its limit ${bytes(current)} is at the cap.`,
      input,
    );
  }
  const growth = Math.max(
    0,
    ...context.usage.filter((u) => u.signal === 'memory').map((u) => u.slopePerMinute),
  );
  const leaking = growth >= LEAK_SLOPE_PER_MINUTE;
  const target = { namespace: workload.namespace, kind: workload.kind as 'Deployment', name: workload.name };
  const actions: RemediationAction[] = [
    { action: 'set-resources', ...target, container: container.name, limits: { memoryBytes: raised } },
    ...(leaking ? [{ action: 'rollout-restart' as const, ...target }] : []),
  ];
  const diagnosis = [
    `Container ${container.name} of ${subject} ${what(oomKilled, breach)} (memory limit ${bytes(current)}).`,
    leaking ? `Memory grows steadily (${percent(growth)} of the limit per minute): a leak is likely.` : '',
  ]
    .filter(Boolean)
    .join(' ');
  return act(
    oomKilled ? 'oom-raise-limit' : 'forecast-raise-limit',
    diagnosis,
    `Raise the memory limit to ${bytes(raised)} (×${round(raised / current)})${leaking ? ' and restart to release leaked memory' : ''}.`,
    oomKilled ? 0.8 : 0.7,
    actions,
  );
}

export function cpuRunbook(input: RunbookInput): RunbookProposal {
  const { facts, policy } = input;
  const subject = subjectOf(input.key);
  const workload = scalableWorkload(facts, ['Deployment', 'StatefulSet']);
  if (!workload)
    return escalate('cpu', `CPU of ${subject} is saturating, and it cannot be scaled out.`, input);
  const current = workload.replicas;
  if (current === undefined || current < 1) {
    return escalate(
      'cpu',
      `CPU of ${subject} is saturating; its replica count is unknown, so it is not scaled.`,
      input,
    );
  }
  const bounds = policy.bounds.scale;
  const replicas = Math.min(
    Math.max(current + 1, Math.ceil(current * SCALE_OUT_FACTOR)),
    Math.ceil(current * bounds.maxChangeFactor),
    bounds.maxReplicas,
  );
  if (replicas <= current) {
    return escalate(
      'cpu',
      `CPU of ${subject} is saturating at ${current} replicas, the most policy allows.`,
      input,
    );
  }
  return act(
    'cpu-scale-out',
    `CPU of ${subject} is saturating at ${current} replicas.`,
    `Scale out from ${current} to ${replicas} replicas to spread the load.`,
    0.75,
    [
      {
        action: 'scale',
        namespace: workload.namespace,
        kind: workload.kind as 'Deployment',
        name: workload.name,
        replicas,
      },
    ],
  );
}

export function nodePressureRunbook(input: RunbookInput): RunbookProposal {
  const { key } = input;
  if (key.subject.kind !== 'Node')
    return escalate('node-pressure', 'A node is under pressure, but which one is unknown.', input);
  return act(
    'node-pressure-cordon',
    `Node ${key.subject.name} is under resource pressure and evicting pods. ${eventSummary(input.context)}`,
    `Cordon ${key.subject.name} so no new pods land on it while it recovers.`,
    0.6,
    [{ action: 'cordon', node: key.subject.name }],
  );
}

function act(
  runbook: string,
  diagnosis: string,
  rationale: string,
  confidence: number,
  actions: RemediationAction[],
): RunbookProposal {
  return {
    runbook,
    proposal: { decision: 'act', diagnosis: clip(diagnosis, 2000), rationale, confidence, actions },
  };
}

function escalate(runbook: string, diagnosis: string, input: RunbookInput): RunbookProposal {
  const omitted =
    input.context.omitted.length > 0 ? ` (context trimmed: ${input.context.omitted.join(', ')})` : '';
  return {
    runbook: `${runbook}-escalate`,
    proposal: {
      decision: 'escalate',
      diagnosis: clip(`${diagnosis}${omitted}`, 2000),
      rationale: 'No bounded automatic remedy applies; a human should decide.',
      confidence: 1,
      actions: [],
    },
  };
}

function scalableWorkload(facts: TargetFacts, kinds: readonly string[]): WorkloadFacts | undefined {
  const workload = facts.workload;
  return workload && kinds.includes(workload.kind) ? workload : undefined;
}

/** The container the anomalies are about, or the only container of the workload. */
function incidentContainer(context: PlanningContext, workload: WorkloadFacts): string | undefined {
  const named = [...context.usage.map((u) => u.container), ...context.events.map((e) => e.container)].find(
    (name) => name && workload.containers.some((c) => c.name === name),
  );
  return named ?? (workload.containers.length === 1 ? workload.containers[0]!.name : undefined);
}

function what(oomKilled: boolean, breach: PlanningContext['usage'][number] | undefined): string {
  const parts: string[] = [];
  if (oomKilled) parts.push('was OOMKilled');
  if (breach) {
    const eta = breach.predictedSecondsToLimit;
    parts.push(
      `is forecast to reach its memory limit${eta === null ? '' : ` in about ${Math.round(eta / 60)} min`}`,
    );
  }
  return parts.join(' and ');
}

const EXIT_CODES: Record<number, string> = {
  1: 'application error',
  2: 'misuse of shell builtins',
  126: 'command not executable',
  127: 'command not found',
  137: 'killed (SIGKILL: OOM or failed liveness probe)',
  139: 'segmentation fault',
  143: 'terminated (SIGTERM)',
};

function terminationSummary(context: PlanningContext): string {
  const crashed = context.containers.find(
    (c) => c.lastTerminationReason || c.exitCode !== undefined || c.restartCount > 0,
  );
  const parts: string[] = [];
  if (crashed) parts.push(describeTermination(crashed));
  const logLines = summariseLog(context.logTail);
  if (logLines) parts.push(`Last log lines: ${logLines}`);
  const events = eventSummary(context);
  if (events) parts.push(events);
  return parts.join(' ');
}

function describeTermination(container: ContainerSnapshot): string {
  const exit =
    container.exitCode === undefined
      ? ''
      : `, exit code ${container.exitCode}${EXIT_CODES[container.exitCode] ? ` (${EXIT_CODES[container.exitCode]})` : ''}`;
  const reason = container.lastTerminationReason
    ? `last terminated: ${container.lastTerminationReason}`
    : 'terminated';
  return `Container ${container.container} of pod ${container.pod} ${reason}${exit}, ${container.restartCount} restarts.`;
}

/** The last lines that look like errors, or the last lines at all. */
export function summariseLog(logTail: string, maxLines = 3, maxChars = 600): string {
  const lines = logTail
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  const errors = lines.filter((line) =>
    /error|exception|fatal|panic|traceback|refused|denied|failed/i.test(line),
  );
  const chosen = (errors.length > 0 ? errors : lines).slice(-maxLines);
  return clip(chosen.join(' | '), maxChars);
}

function imagePullDiagnosis(input: RunbookInput): string {
  const images = [...new Set(input.context.containers.flatMap((c) => (c.image ? [c.image] : [])))];
  return `${subjectOf(input.key)} cannot pull its image${images.length > 0 ? ` (${images.join(', ')})` : ''}. ${eventSummary(input.context)}`;
}

function eventSummary(context: PlanningContext): string {
  const messages = context.events.filter((e) => e.message).map((e) => `${e.reason}: ${e.message}`);
  return messages.length > 0 ? `Events: ${clip([...new Set(messages)].slice(0, 3).join(' | '), 600)}` : '';
}

const round = (value: number) => Math.round(value * 100) / 100;
const percent = (fraction: number) => `${round(fraction * 100)}%`;

function bytes(value: number): string {
  const units = ['', 'Ki', 'Mi', 'Gi', 'Ti'];
  let index = 0;
  let scaled = value;
  while (scaled >= 1024 && index < units.length - 1) {
    scaled /= 1024;
    index++;
  }
  return `${round(scaled)}${units[index]}`;
}
