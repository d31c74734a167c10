import {
  describeAction,
  describeActions,
  evaluatePlan,
  namespaceRefusals,
  type PlanEvaluation,
  type RemediationPolicy,
  type TargetFacts,
} from '../../shared/actions/index.js';
import { StoredFacts } from '../../shared/approvals/record.js';
import { sealApproval } from '../../shared/approvals/seal.js';
import { shownDigestOf } from '../../shared/approvals/shown.js';
import { UnknownClusterError } from '../../shared/clusters.js';
import {
  type Alert,
  type Anomaly,
  type FailureEvent,
  PLAN_SCHEMA_VERSION,
  PlanProposal,
  PlanScope,
  type RemediationPlan,
  SCHEMA_VERSION,
} from '../../shared/contracts/index.js';
import { describeError } from '../../shared/errors.js';
import { shortId } from '../../shared/ids.js';
import type { LoggerPort } from '../../shared/logger.js';
import type { Redactor } from '../../shared/redaction/redact.js';
import { type SigningKey, signPlan } from '../../shared/signing.js';
import { clip, clipCodePoints } from '../../shared/text.js';
import { neutraliseUntrusted } from '../../shared/untrusted-text.js';
import type { LlmPlanner } from '../llm/provider.js';
import { buildContext, type PlanningContext } from './context.js';
import { groupByIncident, type IncidentKey, type ProblemClass, subjectOf } from './correlate.js';
import { factsFromIncident, type KnownFacts } from './facts.js';
import type { PendingApproval, PlannedIncident, PlannerOutput, PlannerStatePort } from './ports.js';
import { PROBLEMS, runbookProposal } from './problems.js';

/**
 * Planning one batch of anomalies: correlate them into incidents; plan each incident once; ask the LLM and
 * fall back to a runbook whenever its answer is missing, invalid, unsure or refused; let policy decide; and
 * turn the decision into a signed plan, a request for approval, or an alert. Pure orchestration over ports:
 * what it returns is for the handler to send.
 */
export interface PlannerSettings {
  /** How long a signed plan stays valid for the executor. */
  planTtlSeconds: number;
  approvalTtlSeconds: number;
  /** How long an incident, once planned, is not planned again, unless its plan concluded and it came back. */
  incidentTtlSeconds: number;
  /** After deciding to only watch an incident, how long until a new breach of it is planned again. */
  observeSeconds: number;
  /** How long a claim protects an incident being planned; longer than one planning attempt. */
  inFlightSeconds: number;
  /** After an automatic plan, further automatic plans for the same target wait this long. */
  cooldownSeconds: number;
  autoPlans: { max: number; windowSeconds: number };
}

/** More about an incident than its anomalies carry, from the handler's own stores. */
export interface IncidentEvidence {
  facts?: KnownFacts;
  recentEvents?: readonly FailureEvent[];
  logTail?: string;
}

export interface PlannerDeps {
  /** Absent: runbooks only. */
  llm?: LlmPlanner;
  state: PlannerStatePort;
  clock: () => Date;
  /**
   * The signing key of each cluster served, by cluster id: a cluster's executors trust only its own public keys, so
   * a plan signed for one cluster is refused by every other. No key: the cluster is not planned for.
   */
  signers: ReadonlyMap<string, SigningKey>;
  policy: RemediationPolicy;
  redactor: Redactor;
  lookup?: (key: IncidentKey, anomalies: readonly Anomaly[]) => Promise<IncidentEvidence>;
  logger: LoggerPort;
  settings: PlannerSettings;
}

export type IncidentResult =
  | 'planned'
  | 'pending-approval'
  | 'escalated'
  | 'refused'
  | 'observed'
  | 'duplicate'
  | 'in-flight'
  | 'resent';

export interface IncidentOutcome {
  fingerprint: string;
  problem: ProblemClass;
  result: IncidentResult;
  source?: 'llm' | 'runbook';
  /** Why the LLM's proposal was not the one used. */
  fallbackReason?: string;
  /** Set when the incident came back after its last episode ended and was planned again. */
  returning?: true;
  outputs: PlannerOutput[];
}

/** An incident's outcome with the batch's anomalies that have its key (resolved ones too): its records. */
export interface BatchIncidentOutcome extends IncidentOutcome {
  anomalyIds: string[];
}

export interface PlanningResult {
  incidents: BatchIncidentOutcome[];
  outputs: PlannerOutput[];
  /** Anomalies whose incident could not be planned, by anomalyId: their records should be retried. */
  failures: Map<string, Error>;
  /** Resolved anomalies need no plan. */
  ignored: number;
}

export async function planIncidents(
  anomalies: readonly Anomaly[],
  deps: PlannerDeps,
): Promise<PlanningResult> {
  const open = anomalies.filter((a) => a.status === 'opened');
  const incidents: BatchIncidentOutcome[] = [];
  const failures = new Map<string, Error>();
  const anomalyIdsOf = new Map(
    groupByIncident(anomalies).map((i) => [i.key.fingerprint, i.anomalies.map((a) => a.anomalyId)]),
  );
  // One incident failing (Redis, a lookup) must not cost the others their plans.
  for (const incident of groupByIncident(open)) {
    try {
      const outcome = await planOne(incident.key, incident.anomalies, deps);
      incidents.push({ ...outcome, anomalyIds: anomalyIdsOf.get(incident.key.fingerprint) ?? [] });
    } catch (error) {
      deps.logger.error('planning an incident failed; its anomalies will be retried', {
        fingerprint: incident.key.fingerprint,
        error: describeError(error),
      });
      for (const anomaly of incident.anomalies) failures.set(anomaly.anomalyId, error as Error);
    }
  }
  return {
    incidents,
    outputs: incidents.flatMap((i) => i.outputs),
    failures,
    ignored: anomalies.length - open.length,
  };
}

async function planOne(key: IncidentKey, received: Anomaly[], deps: PlannerDeps): Promise<IncidentOutcome> {
  let anomalies = received;
  const { state, settings, logger } = deps;
  const base = { fingerprint: key.fingerprint, problem: key.problem };
  const claim = await state.claimIncident(key.fingerprint, settings.inFlightSeconds);
  if (claim.status === 'in-flight') return { ...base, result: 'in-flight', outputs: [] };
  /** What ended the incident's last episode, when it is planned again. */
  let endedBy: string | undefined;
  if (claim.status === 'planned') {
    // A redelivery of what was planned re-sends the same messages (same ids); new evidence changes nothing. A
    // redelivered anomaly may arrive with newer ones (its first send failed): the messages go out again anyway.
    const redelivered = anomalies.some((a) => claim.record.anomalyIds.includes(a.anomalyId));
    if (redelivered) return { ...base, result: 'resent', outputs: claim.record.outputs };
    const ended = await episodeEndOf(claim.record, state, deps.clock());
    const episode = ended ? anomalies.filter((a) => Date.parse(a.detectedAt) > ended.at) : [];
    if (!ended || episode.length === 0) return { ...base, result: 'duplicate', outputs: [] };
    if (!(await state.reopenIncident(key.fingerprint, claim.revision, settings.inFlightSeconds))) {
      return { ...base, result: 'in-flight', outputs: [] };
    }
    logger.info('the incident came back after its last episode ended; planning it again', {
      fingerprint: key.fingerprint,
      problem: key.problem,
      endedBy: ended.by,
      endedAt: new Date(ended.at).toISOString(),
      anomalies: episode.length,
    });
    anomalies = episode;
    endedBy = ended.by;
  }
  const returning = endedBy !== undefined;
  // The LLM's answers are cached per incident; a new episode must not be answered from the last one's.
  const episodeKey = returning ? `${key.fingerprint}~after-${endedBy}` : key.fingerprint;
  try {
    const outcome = await decide(key, episodeKey, anomalies, deps);
    const watchedUntil =
      outcome.result === 'observed'
        ? { observedUntil: new Date(deps.clock().getTime() + settings.observeSeconds * 1000).toISOString() }
        : {};
    await state.recordIncident(
      key.fingerprint,
      { anomalyIds: anomalies.map((a) => a.anomalyId), outputs: outcome.outputs, ...watchedUntil },
      settings.incidentTtlSeconds,
    );
    logger.info('incident planned', {
      fingerprint: key.fingerprint,
      problem: key.problem,
      result: outcome.result,
      source: outcome.source,
      fallbackReason: outcome.fallbackReason,
      returning,
    });
    return returning ? { ...outcome, returning: true } : outcome;
  } catch (error) {
    await state.releaseIncident(key.fingerprint).catch((releaseError: unknown) => {
      logger.warn('releasing the incident claim failed; it expires on its own', {
        fingerprint: key.fingerprint,
        error: describeError(releaseError),
      });
    });
    throw error;
  }
}

/**
 * When the planned episode of an incident ended, and by what: the executor's result for its plan, its request
 * for approval expiring unanswered, or the time it was to be watched running out. Anomalies detected after that
 * are the incident coming back and are planned again; until then, and for anomalies detected before it (replicas
 * of the same breach arriving late), the incident stays planned once. A rejected request does not end it: a
 * human has said no for now.
 */
async function episodeEndOf(
  record: PlannedIncident,
  state: PlannerStatePort,
  now: Date,
): Promise<{ at: number; by: string } | undefined> {
  if (record.conclusion) {
    return { at: Date.parse(record.conclusion.finishedAt), by: record.conclusion.planId };
  }
  if (record.observedUntil) {
    return { at: Date.parse(record.observedUntil), by: `observed-until-${record.observedUntil}` };
  }
  for (const output of record.outputs) {
    if (output.kind !== 'approval-request') continue;
    // The record keeps the request as it was sent; whether anyone answered lives with the approval.
    const live = await state.getApproval(output.approval.approvalId);
    const expiresAt = Date.parse(live?.expiresAt ?? output.approval.expiresAt);
    if ((live?.status ?? 'pending') === 'pending' && expiresAt <= now.getTime()) {
      return { at: expiresAt, by: output.approval.approvalId };
    }
  }
  return undefined;
}

interface Choice {
  source: 'llm' | 'runbook';
  proposal: PlanProposal;
  fallbackReason?: string;
}

async function decide(
  key: IncidentKey,
  episodeKey: string,
  anomalies: Anomaly[],
  deps: PlannerDeps,
): Promise<IncidentOutcome> {
  const { policy, redactor } = deps;
  const evidence = (await deps.lookup?.(key, anomalies)) ?? {};
  const facts = factsFromIncident(key, anomalies, evidence.facts);
  const { context, prompt } = buildContext(
    {
      key,
      anomalies,
      ...(evidence.recentEvents ? { recentEvents: evidence.recentEvents } : {}),
      ...(evidence.facts?.inventory ? { inventory: evidence.facts.inventory } : {}),
      ...(evidence.logTail !== undefined ? { logTail: evidence.logTail } : {}),
      ...(evidence.facts?.replicas !== undefined ? { replicas: evidence.facts.replicas } : {}),
    },
    redactor,
  );
  const runbook = runbookProposal({ key, context, facts, policy });
  const fromRunbook = (fallbackReason: string): Choice => ({
    source: 'runbook',
    proposal: runbook.proposal,
    fallbackReason,
  });

  // Nothing in a namespace policy refuses can be acted on: asking the LLM would cost a call and send its pods'
  // logs out of the cluster for an answer that could only be refused. The runbook's verdict still reports it.
  const deniedNamespace = namespaceRefusals(key.namespace, policy);
  const answer: LlmAnswer =
    deniedNamespace.length > 0
      ? { ok: false, reason: `the LLM was not asked: ${deniedNamespace.join('; ')}` }
      : await askLlm(key, episodeKey, prompt, deps);
  const problem = PROBLEMS[key.problem];
  let choice: Choice;
  if (!answer.ok) choice = fromRunbook(answer.reason);
  else if (answer.proposal.confidence < policy.confidenceThreshold) {
    choice = fromRunbook(
      `the LLM's confidence ${answer.proposal.confidence} is below ${policy.confidenceThreshold}`,
    );
  } else if (problem.humanOnly && answer.proposal.decision === 'act') {
    choice = fromRunbook(`the LLM proposed actions for ${key.problem}, which only a human may fix`);
  } else if (
    answer.proposal.decision === 'act' &&
    answer.proposal.actions.some((a) => !problem.actions.includes(a.action))
  ) {
    const off = answer.proposal.actions.map((a) => a.action).filter((a) => !problem.actions.includes(a));
    choice = fromRunbook(
      `the LLM proposed ${[...new Set(off)].join(', ')}, which does not address ${key.problem}`,
    );
  } else if (answer.proposal.decision === 'act' && scaleInOf(answer.proposal, facts)) {
    choice = fromRunbook(
      `the LLM proposed scaling in (${scaleInOf(answer.proposal, facts)}), which relieves no ${key.problem}`,
    );
  } else choice = { source: 'llm', proposal: answer.proposal };

  let evaluation =
    choice.proposal.decision === 'act' ? evaluatePlan(choice.proposal, facts, policy) : undefined;
  if (evaluation?.verdict === 'refused' && choice.source === 'llm' && runbook.proposal.decision === 'act') {
    const runbookEvaluation = evaluatePlan(runbook.proposal, facts, policy);
    if (runbookEvaluation.verdict !== 'refused') {
      choice = fromRunbook(`policy refused the LLM's plan: ${evaluation.reasons.join('; ')}`);
      evaluation = runbookEvaluation;
    }
  }
  return emit(key, anomalies, context, facts, choice, evaluation, deps);
}

/**
 * "4 → 2" when the proposal takes replicas away from the incident's workload. Every problem class here is a
 * shortage (memory, CPU, room to run) or unexplained behaviour, and fewer replicas relieves none of them: a
 * scale-in is what an injected "halve it" asks for, so it is refused here rather than put to a human.
 */
function scaleInOf(proposal: PlanProposal, facts: TargetFacts): string | undefined {
  const workload = facts.workload;
  const current = workload?.replicas;
  if (!workload || current === undefined) return undefined;
  // Another workload's scale is refused by policy (scope), with its own reason.
  const fewer = proposal.actions.find(
    (a) =>
      a.action === 'scale' &&
      a.namespace === workload.namespace &&
      a.kind === workload.kind &&
      a.name === workload.name &&
      a.replicas < current,
  );
  return fewer?.action === 'scale' ? `${current} → ${fewer.replicas}` : undefined;
}

type LlmAnswer = { ok: true; proposal: PlanProposal } | { ok: false; reason: string };

/** The LLM's proposal, or the reason there is none: an LLM failure never fails the incident. */
async function askLlm(
  key: IncidentKey,
  episodeKey: string,
  prompt: string,
  deps: PlannerDeps,
): Promise<LlmAnswer> {
  if (!deps.llm) return { ok: false, reason: 'no LLM is configured' };
  let answer: unknown;
  try {
    const reply = await deps.llm.propose({
      incidentFingerprint: episodeKey,
      context: prompt,
      allowedActions: describeActions(deps.policy.enabledActions),
    });
    answer = reply.proposal;
  } catch (error) {
    const { code, message } = describeError(error);
    deps.logger.warn('the LLM gave no plan; using the runbook', {
      fingerprint: key.fingerprint,
      code,
      message,
    });
    return { ok: false, reason: `the LLM failed (${code})` };
  }
  // The provider validates too; this boundary trusts nothing it did not check itself.
  const parsed = PlanProposal.safeParse(answer);
  if (!parsed.success) {
    return {
      ok: false,
      reason: `the LLM's answer is not a valid proposal: ${parsed.error.issues[0]?.message}`,
    };
  }
  return { ok: true, proposal: parsed.data };
}

/** The decision as messages: a signed plan, a request for approval with its alert, or an alert alone. */
async function emit(
  key: IncidentKey,
  anomalies: Anomaly[],
  context: PlanningContext,
  facts: TargetFacts,
  chosen: Choice,
  evaluation: PlanEvaluation | undefined,
  deps: PlannerDeps,
): Promise<IncidentOutcome> {
  const now = deps.clock();
  const outcome = (result: IncidentResult, outputs: PlannerOutput[]): IncidentOutcome => ({
    fingerprint: key.fingerprint,
    problem: key.problem,
    result,
    source: choice.source,
    ...(choice.fallbackReason ? { fallbackReason: choice.fallbackReason } : {}),
    outputs,
  });
  // The model's words (and the evidence a runbook quotes) are data: neutralised before they are signed, stored
  // for approval or shown, and labelled where shown, after what policy made of the proposal in the product's words.
  const choice = untrustedProposalOf(chosen);
  const { proposal } = choice;
  const alert = alertFactory(key, anomalies, choice, context, now);
  const said = `${choice.source === 'llm' ? MODEL_LABEL : RUNBOOK_LABEL}: ${clipCodePoints(proposal.diagnosis, ALERT_DIAGNOSIS_MAX)}`;

  if (!evaluation) {
    return proposal.decision === 'observe'
      ? outcome('observed', [
          alert(
            'observe',
            'info',
            `Watching ${subjectOf(key)}`,
            `No action taken: the incident is watched.\n${said}`,
          ),
        ])
      : outcome('escalated', [
          alert(
            'escalate',
            'warning',
            `Needs a human: ${subjectOf(key)}`,
            `No automatic action: a human should decide.\n${said}`,
          ),
        ]);
  }
  if (evaluation.verdict === 'refused') {
    const summary = [
      `Refused by policy: ${evaluation.reasons.join('; ')}`,
      ...(proposal.actions.length > 0
        ? [`Proposed and not done: ${proposal.actions.map(describeAction).join('; ')}.`]
        : []),
      said,
    ].join('\n');
    return outcome('refused', [
      alert('refused', 'warning', `Remediation refused for ${subjectOf(key)}`, summary),
    ]);
  }

  // What is signed or put to a human: the evaluated actions, which carry the expected current state of what
  // they change, and the incident's scope, both from the facts, never from the proposal.
  const signed: Choice = {
    ...choice,
    proposal: { ...proposal, actions: evaluation.actions.map((e, i) => e.action ?? proposal.actions[i]!) },
  };
  const scope = planScopeOf(key.clusterId, facts);
  const reasons = [...evaluation.reasons];
  if (evaluation.verdict === 'auto') {
    const automatic = await planAutomatically(key, signed, scope, evaluation.dryRun, now, deps);
    if ('plan' in automatic) return outcome('planned', [{ kind: 'plan', plan: automatic.plan }]);
    reasons.push(automatic.heldBack);
  }

  const approval = await requestApproval(key, anomalies, signed, scope, facts, reasons, now, deps);
  const summary = [
    `Proposed (${choice.source}): ${signed.proposal.actions.map(describeAction).join('; ')}.`,
    `Why a human must approve: ${reasons.join('; ')}`,
    `Approval id: ${approval.approvalId}`,
    // The digest of exactly what would be signed: approving with it refuses anything else.
    `To approve exactly this: npx kubepulse approve ${approval.approvalId} --digest ${shownDigestOf(approval)}`,
    ...(facts.incident.workload ? [] : ['The incident has no owning workload.']),
    said,
  ].join('\n');
  return outcome('pending-approval', [
    { kind: 'approval-request', approval },
    alert('approval', 'warning', `Approval needed: ${subjectOf(key)}`, summary),
  ]);
}

const MODEL_LABEL = 'Model-written diagnosis (unverified; links and mentions disabled)';
const RUNBOOK_LABEL = 'Runbook diagnosis (quotes cluster evidence; links and mentions disabled)';
/** An alert leads with what policy decided; the diagnosis after it is bounded so it cannot crowd that out. */
const ALERT_DIAGNOSIS_MAX = 1000;

/** The proposal with its free text neutralised: redacted again, URLs defanged, mentions inert, bounded. */
function untrustedProposalOf(choice: Choice): Choice {
  const { proposal } = choice;
  return {
    ...choice,
    proposal: {
      ...proposal,
      diagnosis: neutraliseUntrusted(proposal.diagnosis, 2000),
      rationale: neutraliseUntrusted(proposal.rationale, 4000),
    },
  };
}

/**
 * A plan policy lets run on its own, signed, unless the target was remediated too recently or the cluster has
 * used up its automatic plans for now: then why it waits for a human instead.
 */
async function planAutomatically(
  key: IncidentKey,
  choice: Choice,
  scope: PlanScope,
  dryRun: boolean,
  now: Date,
  deps: PlannerDeps,
): Promise<{ plan: RemediationPlan } | { heldBack: string }> {
  const { state, settings } = deps;
  const { proposal } = choice;
  const target = cooldownTargetOf(key);
  const cooldown = await state.cooldownRemaining(target);
  if (cooldown > 0)
    return { heldBack: `${subjectOf(key)} was remediated recently (cooldown ${cooldown}s left)` };
  if (
    !(await state.takeAutoPlanToken(
      key.clusterId,
      settings.autoPlans.max,
      settings.autoPlans.windowSeconds,
      now,
    ))
  ) {
    return {
      heldBack: `more than ${settings.autoPlans.max} automatic plans in ${settings.autoPlans.windowSeconds}s`,
    };
  }
  const plan = signPlan(
    {
      schemaVersion: PLAN_SCHEMA_VERSION,
      kind: 'remediation-plan',
      clusterId: key.clusterId,
      planId: `plan-${shortId(`${key.fingerprint}|${now.toISOString()}`, 24)}`,
      incidentId: key.fingerprint,
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + settings.planTtlSeconds * 1000).toISOString(),
      source: choice.source,
      rationale: clip(`${proposal.diagnosis} ${proposal.rationale}`, 4000),
      confidence: proposal.confidence,
      dryRun,
      scope,
      actions: proposal.actions,
    },
    signerOf(key.clusterId, deps),
  );
  await state.startCooldown(target, settings.cooldownSeconds);
  return { plan };
}

async function requestApproval(
  key: IncidentKey,
  anomalies: Anomaly[],
  choice: Choice,
  scope: PlanScope,
  facts: TargetFacts,
  reasons: readonly string[],
  now: Date,
  deps: PlannerDeps,
): Promise<PendingApproval> {
  const { settings } = deps;
  // Sealed with the planner's key: the approver refuses the approval if anything it will sign from is edited,
  // and re-evaluates the proposal on the facts kept here.
  const approval = sealApproval(
    {
      approvalId: `apr-${shortId(`${key.fingerprint}|${now.toISOString()}`, 24)}`,
      clusterId: key.clusterId,
      incidentId: key.fingerprint,
      status: 'pending',
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + settings.approvalTtlSeconds * 1000).toISOString(),
      source: choice.source,
      proposal: choice.proposal,
      reasons: reasons.map((r) => clip(r, 1000)).slice(0, 50),
      dryRun: deps.policy.dryRun,
      scope,
      facts: StoredFacts.parse(facts),
      ...(anomalies[0] ? { target: anomalies[0].target } : {}),
    },
    signerOf(key.clusterId, deps),
  );
  await deps.state.saveApproval(approval);
  return approval;
}

function alertFactory(
  key: IncidentKey,
  anomalies: Anomaly[],
  choice: Choice,
  context: PlanningContext,
  now: Date,
) {
  return (kind: string, severity: Alert['severity'], title: string, summary: string): PlannerOutput => {
    const notes = [
      choice.fallbackReason ? `Runbook used because ${choice.fallbackReason}.` : '',
      context.redactions > 0 ? `${context.redactions} secrets were redacted from the evidence.` : '',
    ].filter(Boolean);
    return {
      kind: 'alert',
      alert: {
        schemaVersion: SCHEMA_VERSION,
        kind: 'alert',
        clusterId: key.clusterId,
        alertId: `alert-${shortId(`${key.fingerprint}|${kind}|${now.toISOString()}`, 24)}`,
        dedupKey: key.fingerprint,
        severity,
        status: 'firing',
        title: clip(title, 300),
        summary: clip([summary, ...notes].join('\n'), 4000),
        createdAt: now.toISOString(),
        incidentId: key.fingerprint,
        ...(anomalies[0] ? { target: anomalies[0].target } : {}),
        links: [],
      },
    };
  };
}

/**
 * The signed scope of a plan for an incident: what its facts say the incident is about. Parsed, so a workload
 * kind or node name the contract does not admit fails here rather than at the executor.
 */
export function planScopeOf(clusterId: string, facts: TargetFacts): PlanScope {
  const { namespace, workload, nodes } = facts.incident;
  return PlanScope.parse({
    clusterId,
    namespace,
    workload: workload ? { kind: workload.kind, name: workload.name } : null,
    nodes: [...nodes].slice(0, 50),
  });
}

const cooldownTargetOf = (key: IncidentKey) =>
  key.subject.kind === 'Node'
    ? `${key.clusterId}/node/${key.subject.name}`
    : `${key.clusterId}/${key.namespace}/${key.subject.kind}/${key.subject.name}`;

/** The cluster's own signing key; a cluster without one is refused (the handler refuses its anomalies first). */
function signerOf(clusterId: string, deps: Pick<PlannerDeps, 'signers'>): SigningKey {
  const signer = deps.signers.get(clusterId);
  if (!signer)
    throw new UnknownClusterError(`no signing key for cluster ${clusterId}; it is not served here`);
  return signer;
}
