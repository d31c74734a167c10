import { Anomaly } from '../../shared/contracts/index.js';
import { INITIAL_INCIDENT_STATE, type IncidentState } from './hysteresis.js';
import type { GuardState } from './limit-guard.js';
import type { SurpriseState } from './surprise.js';
import { decodeUnusualState, type UnusualSeriesState } from './unusual/state.js';

/**
 * What Redis keeps per series besides its window: a version for compare-and-set, the newest timestamp already
 * scored (so retries and redeliveries never score a sample twice), the incident state, and an outbox of anomaly
 * messages committed but not yet confirmed sent.
 */
export interface SeriesState {
  version: number;
  lastScoredAt: number;
  incident: IncidentState;
  /** The series' own history for surprise; null until its first full window. */
  surprise: SurpriseState | null;
  /** The limit guard's habituation and step history; null until the first sample scored against a limit. */
  guard: GuardState | null;
  /** The unusual-behaviour detector and its episode; null until the first sample (and in documents before it). */
  unusual: UnusualSeriesState | null;
  outbox: Anomaly[];
  /**
   * Set when the series started from its lineage (lineage.ts): the predecessor pod and its last scored time;
   * `partial` when only surprise was taken (the predecessor's incident was open).
   */
  inheritedFrom?: { pod: string; at: number; partial: boolean };
}

/**
 * Redis hash fields: `v` (version, for compare-and-set), `t` (last scored time, read by the window script) and
 * `s` (the rest, one JSON document).
 */
export function decodeSeriesState(fields: Record<string, string>): SeriesState {
  const version = Number(fields.v ?? 0);
  const lastScoredAt = Number(fields.t ?? -1);
  if (!fields.s)
    return {
      version,
      lastScoredAt,
      incident: INITIAL_INCIDENT_STATE,
      surprise: null,
      guard: null,
      unusual: null,
      outbox: [],
    };
  const stored = JSON.parse(fields.s) as {
    incident: IncidentState;
    surprise?: SurpriseState;
    guard?: GuardState;
    unusual?: unknown;
    outbox?: unknown[];
    inheritedFrom?: SeriesState['inheritedFrom'];
  };
  const outbox: Anomaly[] = [];
  for (const raw of stored.outbox ?? []) {
    const parsed = Anomaly.safeParse(raw);
    if (parsed.success) outbox.push(parsed.data);
  }
  return {
    version,
    lastScoredAt,
    incident: stored.incident,
    surprise: stored.surprise ?? null,
    guard: stored.guard ?? null,
    unusual: decodeUnusualState(stored.unusual),
    outbox,
    ...(stored.inheritedFrom ? { inheritedFrom: stored.inheritedFrom } : {}),
  };
}

export function encodeSeriesState(
  state: Omit<SeriesState, 'version' | 'guard' | 'unusual'> & {
    guard?: GuardState | null;
    unusual?: UnusualSeriesState | null;
  },
): Record<string, string> {
  const { lastScoredAt, incident, surprise, guard, unusual, outbox, inheritedFrom } = state;
  const document: Record<string, unknown> = { incident };
  if (surprise) document.surprise = surprise;
  if (guard) document.guard = guard;
  if (unusual) document.unusual = unusual;
  if (inheritedFrom) document.inheritedFrom = inheritedFrom;
  if (outbox.length > 0) document.outbox = outbox;
  return { t: String(lastScoredAt), s: JSON.stringify(document) };
}
