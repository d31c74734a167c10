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

/**
 * Redis hash fields: `v` (version, for compare-and-set), `t` (last scored time, read by the window script) and
 * `s` (the rest, one JSON document).
 */
export function decodeSeriesState(fields: Record<string, string>): SeriesState {
  const version = Number(fields.v ?? 0);
  const lastScoredAt = Number(fields.t ?? -1);
  if (!fields.s) return { version, lastScoredAt, incident: INITIAL_INCIDENT_STATE, outbox: [] };
  const stored = JSON.parse(fields.s) as { incident: IncidentState; outbox?: unknown[] };
  const outbox: Anomaly[] = [];
  for (const raw of stored.outbox ?? []) {
    const parsed = Anomaly.safeParse(raw);
    if (parsed.success) outbox.push(parsed.data);
  }
  return { version, lastScoredAt, incident: stored.incident, outbox };
}

export function encodeSeriesState(state: Omit<SeriesState, 'version'>): Record<string, string> {
  const { lastScoredAt, incident, outbox } = state;
  return {
    t: String(lastScoredAt),
    s: JSON.stringify(outbox.length > 0 ? { incident, outbox } : { incident }),
  };
}
