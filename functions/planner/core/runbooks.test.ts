import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventAnomaly, MIB, podInventory, usageAnomaly } from '../../../test/support/planner-fixtures.js';
import { DEFAULT_POLICY, evaluatePlan, parsePolicy } from '../../shared/actions/index.js';
import type { Anomaly } from '../../shared/contracts/index.js';
import { createRedactor } from '../../shared/redaction/redact.js';
import { buildContext } from './context.js';
import { incidentKeyOf } from './correlate.js';
import { factsFromIncident, type KnownFacts } from './facts.js';
import { runbookProposal } from './problems.js';
import { summariseLog } from './runbooks.js';

const redactor = createRedactor();

function plan(anomalies: Anomaly[], known: KnownFacts = {}, policy = DEFAULT_POLICY) {
  const key = incidentKeyOf(anomalies[0]!);
  const { context } = buildContext({ key, anomalies }, redactor);
  const facts = factsFromIncident(key, anomalies, known);
  return { ...runbookProposal({ key, context, facts, policy }), facts };
}

const flat = (anomaly = usageAnomaly()) => usageAnomaly({ window: { ...anomaly.window, slopePerMinute: 0 } });

describe('runbooks', () => {
  it('sends unusual behaviour to a human: a warning escalates, information is watched, nothing acts', () => {
    const unusual = (severity: 'info' | 'warning') =>
      usageAnomaly({ reasons: [], problem: 'unusual-behaviour', unusual: { severity, score: 0.91 } });
    const warning = plan([unusual('warning')]);
    assert.equal(warning.runbook, 'unusual-escalate');
    assert.equal(warning.proposal.decision, 'escalate');
    assert.match(warning.proposal.diagnosis, /unlike its own history.*score 0\.91/);
    const info = plan([unusual('info')]);
    assert.equal(info.proposal.decision, 'observe');
    assert.deepEqual([...warning.proposal.actions, ...info.proposal.actions], []);
  });

  it('raises the memory limit by 1.5× after an OOM kill', () => {
    const { runbook, proposal, facts } = plan([eventAnomaly('OOMKilled')]);
    assert.equal(runbook, 'oom-raise-limit');
    assert.equal(proposal.decision, 'act');
    assert.deepEqual(proposal.actions, [
      {
        action: 'set-resources',
        namespace: 'shop',
        kind: 'Deployment',
        name: 'checkout',
        container: 'app',
        limits: { memoryBytes: 768 * MIB },
      },
    ]);
    assert.match(proposal.diagnosis, /OOMKilled/);
    assert.equal(evaluatePlan(proposal, facts, DEFAULT_POLICY).verdict, 'needs-approval');
  });

  it('adds a rollout restart when memory grows steadily, and stays within policy', () => {
    const { proposal, facts } = plan([usageAnomaly()]);
    assert.deepEqual(
      proposal.actions.map((a) => a.action),
      ['set-resources', 'rollout-restart'],
    );
    assert.match(proposal.diagnosis, /leak/);
    const open = parsePolicy({ modes: { medium: 'auto' }, confidenceThreshold: 0.5 });
    assert.equal(evaluatePlan(proposal, facts, open).verdict, 'auto');
  });

  it('only raises for a flat forecast breach, and respects a tighter policy bound', () => {
    const tight = parsePolicy({ bounds: { 'set-resources': { maxIncreaseFactor: 1.2 } } });
    const { proposal, facts } = plan([flat()], {}, tight);
    assert.equal(proposal.actions.length, 1);
    const action = proposal.actions[0]!;
    assert.ok(action.action === 'set-resources' && action.limits.memoryBytes === 512 * MIB * 1.2);
    assert.notEqual(
      evaluatePlan(proposal, facts, parsePolicy({ ...tight, modes: { medium: 'auto' } })).verdict,
      'refused',
    );
  });

  it('escalates when the memory limit is unknown or already at the cap', () => {
    const noLimit = podInventory();
    noLimit.containers[0]!.limits = {};
    assert.equal(plan([eventAnomaly('OOMKilled', {}, { inventory: noLimit })]).proposal.decision, 'escalate');
    const capped = parsePolicy({ bounds: { 'set-resources': { maxMemoryBytes: 512 * MIB } } });
    const { proposal } = plan([eventAnomaly('OOMKilled')], {}, capped);
    assert.equal(proposal.decision, 'escalate');
    assert.match(proposal.diagnosis, /at the cap/);
  });

  it('escalates a classifier-only memory anomaly', () => {
    const { proposal } = plan([
      usageAnomaly({ reasons: ['classifier'], predictedSecondsToLimit: null, predictedLimitAt: null }),
    ]);
    assert.equal(proposal.decision, 'escalate');
  });

  it('scales out on CPU saturation within bounds, and escalates without a replica count', () => {
    const cpu = usageAnomaly({
      signal: 'cpu',
      metric: 'cpu_usage_cores',
      normalisation: { basis: 'limit', denominator: 1 },
    });
    const { proposal, facts } = plan([cpu], { replicas: 4 });
    assert.deepEqual(proposal.actions, [
      { action: 'scale', namespace: 'shop', kind: 'Deployment', name: 'checkout', replicas: 6 },
    ]);
    assert.equal(evaluatePlan(proposal, facts, DEFAULT_POLICY).verdict, 'auto');
    assert.deepEqual(
      plan([cpu], { replicas: 1 }).proposal.actions.map((a) => a.action === 'scale' && a.replicas),
      [2],
    );
    assert.deepEqual(
      plan([cpu], { replicas: 19 }).proposal.actions.map((a) => a.action === 'scale' && a.replicas),
      [20],
    );
    assert.equal(plan([cpu], { replicas: 20 }).proposal.decision, 'escalate');
    const unknown = plan([cpu]);
    assert.equal(unknown.proposal.decision, 'escalate');
    assert.match(unknown.proposal.diagnosis, /replica count is unknown/);
  });

  it('never acts on a crash loop: it escalates with termination, exit code and log lines', () => {
    const inventory = podInventory();
    inventory.containers[0] = {
      ...inventory.containers[0]!,
      restartCount: 7,
      state: { state: 'waiting', reason: 'CrashLoopBackOff', exitCode: 1, lastTerminationReason: 'Error' },
    };
    const logTail =
      'INFO boot\nERROR could not connect to postgres://app:hunter2@db:5432/x: connection refused\nINFO exiting';
    const { proposal } = plan([
      eventAnomaly(
        'CrashLoopBackOff',
        { logTail, message: 'Back-off restarting failed container' },
        { inventory },
      ),
    ]);
    assert.equal(proposal.decision, 'escalate');
    assert.deepEqual(proposal.actions, []);
    assert.match(proposal.diagnosis, /last terminated: Error, exit code 1 \(application error\), 7 restarts/);
    assert.match(proposal.diagnosis, /connection refused/);
    assert.equal(proposal.diagnosis.includes('hunter2'), false);
  });

  it('escalates image pull failures with the image, and cordons a node under pressure', () => {
    const pull = plan([eventAnomaly('ImagePullBackOff', { message: 'manifest unknown' })]).proposal;
    assert.equal(pull.decision, 'escalate');
    assert.match(pull.diagnosis, /registry\.example\.com\/shop\/checkout:1\.4\.2/);
    const pressure = plan([eventAnomaly('Evicted', { message: 'The node was low on resource: memory.' })], {
      schedulableNodes: 6,
    });
    assert.deepEqual(pressure.proposal.actions, [{ action: 'cordon', node: 'node-a' }]);
    assert.equal(evaluatePlan(pressure.proposal, pressure.facts, DEFAULT_POLICY).verdict, 'needs-approval');
  });

  it('escalates what no runbook covers', () => {
    for (const reason of ['Pending', 'Evicted'] as const) {
      assert.equal(plan([eventAnomaly(reason, { message: 'something' })]).proposal.decision, 'escalate');
    }
  });

  it('summarises a log by its last error lines', () => {
    assert.equal(summariseLog('a\nERROR one\nb\nFATAL two\nc'), 'ERROR one | FATAL two');
    assert.equal(summariseLog('a\nb\nc\nd'), 'b | c | d');
  });
});
