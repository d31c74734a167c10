import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppsV1Api } from '@kubernetes/client-node';
import {
  CRASH_LOOP,
  DEMO_POLICY,
  deployFaults,
  MEMORY_LEAK,
  removeFaults,
} from '../../local/harness/stack/faults.js';
import { type LocalStack, startLocalStack } from '../../local/harness/stack/local-stack.js';
import { LoopObserver } from '../../local/harness/stack/loop-observer.js';
import { type FaultOutcome, summariseFault } from '../../local/harness/stack/timeline.js';

// The whole loop on the local stack: simulated pods → Prometheus → shipper → SQS → inference (packaged, in its
// sandbox) → planner (fake Gemini through the real client) → signed plan → executor (its own service account)
// → Kubernetes API → verification. Slow by nature (the models need a full window of samples): minutes.
const NAMESPACE = 'loop';
const FAULTS = [MEMORY_LEAK, CRASH_LOOP];

describe('closed loop on the local stack', { timeout: 15 * 60_000 }, () => {
  let stack: LocalStack;
  const observer = new LoopObserver();
  let outcomes: Map<string, FaultOutcome>;
  const logs: string[] = [];

  before(async () => {
    stack = await startLocalStack({
      clusterId: 'loop-test',
      namespaces: [NAMESPACE],
      speed: 1,
      stepSeconds: 2,
      policy: { ...DEMO_POLICY, namespaces: { allow: [NAMESPACE] } },
      onInvoke: observer.onInvoke,
      onLog: (source, line) => {
        logs.push(`[${source}] ${line}`);
        if (logs.length > 400) logs.shift();
      },
    });
    const deployedAt = await deployFaults(stack.kubeConfig, NAMESPACE, FAULTS);
    const summarise = () =>
      new Map(
        FAULTS.map((f) => [f.workload, summariseFault(f, NAMESPACE, deployedAt.get(f.workload)!, observer)]),
      );
    const deadline = Date.now() + 10 * 60_000;
    do {
      await sleep(1000);
      outcomes = summarise();
    } while (Date.now() < deadline && ![...outcomes.values()].every((o) => o.done));
    // Long enough for a second, unwanted plan or a late OOM kill to show up if the loop were wrong.
    await sleep(20_000);
    outcomes = summarise();
  });

  after(async () => {
    if (stack) await removeFaults(stack.kubeConfig, NAMESPACE, FAULTS).finally(() => stack?.stop());
  });

  const explain = (o: FaultOutcome | undefined) =>
    `${JSON.stringify(
      {
        outcome: o?.outcome,
        anomalies: o?.anomalies.map((a) => `${a.source}:${a.status}`),
        results: o?.results.map((r) => r.status),
        alerts: o?.alerts.map((a) => a.title),
      },
      null,
      1,
    )}\n${logs.slice(-60).join('\n')}`;

  it('predicts the leak before the OOM kill, applies exactly one plan, and the workload recovers', async () => {
    const leak = outcomes.get(MEMORY_LEAK.workload);
    assert.ok(leak?.detectedAt, `not detected: ${explain(leak)}`);
    assert.ok((leak.leadTimeSeconds ?? 0) > 0, `lead time ${leak.leadTimeSeconds}: ${explain(leak)}`);
    assert.equal(leak.plansApplied, 1, explain(leak));
    assert.ok(leak.recovered, explain(leak));
    assert.equal(leak.failures.length, 0, `an OOM kill happened: ${explain(leak)}`);
    // The cluster itself says so: the Deployment runs with the raised limit, all replicas ready.
    const deployment = await stack.kubeConfig
      .makeApiClient(AppsV1Api)
      .readNamespacedDeployment({ name: MEMORY_LEAK.workload, namespace: NAMESPACE });
    const limit = deployment.spec?.template.spec?.containers[0]?.resources?.limits?.memory;
    assert.notEqual(limit, MEMORY_LEAK.limits.memory, 'the memory limit was raised');
    assert.equal(deployment.status?.readyReplicas, deployment.spec?.replicas);
    assert.match(
      deployment.metadata?.annotations?.['kubepulse.io/last-remediation'] ?? '',
      /.+/,
      'the executor left its audit annotation',
    );
  });

  it('escalates the crash loop to a human and takes no action', () => {
    const crash = outcomes.get(CRASH_LOOP.workload);
    assert.ok(crash?.escalated, `no escalation: ${explain(crash)}`);
    assert.equal(crash.plansApplied, 0, explain(crash));
    assert.ok(stack.receivers.slack.accepted().length > 0, 'Slack got the escalation');
    assert.ok(stack.receivers.pagerDuty.accepted().length > 0, 'PagerDuty got the escalation');
  });
});
