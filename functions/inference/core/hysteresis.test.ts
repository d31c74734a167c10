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
function run(evidence: string, level = 1): { transitions: IncidentTransition[]; state: IncidentState } {
  let state = INITIAL_INCIDENT_STATE;
  const transitions: IncidentTransition[] = [];
  [...evidence].forEach((code, at) => {
    const sample: Evidence = { forecastBreach: 'bB'.includes(code), classified: 'cB'.includes(code), level };
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

  it('supersedes an incident the classifier opened when the forecast then reaches the limit', () => {
    const { transitions, state } = run('ccccccbbbbb');
    assert.deepEqual(transitions, [
      { kind: 'opened', incidentId: 'inc-3', at: 3 },
      { kind: 'superseded', resolvedIncidentId: 'inc-3', incidentId: 'inc-7', at: 7 },
    ]);
    assert.equal(state.openedBy, 'forecast');
    assert.equal(state.incidentId, 'inc-7');
  });

  it('does not supersede an incident the forecast opened', () => {
    assert.deepEqual(
      run('bbccccbbbb').transitions.map((t) => t.kind),
      ['opened'],
    );
  });

  it('learns from an incident that closed far from the limit: the next needs longer evidence', () => {
    // a breach of 3 samples that came to nothing: the next one must last 3 * 3 + 1 = 10 samples
    const { transitions, state } = run(`bbb...${'b'.repeat(9)}...${'b'.repeat(10)}`, 0.8);
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
