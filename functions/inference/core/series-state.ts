import { Anomaly } from '../../shared/contracts/index.js';
import { INITIAL_INCIDENT_STATE, type IncidentState } from './hysteresis.js';

/**
 * What Redis keeps per series besides its window: a version for compare-and-set, the newest timestamp already
 * scored (so retries and redeliveries never score a sample twice), the incident state, and an outbox of anomaly
 * messages committed but not yet confirmed sent.
 */
export interface SeriesState {
  version: number;
  lastScoredAt: number;
  incident: IncidentState;
  outbox: Anomaly[];
}

export function decodeSeriesState(fields: Record<string, string>): SeriesState {
  const outbox: Anomaly[] = [];
  if (fields.outbox) {
    for (const raw of JSON.parse(fields.outbox) as unknown[]) {
      const parsed = Anomaly.safeParse(raw);
      if (parsed.success) outbox.push(parsed.data);
    }
  }
  return {
    version: Number(fields.v ?? 0),
    lastScoredAt: Number(fields.lastScoredAt ?? -1),
    incident:
      fields.phase === 'open'
        ? {
            phase: 'open',
            streak: Number(fields.streak ?? 0),
            incidentId: fields.incidentId || null,
            openedAt: fields.openedAt ? Number(fields.openedAt) : null,
          }
        : { ...INITIAL_INCIDENT_STATE, streak: Number(fields.streak ?? 0) },
    outbox,
  };
}

export function encodeSeriesState(state: Omit<SeriesState, 'version'>): Record<string, string> {
  return {
    lastScoredAt: String(state.lastScoredAt),
    phase: state.incident.phase,
    streak: String(state.incident.streak),
    incidentId: state.incident.incidentId ?? '',
    openedAt: state.incident.openedAt === null ? '' : String(state.incident.openedAt),
    outbox: state.outbox.length === 0 ? '' : JSON.stringify(state.outbox),
  };
}
