import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PodInventory } from '../../shared/contracts/index.js';
import { INITIAL_INCIDENT_STATE } from './hysteresis.js';
import { observeGuard } from './limit-guard.js';
import { inherit, lineageDocumentOf, lineageKeyOf } from './lineage.js';
import { decodeSeriesState, encodeSeriesState, type SeriesState } from './series-state.js';

const pod = (name: string, owner: PodInventory['owner'] | undefined, namespace = 'shop'): PodInventory => ({
  namespace,
  pod: name,
  ...(owner ? { owner } : {}),
  labels: {},
  containers: [{ name: 'app', requests: {}, limits: { memoryBytes: 1024 }, restartCount: 0 }],
});
const web = { kind: 'Deployment', name: 'web' } as const;
const MEM = 'memory_working_set_bytes';

/** A predecessor that lived at 92 % of its limit for a while, and closed one quiet incident. */
function predecessorState(): Omit<SeriesState, 'version'> {
  let guard = null;
  for (let i = 0; i < 50; i++) guard = observeGuard(guard, 0.92, 1_000 + 30 * i, 1024, 1).state;
  return {
    lastScoredAt: 2_470,
    incident: { ...INITIAL_INCIDENT_STATE, learntOpenAfter: 31, quietPeak: 0.8, quietAt: 2_000 },
    surprise: { mean: 900, variance: 25, peak: 0, sincePeak: 3 },
    guard,
    unusual: null,
    outbox: [],
  };
}

describe('lineage', () => {
  it('is one per cluster, namespace, owner, container and metric', () => {
    const key = lineageKeyOf('prod', pod('web-7d9-abc', web), 'app', MEM);
    assert.equal(key, lineageKeyOf('prod', pod('web-5f1-xyz', web), 'app', MEM), 'a new ReplicaSet pod');
    const others = [
      lineageKeyOf('dev', pod('web-5f1-xyz', web), 'app', MEM),
      lineageKeyOf('prod', pod('web-5f1-xyz', web, 'staging'), 'app', MEM),
      lineageKeyOf('prod', pod('web-5f1-xyz', { kind: 'Deployment', name: 'api' }), 'app', MEM),
      lineageKeyOf('prod', pod('web-5f1-xyz', { kind: 'StatefulSet', name: 'web' }), 'app', MEM),
      lineageKeyOf('prod', pod('web-5f1-xyz', web), 'sidecar', MEM),
      lineageKeyOf('prod', pod('web-5f1-xyz', web), 'app', 'cpu_usage_cores'),
    ];
    for (const other of others) assert.notEqual(other, key);
    assert.equal(new Set(others).size, others.length);
  });

  it('is kept only for owners whose pods replace one another', () => {
    assert.equal(lineageKeyOf('prod', pod('lonely', undefined), 'app', MEM), null);
    assert.equal(lineageKeyOf('prod', pod('run-1', { kind: 'Job', name: 'run-1' }), 'app', MEM), null);
    assert.equal(lineageKeyOf('prod', pod('p', { kind: 'Pod', name: 'p' }), 'app', MEM), null);
    assert.equal(lineageKeyOf('prod', null, 'app', MEM), null);
    assert.notEqual(lineageKeyOf('prod', pod('db-0', { kind: 'StatefulSet', name: 'db' }), 'app', MEM), null);
  });

  it('hands the predecessor’s habituation, surprise and learnt bar to its successor, marked as inherited', () => {
    const before = predecessorState();
    const { inherited } = inherit(lineageDocumentOf(before, 'web-7d9-abc'));
    assert.ok(inherited);
    assert.deepEqual(inherited.guard, before.guard);
    assert.deepEqual(inherited.surprise, before.surprise);
    assert.equal(inherited.incident.learntOpenAfter, 31);
    assert.equal(inherited.incident.quietPeak, 0.8);
    assert.equal(inherited.incident.phase, 'normal');
    assert.deepEqual(inherited.inheritedFrom, { pod: 'web-7d9-abc', at: 2_470, partial: false });
    // and the mark survives the round trip through Redis' document
    const stored = encodeSeriesState({ lastScoredAt: -1, outbox: [], ...inherited });
    assert.deepEqual(decodeSeriesState(stored).inheritedFrom, inherited.inheritedFrom);
  });

  it('never inherits an open incident, nor what a predecessor whose last word was an alarm had learnt', () => {
    const before = predecessorState();
    before.incident = { ...before.incident, phase: 'open', incidentId: 'inc-1', openedAt: 2_400, streak: 0 };
    const { inherited } = inherit(lineageDocumentOf(before, 'web-7d9-abc'));
    assert.ok(inherited);
    assert.deepEqual(inherited.incident, INITIAL_INCIDENT_STATE, 'no open incident, no learnt bar');
    assert.equal(inherited.guard, null, 'no habituation');
    assert.deepEqual(inherited.surprise, before.surprise);
    assert.equal(inherited.inheritedFrom?.partial, true);
  });

  it('refuses what it cannot read whole', () => {
    const good = lineageDocumentOf(predecessorState(), 'web-7d9-abc');
    assert.equal(inherit(undefined).inherited, null);
    assert.equal(inherit('{not json').inherited, null);
    assert.equal(inherit(JSON.stringify({ ...JSON.parse(good), v: 2 })).inherited, null);
    const shortBins = JSON.parse(good);
    shortBins.guard.dwell = [1, 2, 3];
    assert.equal(inherit(JSON.stringify(shortBins)).inherited, null);
    assert.notEqual(inherit(good).inherited, null);
  });

  it('stays about the size of one series’ state', () => {
    const document = lineageDocumentOf(predecessorState(), 'web-7d9-abc');
    assert.ok(document.length < 1536, `${document.length} bytes`);
  });
});

describe('series state documents', () => {
  it('decode as written before quiet peaks, limit raises and lineages existed', () => {
    const old = {
      v: '7',
      t: '1800000000',
      s: JSON.stringify({
        incident: {
          phase: 'normal',
          streak: 0,
          anomalousStreak: 0,
          breachStreak: 0,
          guardStreak: 0,
          incidentId: null,
          openedAt: null,
          openedBy: null,
          peak: 0,
          longestAnomalous: 0,
          longestBreach: 0,
          learntOpenAfter: 10,
          learntBreachOpenAfter: 10,
        },
      }),
    };
    const state = decodeSeriesState(old);
    assert.equal(state.version, 7);
    assert.equal(state.inheritedFrom, undefined);
    assert.equal(state.guard, null);
    const document = JSON.parse(lineageDocumentOf(state, 'p'));
    assert.equal(document.learnt.quietPeak, 0, 'absent quiet peak: none');
    assert.equal(document.learnt.learntOpenAfter, 10);
  });
});
