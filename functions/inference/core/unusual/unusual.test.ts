import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeSeriesState, encodeSeriesState } from '../series-state.js';
import {
  DEFAULT_UNUSUAL_PARAMS,
  initialUnusualState,
  observeUnusual,
  type UnusualState,
} from './detector.js';
import {
  COOLDOWN_SECONDS,
  INITIAL_EPISODE_STATE,
  OPEN_SCORE,
  observeEpisode,
  QUIET_SECONDS,
  WARNING_SCORE,
} from './episode.js';
import { decodeUnusualState, initialUnusualSeriesState, MAX_UNUSUAL_STATE_BYTES } from './state.js';

/** A deterministic noisy daily-like series with an optional level shift. */
function series(n: number, shiftAt = -1): number[] {
  let seed = 7;
  const noise = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31 - 0.5;
  };
  return Array.from(
    { length: n },
    (_, i) =>
      50 + 10 * Math.sin((2 * Math.PI * i) / 288) + 2 * noise() + (shiftAt >= 0 && i >= shiftAt ? 40 : 0),
  );
}

function run(values: number[], state: UnusualState = initialUnusualState()) {
  const scores: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const observed = observeUnusual(state, values, i);
    state = observed.state;
    scores.push(observed.reading.score);
  }
  return { state, scores };
}

describe('unusual-behaviour detector', () => {
  it('learns a series’ usual shapes and scores a level shift far above them, at its onset', () => {
    const { scores } = run(series(3000, 2500));
    const before = Math.max(...scores.slice(1500, 2500));
    const atShift = Math.max(...scores.slice(2500, 2510));
    assert.ok(atShift >= OPEN_SCORE, `shift scored ${atShift}`);
    assert.ok(before < OPEN_SCORE, `usual rows scored up to ${before}`);
    // One report per episode: the shifted level is not reported again while it holds.
    const reports = scores.slice(2500, 2500 + DEFAULT_UNUSUAL_PARAMS.hold).filter((s) => s > 0);
    assert.ok(reports.length <= 2, `${reports.length} reports in one episode`);
  });

  it('only learns during probation', () => {
    const values = series(DEFAULT_UNUSUAL_PARAMS.probation, 50);
    assert.ok(run(values).scores.every((s) => s === 0));
  });

  it('is deterministic and does not modify the state it is given', () => {
    const values = series(800, 600);
    const first = run(values);
    const frozen = JSON.stringify(first.state);
    observeUnusual(first.state, [...values, 500], values.length);
    assert.equal(JSON.stringify(first.state), frozen);
    assert.deepEqual(run(values).scores, first.scores);
  });

  it('keeps its state within 16 KB however varied the series, and survives a JSON round trip', () => {
    // White noise over a growing range keeps making new categories: the worst case for the state's size, with
    // values whose JSON is as long as a double's gets (negative, 17 significant digits and an exponent).
    let seed = 3;
    const values = Array.from({ length: 5000 }, (_, i) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return -(seed / 2 ** 31) * (1 + i) * 1.000000123456789e-7;
    });
    const { state } = run(values);
    assert.equal(state.boxes.length, DEFAULT_UNUSUAL_PARAMS.maxCategories, 'the category bound was reached');
    assert.equal(state.coarseBoxes.length, DEFAULT_UNUSUAL_PARAMS.coarseMaxCategories);
    assert.equal(state.blocks.length, DEFAULT_UNUSUAL_PARAMS.coarseSpan);
    const document = JSON.stringify({ ...initialUnusualSeriesState(), detector: state });
    assert.ok(document.length <= MAX_UNUSUAL_STATE_BYTES, `${document.length} bytes`);
    const decoded = decodeUnusualState(JSON.parse(document));
    assert.deepEqual(decoded?.detector, state);
  });

  it('measures against a told range from its first sample, and a fresh state’s empty range survives JSON', () => {
    const told = initialUnusualState({ low: 0, high: 100 });
    assert.equal(told.told, true);
    const fresh = decodeUnusualState(JSON.parse(JSON.stringify(initialUnusualSeriesState())));
    assert.equal(fresh?.detector.low, Number.POSITIVE_INFINITY);
    assert.equal(fresh?.detector.high, Number.NEGATIVE_INFINITY);
  });
});

describe('unusual-behaviour episodes', () => {
  const idOf = (at: number) => `inc-${at}`;

  it('opens once per episode, resolves after a quiet spell, and holds off a new one for the cooldown', () => {
    let state = INITIAL_EPISODE_STATE;
    const transitions: string[] = [];
    const step = (score: number, at: number) => {
      const next = observeEpisode(state, score, at, idOf);
      state = next.state;
      if (next.transition) transitions.push(`${next.transition.kind}@${at}:${next.transition.severity}`);
    };
    step(WARNING_SCORE, 1000);
    for (let t = 1030; t < 1000 + 600; t += 30) step(OPEN_SCORE, t);
    for (let t = 1600; t <= 1600 + QUIET_SECONDS + 30; t += 30) step(0, t);
    assert.deepEqual(transitions.slice(0, 1), ['opened@1000:warning']);
    assert.equal(transitions.length, 2);
    // Resolved a quiet spell after the last unusual sample (1570).
    assert.match(transitions[1]!, new RegExp(`^resolved@${1570 + QUIET_SECONDS}:`));
    const resolvedAt = 1570 + QUIET_SECONDS;
    // A new unusual sample inside the cooldown opens nothing; after it, a new episode opens.
    step(OPEN_SCORE, resolvedAt + 60);
    assert.equal(transitions.length, 2);
    step(OPEN_SCORE, resolvedAt + COOLDOWN_SECONDS + 60);
    assert.equal(transitions.length, 3);
    assert.match(transitions[2]!, /^opened@.*:info$/);
  });

  it('does not open below the open score', () => {
    const next = observeEpisode(INITIAL_EPISODE_STATE, OPEN_SCORE - 0.01, 0, idOf);
    assert.equal(next.transition, null);
  });
});

describe('series state', () => {
  it('reads a document written before the detector existed, and keeps the detector’s state once written', () => {
    const old = decodeSeriesState({ v: '3', t: '100', s: JSON.stringify({ incident: { phase: 'normal' } }) });
    assert.equal(old.unusual, null);
    const unusual = initialUnusualSeriesState({ low: 1, high: 2 });
    const encoded = encodeSeriesState({ ...old, unusual });
    assert.deepEqual(decodeSeriesState({ v: '4', ...encoded }).unusual, unusual);
  });

  it('reads a detector state from before the coarse layer, starting that layer empty', () => {
    const {
      blocks: _b,
      coarseBoxes: _c,
      coarseLastMatched: _l,
      ...older
    } = initialUnusualSeriesState().detector;
    const decoded = decodeUnusualState({ detector: older, episode: INITIAL_EPISODE_STATE });
    assert.deepEqual(decoded?.detector.coarseBoxes, []);
    assert.equal(decoded?.detector.blockCount, 0);
  });

  it('starts the detector afresh from a document it cannot read rather than failing the series', () => {
    const bad = decodeSeriesState({ s: JSON.stringify({ incident: {}, unusual: { detector: 5 } }) });
    assert.equal(bad.unusual, null);
  });
});
