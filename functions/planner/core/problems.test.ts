import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventAnomaly, podInventory, usageAnomaly } from '../../../test/support/planner-fixtures.js';
import { DEFAULT_POLICY } from '../../shared/actions/index.js';
import type { Anomaly } from '../../shared/contracts/index.js';
import { createRedactor } from '../../shared/redaction/redact.js';
import { buildContext } from './context.js';
import { incidentKeyOf, PROBLEM_CLASSES } from './correlate.js';
import { factsFromIncident } from './facts.js';
import { PROBLEMS, runbookProposal } from './problems.js';

const redactor = createRedactor();

function runbookFor(anomaly: Anomaly, replicas?: number) {
  const key = incidentKeyOf(anomaly);
  const { context } = buildContext({ key, anomalies: [anomaly] }, redactor);
  const facts = factsFromIncident(key, [anomaly], { schedulableNodes: 6, replicas });
  return { problem: key.problem, ...runbookProposal({ key, context, facts, policy: DEFAULT_POLICY }) };
}

describe('the problems table', () => {
  it('gives a problem only a human may fix no action', () => {
    for (const problem of PROBLEM_CLASSES) {
      if (PROBLEMS[problem].humanOnly) assert.deepEqual(PROBLEMS[problem].actions, [], problem);
    }
  });

  it("lets a runbook propose only the actions its problem allows (the LLM's plans are held to the same)", () => {
    const cpu = usageAnomaly({
      signal: 'cpu',
      metric: 'cpu_usage_cores',
      normalisation: { basis: 'limit', denominator: 1 },
    });
    const leaking = usageAnomaly({ window: { ...usageAnomaly().window, slopePerMinute: 0.01 } });
    const crashing = podInventory();
    crashing.containers[0]!.state = { state: 'waiting', reason: 'CrashLoopBackOff', exitCode: 1 };
    const runs = [
      runbookFor(eventAnomaly('OOMKilled')),
      runbookFor(leaking),
      runbookFor(cpu, 4),
      runbookFor(eventAnomaly('Evicted', { message: 'The node was low on resource: memory.' })),
      runbookFor(eventAnomaly('CrashLoopBackOff', {}, { inventory: crashing })),
      runbookFor(eventAnomaly('ImagePullBackOff')),
    ];
    assert.deepEqual(runs.map((r) => r.problem).sort(), [
      'cpu-saturation',
      'crash-loop',
      'image-pull',
      'memory-exhaustion',
      'memory-exhaustion',
      'node-pressure',
    ]);
    for (const { problem, runbook, proposal } of runs) {
      for (const action of proposal.actions) {
        assert.ok(PROBLEMS[problem].actions.includes(action.action), `${runbook} proposes ${action.action}`);
      }
    }
    const proposed = new Set(runs.flatMap((r) => r.proposal.actions.map((a) => a.action)));
    assert.deepEqual([...proposed].sort(), ['cordon', 'rollout-restart', 'scale', 'set-resources']);
  });
});
