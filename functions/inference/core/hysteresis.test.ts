import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type Evidence,
  INITIAL_INCIDENT_STATE,
  type IncidentState,
  type IncidentTransition,
  observe,
} from './hysteresis.js';

const policy = { openAfter: 2, classifierOpenAfter: 4, closeAfter: 3 };

/**
 * `b`: the forecast breaches, `c`: the classifier fires, `B`: both, `.`: neither. `level`: the usage's share of
 * the limit throughout (at the limit by default, so no incident counts as a false alarm).
 */
function run(
  evidence: string,
  level: number | ((i: number) => number) = 1,
  stepSeconds = 1,
): { transitions: IncidentTransition[]; state: IncidentState } {
  let state = INITIAL_INCIDENT_STATE;
  const transitions: IncidentTransition[] = [];
  [...evidence].forEach((code, i) => {
    const at = i * stepSeconds;
    const sample: Evidence = {
      forecastBreach: 'bB'.includes(code),
      classified: 'cB'.includes(code),
      level: typeof level === 'number' ? level : level(i),
    };
    const result = observe(state, sample, at, policy, (openedAt) => `inc-${openedAt}`);
    state = result.state;
    if (result.transition) transitions.push(result.transition);
  });
  return { transitions, state };
}

describe('incident hysteresis', () => {
  it('does not open on a single anomalous sample', () => {
    assert.deepEqual(run('.b.b.c.B.').transitions, []);
  });

  it('opens once for a persisting forecast breach, however long it lasts', () => {
    const { transitions, state } = run('b'.repeat(50));
    assert.deepEqual(transitions, [{ kind: 'opened', incidentId: 'inc-1', at: 1 }]);
    assert.equal(state.phase, 'open');
    assert.equal(state.openedBy, 'forecast');
  });

  it('needs classifier-only evidence to persist longer than a forecast breach', () => {
    assert.deepEqual(run('ccc.ccc.').transitions, []);
    assert.deepEqual(run('cccc').transitions, [{ kind: 'opened', incidentId: 'inc-3', at: 3 }]);
    assert.equal(run('cccc').state.openedBy, 'classifier');
  });

  it('counts a breach towards the classifier streak, but only consecutive breaches open on their own', () => {
    assert.deepEqual(run('cbcb').transitions, [{ kind: 'opened', incidentId: 'inc-3', at: 3 }]);
    assert.equal(run('cbcb').state.openedBy, 'classifier');
  });

  it('closes only after enough consecutive healthy samples, and a relapse resets the count', () => {
    const { transitions } = run('bb..c...');
    assert.deepEqual(transitions, [
      { kind: 'opened', incidentId: 'inc-1', at: 1 },
      { kind: 'resolved', incidentId: 'inc-1', at: 7 },
    ]);
  });

  it('opens a new incident with a new id after one resolves', () => {
    const { transitions } = run('bb...bb');
    assert.deepEqual(
      transitions.map((t) => `${t.kind}:${t.incidentId}`),
      ['opened:inc-1', 'resolved:inc-1', 'opened:inc-6'],
    );
  });

  it('supersedes an incident the classifier opened when the forecast reaches the limit an hour or more later', () => {
    // 15 minutes a sample: opened at 45 min, the breach's second sample 60 min later
    const { transitions, state } = run('ccccccbbbbb', 1, 900);
    assert.deepEqual(transitions, [
      { kind: 'opened', incidentId: 'inc-2700', at: 2700 },
      { kind: 'superseded', resolvedIncidentId: 'inc-2700', incidentId: 'inc-6300', at: 6300 },
    ]);
    assert.equal(state.openedBy, 'forecast');
    assert.equal(state.incidentId, 'inc-6300');
  });

  it('keeps the classifier’s incident when the breach comes within the hour: one episode, one incident', () => {
    const { transitions, state } = run('ccccccbbbbb', 1, 30);
    assert.deepEqual(transitions, [{ kind: 'opened', incidentId: 'inc-90', at: 90 }]);
    assert.equal(state.incidentId, 'inc-90');
  });

  it('does not open on the models’ evidence below the peak of a recent quiet incident, nor for long', () => {
    // a batch job peaking at 0.75 and freed: the next job's rise to 0.75 is its job; a rise past 0.80 is new
    const job = (peak: number) => (i: number) => (i < 5 ? peak : 0.2);
    const first = run('bbb......', job(0.75), 30);
    assert.equal(first.state.quietPeak, 0.75);
    const again = (level: number, gapSeconds: number) => {
      const result = observe(
        first.state,
        { forecastBreach: true, classified: true, level },
        first.state.quietAt + gapSeconds,
        policy,
        (o) => `inc-${o}`,
      );
      const next = observe(
        result.state,
        { forecastBreach: true, classified: true, level },
        first.state.quietAt + gapSeconds + 30,
        { ...policy, openAfter: 2 },
        (o) => `inc-${o}`,
      );
      return result.transition ?? next.transition;
    };
    // the learnt bar (3 * 3 + 1 samples) aside, which this test is not about
    const noBar = { ...first.state, learntBreachOpenAfter: 0, learntOpenAfter: 0 };
    first.state = noBar;
    assert.equal(again(0.78, 3600), null, 'below the quiet peak + margin: silent');
    assert.equal(again(0.82, 3600)?.kind, 'opened', 'above it: a new level');
    assert.equal(again(0.78, 8 * 86_400)?.kind, 'opened', 'a week later it is forgotten');
    const guarded = observe(
      noBar,
      { forecastBreach: false, classified: false, guard: true, level: 0.7 },
      noBar.quietAt + 60,
      policy,
      (o) => `inc-${o}`,
    );
    assert.equal(guarded.transition?.kind, 'opened', 'the limit guard is not silenced by it');
  });

  it('does not supersede an incident the forecast opened', () => {
    assert.deepEqual(
      run('bbccccbbbb').transitions.map((t) => t.kind),
      ['opened'],
    );
  });

  it('learns from an incident that closed far from the limit: the next needs longer evidence', () => {
    // a breach of 3 samples that came to nothing: the next one must last 3 * 3 + 1 = 10 samples
    // (the later breaches above the first's peak: below it, the models' evidence would not count at all)
    const { transitions, state } = run(`bbb...${'b'.repeat(9)}...${'b'.repeat(10)}`, (i) =>
      i < 6 ? 0.8 : 0.9,
    );
    assert.deepEqual(
      transitions.map((t) => `${t.kind}@${t.at}`),
      ['opened@1', 'resolved@5', 'opened@27'],
    );
    assert.equal(state.learntBreachOpenAfter, 10);
    assert.equal(state.learntOpenAfter, 10);
  });

  it('learns nothing from an incident during which the usage reached the limit', () => {
    assert.deepEqual(
      run('bbb...bb', 1).transitions.map((t) => `${t.kind}@${t.at}`),
      ['opened@1', 'resolved@5', 'opened@7'],
    );
  });

  it('accepts a state stored before breach streaks were kept', () => {
    const stored = { phase: 'open', streak: 0, incidentId: 'inc-old', openedAt: 5 } as IncidentState;
    const { transition, state } = observe(
      stored,
      { forecastBreach: true, classified: false, level: 0.5 },
      9,
      policy,
      (openedAt) => `inc-${openedAt}`,
    );
    assert.equal(transition, null);
    assert.equal(state.breachStreak, 1);
  });

  it('opens at the limit guard’s first sample, and a quiet one teaches no higher bar for it', () => {
    let state = INITIAL_INCIDENT_STATE;
    const openings: number[] = [];
    const feed = (guard: boolean, level: number, at: number) => {
      const result = observe(
        state,
        { forecastBreach: false, classified: false, guard, level },
        at,
        policy,
        (o) => `inc-${o}`,
      );
      state = result.state;
      if (result.transition?.kind === 'opened') openings.push(at);
    };
    let at = 0;
    for (let k = 0; k < 3; k++) {
      feed(true, 0.92, at++);
      for (let q = 0; q < 5; q++) feed(false, 0.5, at++);
    }
    assert.deepEqual(openings, [0, 6, 12], 'each episode opens at once, however quiet the ones before');
  });

  it('resolves an open incident when the container is killed, as one that came true', () => {
    let state = INITIAL_INCIDENT_STATE;
    const transitions: IncidentTransition[] = [];
    const levels = [0.9, 0.95, 0.98, 0.03, 0.2, 0.3];
    levels.forEach((level, at) => {
      const breach = level > 0.5;
      const result = observe(
        state,
        { forecastBreach: breach, classified: breach, level },
        at,
        policy,
        (o) => `inc-${o}`,
      );
      state = result.state;
      if (result.transition) transitions.push(result.transition);
    });
    assert.deepEqual(transitions, [
      { kind: 'opened', incidentId: 'inc-1', at: 1 },
      { kind: 'resolved', incidentId: 'inc-1', at: 3 },
    ]);
    assert.equal(state.learntBreachOpenAfter, 0, 'a kill is no false alarm to learn from');
  });
});
