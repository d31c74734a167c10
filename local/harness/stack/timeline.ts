// What happened to each injected fault, from what the loop observer saw: when it was detected and how long before
// the failure, what was planned and applied, whether recovery was verified, or whether a human was called.

import { incidentKeyOf } from '../../../functions/planner/core/correlate.js';
import { describeAction } from '../../../functions/shared/actions/index.js';
import type {
  Alert,
  Anomaly,
  EventAnomaly,
  ExecutionResult,
  UsageAnomaly,
} from '../../../functions/shared/contracts/index.js';
import type { TimelineRow } from '../../scenarios/demo/report/html-report.js';
import type { FaultScenario } from './faults.js';
import { type LoopObserver, workloadOf } from './loop-observer.js';

export interface FaultOutcome extends TimelineRow {
  scenario: FaultScenario;
  anomalies: Anomaly[];
  results: ExecutionResult[];
  alerts: Alert[];
  /** Distinct plans that changed something on the workload. */
  plansApplied: number;
  /** OOM kills (or other failure events) the cluster reported for the workload. */
  failures: EventAnomaly[];
  escalated: boolean;
  recovered: boolean;
  /** Detection to verified action, wall clock. */
  detectToFixMs: number | null;
  /** Whether the loop reached the end it should: remediated and recovered, or escalated without an action. */
  done: boolean;
  /** Where the time went for the first plan applied; null without one. */
  stages: LatencyStages | null;
}

/**
 * The first applied plan's path, epoch ms, from the incident's first detection: the sample it was scored on, the
 * inference function sending the anomaly (SQS's SentTimestamp: detection), the planner's trigger receiving it,
 * the planner invoked (its batching window over) and done (the plan sent), the executor starting the plan (the
 * result's startedAt), the first change seen on the object (a watch), and the result's end if verified.
 */
export interface LatencyStages {
  sampledAt: number;
  detectedAt: number;
  plannerReceivedAt: number;
  plannerInvokedAt: number;
  plannedAt: number;
  executorStartedAt: number;
  appliedAt: number | null;
  verifiedAt: number | null;
}

const seconds = (iso: string | undefined | null) => (iso ? Date.parse(iso) / 1000 : null);

/**
 * Whether an alert's target is this fault's workload: same namespace (the control plane is shared with other runs),
 * and its owner, or else a pod named as the Deployment's pods are (`<deployment>-<replicaset hash>-<pod hash>`), so
 * `payments` does not claim `payments-a`'s pods.
 */
const aboutWorkload =
  (namespace: string, workload: string) =>
  (target: { namespace: string; pod?: string; owner?: { name: string } } | undefined) =>
    !!target &&
    target.namespace === namespace &&
    (target.owner?.name === workload ||
      (!target.owner && new RegExp(`^${workload}-[a-z0-9]+-[a-z0-9]+$`).test(target.pod ?? '')));

export function summariseFault(
  scenario: FaultScenario,
  namespace: string,
  deployedAtMs: number,
  observer: LoopObserver,
  /** planId → when its change was first seen on the object (remediation-watch.ts); stages need it. */
  appliedAtByPlan?: ReadonlyMap<string, number>,
): FaultOutcome {
  const anomalies = observer.anomalies.filter(
    (a) => a.target.namespace === namespace && workloadOf(a) === scenario.workload,
  );
  const opened = anomalies.filter((a) => a.status === 'opened');
  const usage = opened.filter((a): a is UsageAnomaly => a.source === 'usage');
  const events = anomalies.filter((a): a is EventAnomaly => a.source === 'event');
  const failures = events.filter((a) => ['OOMKilled', 'Evicted'].includes(a.event.reason));
  const first = (scenario.signal === 'events' ? opened : usage.length > 0 ? usage : opened)
    .map((a) => ({ a, at: seconds(a.detectedAt)! }))
    .sort((x, y) => x.at - y.at)[0];

  const results = observer.results.filter((r) =>
    r.steps.some(
      (s) => 'name' in s.action && s.action.namespace === namespace && s.action.name === scenario.workload,
    ),
  );
  const applied = results.filter((r) => r.steps.some((s) => s.status === 'applied'));
  const plansApplied = new Set(applied.map((r) => r.planId)).size;
  const verified = results.find((r) => r.status === 'verified');
  const alerts = observer.alerts.filter((a) => aboutWorkload(namespace, scenario.workload)(a.target));
  const escalation = alerts.find((a) => a.status === 'firing' && !a.planId && a.severity !== 'info');

  const faultBeganAt = deployedAtMs / 1000;
  const expectedFailureAt =
    scenario.failureAfterSeconds === null ? null : faultBeganAt + scenario.failureAfterSeconds;
  const detectedAt = first?.at ?? null;
  const actionAppliedAt = seconds(applied[0]?.startedAt);
  const recoveryVerifiedAt = seconds(verified?.finishedAt);
  const failedAfterFix = failures.some(
    (f) => actionAppliedAt !== null && (seconds(f.event.observedAt) ?? 0) > actionAppliedAt,
  );
  const recovered = !!verified && !failedAfterFix;
  const escalated = !!escalation;
  const firstUsage = usage[0];

  const plan =
    applied.length > 0
      ? applied[0]!.steps.map((s) => describeAction(s.action)).join(' + ')
      : escalation
        ? `escalated: ${escalation.title}`
        : '—';
  const outcome =
    scenario.expect === 'remediated'
      ? recovered
        ? failures.length > 0
          ? `recovered (after ${failures.length} failure${failures.length > 1 ? 's' : ''})`
          : 'recovered before any failure'
        : verified
          ? 'verified, then failed again'
          : applied.length > 0
            ? `action ${results.at(-1)?.status ?? 'pending'}`
            : detectedAt !== null
              ? 'detected, no action yet'
              : 'not detected yet'
      : escalated
        ? plansApplied === 0
          ? 'escalated to a human, no action taken'
          : 'escalated, but an action was applied'
        : 'not escalated yet';
  const done = scenario.expect === 'remediated' ? recovered : escalated && plansApplied === 0;

  return {
    stages: appliedAtByPlan ? stagesOf(applied[0], anomalies, verified, observer, appliedAtByPlan) : null,
    fault: scenario.title,
    target: `${scenario.workload}`,
    faultBeganAt,
    // Only a usage forecast predicts a failure; a crash loop is reported, not predicted.
    failurePredictedFor: seconds(firstUsage?.predictedLimitAt),
    detectedAt,
    leadTimeSeconds:
      scenario.signal !== 'events' && expectedFailureAt !== null && detectedAt !== null
        ? expectedFailureAt - detectedAt
        : null,
    plan,
    actionAppliedAt,
    recoveryVerifiedAt,
    outcome,
    scenario,
    anomalies,
    results,
    alerts,
    plansApplied,
    failures,
    escalated,
    recovered,
    detectToFixMs:
      detectedAt !== null && recoveryVerifiedAt !== null ? (recoveryVerifiedAt - detectedAt) * 1000 : null,
    done,
  };
}

function stagesOf(
  plan: ExecutionResult | undefined,
  anomalies: Anomaly[],
  verified: ExecutionResult | undefined,
  observer: LoopObserver,
  appliedAtByPlan: ReadonlyMap<string, number>,
): LatencyStages | null {
  if (!plan) return null;
  const first = anomalies
    // The plan names the planner's incident (a fingerprint of workload and problem), not the series' own.
    .filter((a) => a.status === 'opened' && incidentKeyOf(a).fingerprint === plan.incidentId)
    .flatMap((a) => {
      const timing = observer.anomalyTimings.get(a.anomalyId);
      return timing ? [{ a, timing }] : [];
    })
    .sort((x, y) => x.timing.sentAt - y.timing.sentAt)[0];
  if (!first) return null;
  return {
    sampledAt: Date.parse(first.a.detectedAt),
    detectedAt: first.timing.sentAt,
    plannerReceivedAt: first.timing.firstReceivedAt,
    plannerInvokedAt: first.timing.invokedAt,
    plannedAt: first.timing.plannedAt,
    executorStartedAt: Date.parse(plan.startedAt),
    appliedAt: appliedAtByPlan.get(plan.planId) ?? null,
    verifiedAt: verified?.planId === plan.planId ? Date.parse(verified.finishedAt) : null,
  };
}
