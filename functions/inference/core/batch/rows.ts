import { chooseNormalisation } from '../normalise.js';
import type { LoadResult, WindowScores } from '../ports.js';
import { podRefOf } from '../series-keys.js';
import { decodeSeriesState, type SeriesState } from '../series-state.js';
import type { Batch, ScoredRow, SeriesInput } from './context.js';

export interface Rows {
  /** In time order per series, series after series. */
  rows: ScoredRow[];
  /** Every scored series' state as loaded, by series key. */
  states: Map<string, SeriesState>;
  /** Each row's normalised window, `metadata.window` values per row, filled when the rows are scored. */
  windows: Float32Array;
}

/** One row per new sample that has a full window behind it, written straight into one packed buffer. */
export function buildRows(batch: Batch, series: Map<string, SeriesInput>, loaded: LoadResult): Rows {
  const { stats } = batch;
  const width = batch.metadata.window;
  const rows: ScoredRow[] = [];
  const states = new Map<string, SeriesState>();
  for (const input of series.values()) {
    const stored = loaded.series.get(input.seriesKey)!;
    stats.duplicateSamples += input.samples.size - stored.added;
    if (!input.signal) continue;
    const state = decodeSeriesState(stored.state);
    states.set(input.seriesKey, state);
    for (const ts of input.samples.keys()) if (ts <= state.lastScoredAt) stats.lateSamples++;
    const { timestamps, values } = stored;
    const inventory = loaded.inventory.get(podRefOf(input.clusterId, input.namespace, input.pod)) ?? null;
    const normalisation = chooseNormalisation(input.signal, input.container, inventory, values);
    // A young series is judged from its first sample (the limit guard and the short-window forecast need no
    // full window); fewer than a window of stored samples before an unscored one only happens while it is young.
    for (let i = 0; i < values.length; i++) {
      if (timestamps[i]! <= state.lastScoredAt) continue;
      const last = values[i]! / normalisation.denominator;
      const short = i < width - 1;
      rows.push({ series: input, at: timestamps[i]!, last, values, end: i, normalisation, short });
    }
  }
  return { rows, states, windows: new Float32Array(rows.length * width) };
}

/** Every row's window, normalised, through both models in one call each. */
export async function scoreRows(batch: Batch, { rows, windows }: Rows): Promise<WindowScores> {
  const width = batch.metadata.window;
  for (let r = 0; r < rows.length; r++) {
    const { values, end, normalisation } = rows[r]!;
    const { denominator } = normalisation;
    const offset = r * width - (end - width + 1);
    // A short row's window starts with its first value repeated (the models need a full window).
    for (let j = end - width + 1; j <= end; j++) windows[offset + j] = values[Math.max(0, j)]! / denominator;
  }
  const scores = await batch.deps.scorer.score(windows, rows.length);
  batch.stats.windowsScored = rows.length;
  return scores;
}
