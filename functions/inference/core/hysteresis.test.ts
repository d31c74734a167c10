import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  INITIAL_INCIDENT_STATE,
  type IncidentState,
  type IncidentTransition,
  observe,
} from './hysteresis.js';

const policy = { openAfter: 2, closeAfter: 3 };

function run(verdicts: boolean[]): { transitions: IncidentTransition[]; state: IncidentState } {
  let state = INITIAL_INCIDENT_STATE;
  const transitions: IncidentTransition[] = [];
  verdicts.forEach((anomalous, at) => {
    const result = observe(state, anomalous, at, policy, (openedAt) => `inc-${openedAt}`);
    state = result.state;
    if (result.transition) transitions.push(result.transition);
  });
  return { transitions, state };
}

describe('incident hysteresis', () => {
  it('does not open on a single anomalous sample', () => {
    assert.deepEqual(run([false, true, false, true, false]).transitions, []);
  });

  it('opens once for a persisting anomaly, however long it lasts', () => {
    const { transitions, state } = run(Array.from({ length: 50 }, () => true));
    assert.deepEqual(transitions, [{ kind: 'opened', incidentId: 'inc-1', at: 1 }]);
    assert.equal(state.phase, 'open');
  });

  it('closes only after enough consecutive healthy samples, and a relapse resets the count', () => {
    const { transitions } = run([true, true, false, false, true, false, false, false]);
    assert.deepEqual(transitions, [
      { kind: 'opened', incidentId: 'inc-1', at: 1 },
      { kind: 'resolved', incidentId: 'inc-1', at: 7 },
    ]);
  });

  it('opens a new incident with a new id after one resolves', () => {
    const { transitions } = run([true, true, false, false, false, true, true]);
    assert.deepEqual(
      transitions.map((t) => `${t.kind}:${t.incidentId}`),
      ['opened:inc-1', 'resolved:inc-1', 'opened:inc-6'],
    );
  });
});
