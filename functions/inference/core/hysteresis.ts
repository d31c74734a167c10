/**
 * Turns a stream of per-sample verdicts into incidents: an incident opens after `openAfter` consecutive
 * anomalous samples and closes after `closeAfter` consecutive healthy ones, so a persisting anomaly fires
 * once rather than every sample, and a flapping one does not open and close in a loop.
 */
export interface HysteresisPolicy {
  openAfter: number;
  closeAfter: number;
}

export type IncidentPhase = 'normal' | 'open';

export interface IncidentState {
  phase: IncidentPhase;
  /** Consecutive anomalous samples while normal, consecutive healthy samples while open. */
  streak: number;
  incidentId: string | null;
  openedAt: number | null;
}

export const INITIAL_INCIDENT_STATE: IncidentState = {
  phase: 'normal',
  streak: 0,
  incidentId: null,
  openedAt: null,
};

export type IncidentTransition =
  | { kind: 'opened'; incidentId: string; at: number }
  | { kind: 'resolved'; incidentId: string; at: number };

export function observe(
  state: IncidentState,
  anomalous: boolean,
  at: number,
  policy: HysteresisPolicy,
  newIncidentId: (openedAt: number) => string,
): { state: IncidentState; transition: IncidentTransition | null } {
  if (state.phase === 'normal') {
    if (!anomalous) return { state: { ...state, streak: 0 }, transition: null };
    const streak = state.streak + 1;
    if (streak < policy.openAfter) return { state: { ...state, streak }, transition: null };
    const incidentId = newIncidentId(at);
    return {
      state: { phase: 'open', streak: 0, incidentId, openedAt: at },
      transition: { kind: 'opened', incidentId, at },
    };
  }
  if (anomalous) return { state: { ...state, streak: 0 }, transition: null };
  const streak = state.streak + 1;
  if (streak < policy.closeAfter) return { state: { ...state, streak }, transition: null };
  const incidentId = state.incidentId ?? newIncidentId(state.openedAt ?? at);
  return { state: INITIAL_INCIDENT_STATE, transition: { kind: 'resolved', incidentId, at } };
}
