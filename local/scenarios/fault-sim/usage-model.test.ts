import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import { renderExposition } from './exporter.js';
import { parseScenario, ScenarioSyntaxError } from './scenario.js';
import { UsageModel } from './usage-model.js';

const MiB = 2 ** 20;

function pod(
  name: string,
  scenario: string,
  limits: Record<string, string>,
  restartCount = 0,
  rs = 'web-6b7c9d',
): V1Pod {
  return {
    metadata: {
      namespace: 'sim',
      name,
      uid: `uid-${name}`,
      labels: { 'pod-template-hash': '6b7c9d' },
      annotations: { 'kubepulse.io/sim-scenario': scenario },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rs, uid: 'rs', controller: true }],
    },
    spec: { nodeName: 'kwok-node-0', containers: [{ name: 'app', image: 'web:1', resources: { limits } }] },
    status: {
      phase: 'Running',
      containerStatuses: [{ name: 'app', image: 'web:1', imageID: '', ready: true, restartCount }],
    },
  };
}

describe('scenario annotations', () => {
  it('parses names and quantities', () => {
    assert.deepEqual(parseScenario('memory-leak;rate=2Mi;base=10Mi'), {
      kind: 'memory-leak',
      rateBytes: 2 * MiB,
      baseBytes: 10 * MiB,
      cpuCores: 0.05,
    });
    assert.deepEqual(parseScenario('cpu-saturation; load=1500m'), {
      kind: 'cpu-saturation',
      loadCores: 1.5,
      memoryBytes: 64 * MiB,
    });
  });
  it('refuses what it cannot follow', () => {
    assert.throws(() => parseScenario('explode'), ScenarioSyntaxError);
    assert.throws(() => parseScenario('steady;rate=1Mi'), ScenarioSyntaxError);
    assert.throws(() => parseScenario('memory-leak;rate'), ScenarioSyntaxError);
  });
});

describe('simulated usage', () => {
  it('leaks until the memory limit of the pod spec, asks for one OOM kill, and starts over after the restart', () => {
    const model = new UsageModel(10);
    const t0 = 1_000_000;
    const leaking = pod('web-1', 'memory-leak;rate=1Mi;base=10Mi', { memory: '64Mi' });
    assert.deepEqual(model.advance([leaking], t0), []);
    // 10 Mi + 1 Mi per simulated second at 10x: the limit is reached after 5.4 real seconds.
    assert.deepEqual(model.advance([leaking], t0 + 5000), []);
    assert.equal(model.series()[0]!.memoryWorkingSetBytes, 60 * MiB);
    const changes = model.advance([leaking], t0 + 6000);
    assert.deepEqual(
      changes.map((c) => [c.kind, c.container]),
      [['oom-killed', 'app']],
    );
    assert.equal(model.series()[0]!.memoryWorkingSetBytes, 64 * MiB);
    assert.deepEqual(
      model.advance([leaking], t0 + 7000),
      [],
      'asked once until the status shows the restart',
    );
    const restarted = pod('web-1', 'memory-leak;rate=1Mi;base=10Mi', { memory: '64Mi' }, 1);
    assert.deepEqual(model.advance([restarted], t0 + 7000), []);
    assert.equal(model.series()[0]!.memoryWorkingSetBytes, 10 * MiB);
    assert.equal(model.series()[0]!.restarts, 1);
  });

  it('reacts to a raised limit in a new pod: the same leak takes longer to be killed', () => {
    const model = new UsageModel(10);
    const t0 = 2_000_000;
    const bigger = pod('web-2', 'memory-leak;rate=1Mi;base=10Mi', { memory: '128Mi' });
    model.advance([bigger], t0);
    assert.deepEqual(model.advance([bigger], t0 + 6000), []);
    assert.equal(model.advance([bigger], t0 + 12_000).length, 1);
  });

  it('divides CPU load across running replicas, capped at the limit, and throttles what is above it', () => {
    const model = new UsageModel(1);
    const t0 = 3_000_000;
    const one = [pod('web-a', 'cpu-saturation;load=2', { cpu: '1' })];
    model.advance(one, t0);
    model.advance(one, t0 + 10_000);
    const alone = model.series()[0]!;
    assert.ok(Math.abs(alone.cpuUsageSecondsTotal - 10) < 0.01, 'one replica runs at its 1-core limit');
    assert.equal(alone.cfs?.periodsTotal, 100);
    assert.equal(alone.cfs?.throttledPeriodsTotal, 100);

    const four = ['web-a', 'web-b', 'web-c', 'web-d'].map((n) =>
      pod(n, 'cpu-saturation;load=2', { cpu: '1' }),
    );
    const model4 = new UsageModel(1);
    model4.advance(four, t0);
    model4.advance(four, t0 + 10_000);
    for (const series of model4.series()) {
      assert.ok(Math.abs(series.cpuUsageSecondsTotal - 5) < 0.3, 'each of four gets about half a core');
      assert.equal(series.cfs?.throttledPeriodsTotal, 0);
    }
  });

  it('crash-loops on its back-off, and never runs a container whose image does not pull', () => {
    const model = new UsageModel(1);
    const t0 = 4_000_000;
    const crashing = pod('web-c', 'crash-loop;backoff=10', {});
    assert.deepEqual(
      model.advance([crashing], t0).map((c) => c.kind),
      ['crashed'],
    );
    const waiting = pod('web-c', 'crash-loop;backoff=10', {}, 1);
    waiting.status!.containerStatuses![0]!.state = { waiting: { reason: 'CrashLoopBackOff' } };
    assert.deepEqual(model.advance([waiting], t0 + 1000), []);
    assert.deepEqual(
      model.advance([waiting], t0 + 11_500).map((c) => c.kind),
      ['crashed'],
    );
    const pulling = pod('web-i', 'image-pull', {});
    assert.deepEqual(
      model.advance([pulling], t0).map((c) => c.kind),
      ['image-pull-failed'],
    );
    assert.equal(model.series().find((s) => s.pod === 'web-i')?.running, false);
  });

  it('exposes cAdvisor and kube-state-metrics names with namespace, pod and container labels', () => {
    const model = new UsageModel(1);
    const steady = pod('web-s', 'steady;memory=100Mi', { memory: '200Mi', cpu: '500m' });
    model.advance([steady], 5_000_000);
    const text = renderExposition(model.series());
    for (const line of [
      /^container_memory_working_set_bytes\{namespace="sim",pod="web-s",container="app"\} \d+$/m,
      /^container_cpu_usage_seconds_total\{namespace="sim",pod="web-s",container="app"\} /m,
      /^container_cpu_cfs_periods_total\{namespace="sim",pod="web-s",container="app"\} /m,
      /^container_cpu_cfs_throttled_periods_total\{namespace="sim",pod="web-s",container="app"\} /m,
      /^kube_pod_container_resource_limits\{namespace="sim",pod="web-s",container="app",node="kwok-node-0",resource="memory",unit="byte"\} 209715200$/m,
      /^kube_pod_container_resource_limits\{.*resource="cpu",unit="core"\} 0.5$/m,
      /^kube_pod_container_status_restarts_total\{namespace="sim",pod="web-s",container="app"\} 0$/m,
      /^# TYPE container_cpu_usage_seconds_total counter$/m,
    ]) {
      assert.match(text, line);
    }
  });
});
