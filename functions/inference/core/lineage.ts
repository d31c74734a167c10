import { z } from 'zod';
import type { MetricName, OwnerRef, PodInventory } from '../../shared/contracts/index.js';
import { INITIAL_INCIDENT_STATE } from './hysteresis.js';
import { type GuardState, HABIT_BINS } from './limit-guard.js';
import type { SeriesState } from './series-state.js';

/**
 * A series' lineage: what it learnt about itself, kept per workload (owner) and container, so a pod that replaces
 * another (a new ReplicaSet's pod after a rollout, a rescheduled or restarted one) starts from its predecessor's
 * history instead of from nothing: the limit guard's habituation and step history, surprise's mean and variance,
 * and what quiet incidents taught the hysteresis (the learnt bar, the quiet peak). Without it a new pod pages again
 * on the cache size or the batch-job level its predecessor lived at harmlessly for days.
 *
 * Keyed by cluster, namespace, owner (kind and name), container and metric: never across owners, containers,
 * namespaces or clusters. Only owners whose pods replace one another inherit (`INHERITING_OWNERS`); a bare pod, a
 * Job's run or a node has no successor. With several replicas the lineage is the last one written: replicas of
 * one workload and container behave alike, and a new pod inherits a sibling's history.
 *
 * Never inherited: an open incident, its streaks and outbox (the new pod's incidents are its own), and, when the
 * predecessor's last word was an open incident, any habituation at all (only surprise): what it had learnt was
 * harmless ended in an alarm. A predecessor killed near its limit is seen by the guard as a kill (its last level
 * high, the new pod's first low), which forgets the habituation too. The inherited state says where it came from
 * (`SeriesState.inheritedFrom`).
 *
 * Bounded: one document per owner, container and metric, about as large as one series' state (the guard's ~1 KB),
 * written with the series' state and expiring with it.
 */
export const INHERITING_OWNERS: ReadonlySet<OwnerRef['kind']> = new Set([
  'Deployment',
  'ReplicaSet',
  'StatefulSet',
  'DaemonSet',
  'CronJob',
]);

export const LINEAGE_VERSION = 1;

/** Where a series' lineage lives, or null when its pod has no owner whose pods replace one another. */
export function lineageKeyOf(
  clusterId: string,
  inventory: PodInventory | null,
  container: string,
  metric: MetricName,
): string | null {
  const owner = inventory?.owner;
  if (!owner || !INHERITING_OWNERS.has(owner.kind)) return null;
  return `${clusterId}|${inventory.namespace}|${owner.kind}/${owner.name}|${container}|${metric}`;
}

const finite = z.number().finite();
const bins = z.array(finite).length(HABIT_BINS);
const GuardDocument = z
  .object({
    denominator: finite.positive(),
    lastAt: finite,
    dwell: bins,
    firstAt: bins,
    visits: bins,
    excursionTop: finite,
    lastLevel: finite,
    nearSeconds: finite,
    nearLastAt: finite,
    nearPeak: finite,
    stepSince: finite,
    step: z
      .object({
        level: finite,
        noise: finite,
        count: finite,
        run: finite,
        runSign: finite,
        runSum: finite,
        runLow: finite,
        runHigh: finite,
        ups: z.array(z.tuple([finite, finite])).max(16),
      })
      .strict(),
    limitRaisedAt: finite.optional(),
  })
  .strict();

const LineageDocument = z.object({
  v: z.literal(LINEAGE_VERSION),
  /** The pod that wrote it, and when (its last scored sample). */
  pod: z.string().max(253),
  at: finite,
  openIncident: z.boolean(),
  guard: GuardDocument.nullable(),
  surprise: z
    .object({ mean: finite, variance: finite.nonnegative(), peak: finite, sincePeak: finite })
    .nullable(),
  learnt: z.object({
    learntOpenAfter: finite.nonnegative(),
    learntBreachOpenAfter: finite.nonnegative(),
    quietPeak: finite.nonnegative(),
    quietAt: finite.nonnegative(),
  }),
});
type LineageDocument = z.infer<typeof LineageDocument>;

/** The lineage document a series' state leaves for its successors. */
export function lineageDocumentOf(state: Omit<SeriesState, 'version'>, pod: string): string {
  const { incident } = state;
  const document: LineageDocument = {
    v: LINEAGE_VERSION,
    pod,
    at: state.lastScoredAt,
    openIncident: incident.phase === 'open',
    guard: state.guard,
    surprise: state.surprise,
    learnt: {
      learntOpenAfter: incident.learntOpenAfter ?? 0,
      learntBreachOpenAfter: incident.learntBreachOpenAfter ?? 0,
      quietPeak: incident.quietPeak ?? 0,
      quietAt: incident.quietAt ?? 0,
    },
  };
  return JSON.stringify(document);
}

export type Inheritance =
  | { inherited: Pick<SeriesState, 'incident' | 'guard' | 'surprise' | 'inheritedFrom'> }
  | { inherited: null; reason: string };

/**
 * What a new series (no state of its own yet) inherits from its lineage's document: null, with why, when there
 * is nothing to inherit (a document this version cannot read is refused, not half used). The document may be the
 * pod's own (a series whose state expired while its pod lived on): its own history is as good a start.
 */
export function inherit(raw: string | undefined): Inheritance {
  if (raw === undefined) return { inherited: null, reason: 'no lineage' };
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { inherited: null, reason: 'lineage document is not JSON' };
  }
  const parsed = LineageDocument.safeParse(json);
  if (!parsed.success)
    return { inherited: null, reason: `lineage document refused: ${parsed.error.message}` };
  const document = parsed.data;
  const inheritedFrom = { pod: document.pod, at: document.at, partial: document.openIncident };
  if (document.openIncident)
    return {
      inherited: {
        incident: INITIAL_INCIDENT_STATE,
        guard: null,
        surprise: document.surprise,
        inheritedFrom,
      },
    };
  return {
    inherited: {
      incident: { ...INITIAL_INCIDENT_STATE, ...document.learnt },
      guard: document.guard as GuardState | null,
      surprise: document.surprise,
      inheritedFrom,
    },
  };
}
