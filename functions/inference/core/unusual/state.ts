import { initialUnusualState, type UnusualState } from './detector.js';
import { type EpisodeState, INITIAL_EPISODE_STATE } from './episode.js';

/** What Redis keeps per series for unusual behaviour: the detector's categories and the incident episode. */
export interface UnusualSeriesState {
  detector: UnusualState;
  episode: EpisodeState;
}

/** The most a series' unusual-behaviour state may take in its JSON document (unusual.test.ts holds it to this). */
export const MAX_UNUSUAL_STATE_BYTES = 16 * 1024;

export function initialUnusualSeriesState(range?: { low: number; high: number }): UnusualSeriesState {
  return { detector: initialUnusualState(range), episode: INITIAL_EPISODE_STATE };
}

/**
 * A stored document is read back only if it has the shape this version writes; anything else (an older layout,
 * a hand edit) starts the detector afresh rather than failing the series.
 */
export function decodeUnusualState(raw: unknown): UnusualSeriesState | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const { detector, episode } = raw as Partial<UnusualSeriesState>;
  if (
    typeof detector !== 'object' ||
    detector === null ||
    !Array.isArray(detector.boxes) ||
    !Array.isArray(detector.lastMatched) ||
    detector.boxes.length !== detector.lastMatched.length ||
    typeof detector.seen !== 'number' ||
    typeof episode !== 'object' ||
    episode === null
  )
    return null;
  // JSON has no infinities: an empty observed range is stored as nulls. A document from before the coarse layer
  // starts that layer empty.
  const coarseReadable =
    Array.isArray(detector.blocks) &&
    Array.isArray(detector.coarseBoxes) &&
    Array.isArray(detector.coarseLastMatched) &&
    detector.coarseBoxes.length === detector.coarseLastMatched.length;
  return {
    detector: {
      ...detector,
      low: detector.low ?? Number.POSITIVE_INFINITY,
      high: detector.high ?? Number.NEGATIVE_INFINITY,
      ...(coarseReadable
        ? {}
        : { blockSum: 0, blockCount: 0, blocks: [], coarseBoxes: [], coarseLastMatched: [] }),
    },
    episode: { ...INITIAL_EPISODE_STATE, ...episode },
  };
}
