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

/** Redis hash fields: `v` (version, for compare-and-set) and `s` (everything else, one JSON document). */
export function decodeSeriesState(fields: Record<string, string>): SeriesState {
  const version = Number(fields.v ?? 0);
  if (!fields.s) return { version, lastScoredAt: -1, incident: INITIAL_INCIDENT_STATE, outbox: [] };
  const stored = JSON.parse(fields.s) as {
    lastScoredAt: number;
    incident: IncidentState;
    outbox?: unknown[];
  };
  const outbox: Anomaly[] = [];
  for (const raw of stored.outbox ?? []) {
    const parsed = Anomaly.safeParse(raw);
    if (parsed.success) outbox.push(parsed.data);
  }
  return { version, lastScoredAt: stored.lastScoredAt, incident: stored.incident, outbox };
}

export function encodeSeriesState(state: Omit<SeriesState, 'version'>): Record<string, string> {
  const { lastScoredAt, incident, outbox } = state;
  return {
    s: JSON.stringify(outbox.length > 0 ? { lastScoredAt, incident, outbox } : { lastScoredAt, incident }),
  };
}
