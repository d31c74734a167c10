/**
 * Turns a stream of per-sample evidence into incidents, so a persisting anomaly fires once rather than every
 * sample and a flapping one does not open and close in a loop. The two kinds of evidence are not worth the
 * same: a forecast reaching the limit soon is a specific claim and opens after `openAfter` consecutive
 * samples; the classifier's "this shape heads for exhaustion" is weaker on its own (a rising diurnal phase, a
 * batch job or a slow GC cycle can look like a leak for a while), so classifier evidence must persist for
 * `classifierOpenAfter` consecutive samples. An open incident closes after `closeAfter` healthy samples.
 *
 * An incident the classifier opened is superseded when the forecast then reaches the limit, from
 * `SUPERSEDE_AFTER_SECONDS` after it opened: the old one is resolved and a new one opens for the breach, so an
 * incident that is already open (a restart, a warm-up) cannot hide a leak that follows it.
 *
 * The limit guard's evidence (limit-guard.ts: a level near the limit the series has not shown it lives at, or a
 * step history one more step of which reaches the limit) has its own `for` (the static rule's two minutes) and
 * opens at its first sample, and never learns a higher bar from quiet incidents: the static 90 % rule it stands in for does not either, and
 * only the guard's own habituation may silence it.
 *
 * A container killed while its incident is open (usage falling from near its limit to a fresh process's level)
 * resolves the incident at once, as one that came true: the next leak after the restart opens a new incident
 * rather than hiding in the old one, and the kill teaches no higher bar.
 */
/**
 * An incident during which the usage never reached this share of its limit was a false alarm in hindsight: the
 * forecast or the shape said it was heading there, and it did not get there.
 */
export const QUIET_PEAK = 1;
/** After a quiet incident, evidence must last this many times as long as it did then. */
export const LEARNT_BAR_FACTOR = 3;
/** So a series can never learn to ignore a real breach entirely (30 minutes at a 30 s step). */
export const MAX_LEARNT_OPEN_AFTER = 60;
/** An open incident whose peak reached KILLED_FROM and whose usage then fell below KILLED_BELOW was a kill. */
export const KILLED_FROM = 0.85;
export const KILLED_BELOW = 0.1;
/**
 * A breach this soon after the classifier opened its incident is the same episode seen by a second detector, not
 * a new one: the incident stays open (superseding it would announce a second incident for one batch job, one cache
 * fill). Later, a breach supersedes as before (a warm-up's incident must not hide the leak that follows it).
 */
/**
 * What a series' quiet incidents teach besides a higher bar (habituation for the models' evidence): the models'
 * evidence (a forecast breach, the classifier) does not open an incident while the usage is below the highest peak
 * of the series' quiet incidents of the last `QUIET_MEMORY_SECONDS` plus `QUIET_MARGIN`. A batch-job pod whose
 * jobs rose to 0.75 and were freed has shown that a rise to 0.75 is its job, not a leak; a rise past 0.80 is new.
 * The limit guard is not silenced by it (only its own habituation may), and a kill forgets it.
 */
export const QUIET_MARGIN = 0.05;
export const QUIET_MEMORY_SECONDS = 7 * 86_400;
export const SUPERSEDE_AFTER_SECONDS = 60 * 60;

export interface HysteresisPolicy {
  openAfter: number;
  closeAfter: number;
}

export interface IncidentPolicy extends HysteresisPolicy {
  classifierOpenAfter: number;
}

export interface Evidence {
  forecastBreach: boolean;
  classified: boolean;
  /** The limit guard's evidence (limit-guard.ts); absent counts as false. */
  guard?: boolean;
  /** The usage as a share of its limit. */
  level: number;
}

export type IncidentPhase = 'normal' | 'open';
export type IncidentCause = 'forecast' | 'classifier';

export interface IncidentState {
  phase: IncidentPhase;
  /** Consecutive anomalous samples while normal, consecutive healthy samples while open. */
  streak: number;
  /** Consecutive samples with any evidence, and with a forecast breach, in either phase. */
  anomalousStreak: number;
  breachStreak: number;
  guardStreak: number;
  incidentId: string | null;
  openedAt: number | null;
  openedBy: IncidentCause | null;
  /** While open: the highest level and the longest runs of evidence, to judge the incident when it closes. */
  peak: number;
  longestAnomalous: number;
  longestBreach: number;
  /** Learnt from this series' quiet incidents (0 until one happened): the runs of evidence that open one. */
  learntOpenAfter: number;
  learntBreachOpenAfter: number;
  /** The highest peak of this series' recent quiet incidents (0: none), and when it was last raised or reached. */
  quietPeak: number;
  quietAt: number;
}

export const INITIAL_INCIDENT_STATE: IncidentState = {
  phase: 'normal',
  streak: 0,
  anomalousStreak: 0,
  breachStreak: 0,
  guardStreak: 0,
  incidentId: null,
  openedAt: null,
  openedBy: null,
  peak: 0,
  longestAnomalous: 0,
  longestBreach: 0,
  learntOpenAfter: 0,
  learntBreachOpenAfter: 0,
  quietPeak: 0,
  quietAt: 0,
};

export type IncidentTransition =
  | { kind: 'opened'; incidentId: string; at: number }
  | { kind: 'resolved'; incidentId: string; at: number }
  | { kind: 'superseded'; resolvedIncidentId: string; incidentId: string; at: number };

/**
 * A series that keeps looking as if it heads for its limit and then does not (a batch job freeing its memory,
 * a cache that is trimmed) teaches the detector about itself: when an incident closes without the usage ever
 * coming near the limit, later incidents on that series need evidence lasting LEARNT_BAR_FACTOR times longer.
 */
export function observe(
  stored: IncidentState,
  evidence: Evidence,
  at: number,
  policy: IncidentPolicy,
  newIncidentId: (openedAt: number) => string,
): { state: IncidentState; transition: IncidentTransition | null } {
  // States stored by an earlier version lack the newer fields: they start from their initial values.
  const state: IncidentState = { ...INITIAL_INCIDENT_STATE, ...stored };
  const guard = evidence.guard === true;
  const remembered = state.quietPeak > 0 && at - state.quietAt <= QUIET_MEMORY_SECONDS;
  const belowQuietPeak =
    state.phase === 'normal' && remembered && evidence.level < state.quietPeak + QUIET_MARGIN;
  const forecastBreach = evidence.forecastBreach && !belowQuietPeak;
  const classified = evidence.classified && !belowQuietPeak;
  const anomalous = forecastBreach || classified || guard;
  const anomalousStreak = anomalous ? state.anomalousStreak + 1 : 0;
  const breachStreak = forecastBreach ? state.breachStreak + 1 : 0;
  const guardStreak = guard ? state.guardStreak + 1 : 0;
  const breachOpens =
    breachStreak >= Math.max(policy.openAfter, state.learntBreachOpenAfter) || guardStreak >= 1;
  // Each new state is spread from `state` with the streaks set in it, in one object (this runs once per sample).
  if (state.phase === 'normal') {
    const opens =
      breachOpens || anomalousStreak >= Math.max(policy.classifierOpenAfter, state.learntOpenAfter);
    if (!opens) {
      return {
        state: { ...state, anomalousStreak, breachStreak, guardStreak, streak: anomalousStreak },
        transition: null,
      };
    }
    const incidentId = newIncidentId(at);
    return {
      state: {
        ...state,
        anomalousStreak,
        breachStreak,
        guardStreak,
        phase: 'open',
        streak: 0,
        incidentId,
        openedAt: at,
        openedBy: breachOpens ? 'forecast' : 'classifier',
        peak: evidence.level,
        longestAnomalous: anomalousStreak,
        longestBreach: breachStreak,
      },
      transition: { kind: 'opened', incidentId, at },
    };
  }
  if (state.peak >= KILLED_FROM && evidence.level < KILLED_BELOW) {
    const incidentId = state.incidentId ?? newIncidentId(state.openedAt ?? at);
    const { learntOpenAfter, learntBreachOpenAfter } = state;
    return {
      state: { ...INITIAL_INCIDENT_STATE, learntOpenAfter, learntBreachOpenAfter },
      transition: { kind: 'resolved', incidentId, at },
    };
  }
  const open: IncidentState = {
    ...state,
    anomalousStreak,
    breachStreak,
    guardStreak,
    peak: Math.max(state.peak, evidence.level),
    longestAnomalous: Math.max(state.longestAnomalous, anomalousStreak),
    longestBreach: Math.max(state.longestBreach, breachStreak),
  };
  if (
    breachOpens &&
    state.openedBy === 'classifier' &&
    at - (state.openedAt ?? at) >= SUPERSEDE_AFTER_SECONDS
  ) {
    const incidentId = newIncidentId(at);
    const resolvedIncidentId = state.incidentId ?? newIncidentId(state.openedAt ?? at);
    return {
      state: { ...open, streak: 0, incidentId, openedAt: at, openedBy: 'forecast' },
      transition: { kind: 'superseded', resolvedIncidentId, incidentId, at },
    };
  }
  if (anomalous) return { state: { ...open, streak: 0 }, transition: null };
  const streak = state.streak + 1;
  if (streak < policy.closeAfter) return { state: { ...open, streak }, transition: null };
  const incidentId = state.incidentId ?? newIncidentId(state.openedAt ?? at);
  const quiet = open.peak < QUIET_PEAK;
  const learnt = (current: number, longest: number) =>
    quiet ? Math.max(current, Math.min(MAX_LEARNT_OPEN_AFTER, LEARNT_BAR_FACTOR * longest + 1)) : current;
  return {
    state: {
      ...INITIAL_INCIDENT_STATE,
      learntOpenAfter: learnt(state.learntOpenAfter, open.longestAnomalous),
      learntBreachOpenAfter: learnt(state.learntBreachOpenAfter, open.longestBreach),
      ...(quiet
        ? { quietPeak: Math.max(remembered ? state.quietPeak : 0, open.peak), quietAt: at }
        : { quietPeak: state.quietPeak, quietAt: state.quietAt }),
    },
    transition: { kind: 'resolved', incidentId, at },
  };
}
