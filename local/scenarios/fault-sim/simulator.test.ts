import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { AppsV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { eventually } from '../../../test/support/shipper-fixtures.js';
import { ensureControlPlane } from '../../harness/support/control-plane.js';
import { FaultSimulator } from './simulator.js';
import { runningPodOf as podOf, simulatedDeployment } from './workloads.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The simulator against the real control plane: kwok makes the pods Running, the simulator plays the kubelet.
 * kwok's pod-ready stage only selects Pending pods that are not Ready, so status written to a Running pod must
 * stay as written: checked here a few seconds after each write.
 */
describe('the fault simulator on the local control plane', () => {
  const namespace = `fault-sim-${randomBytes(3).toString('hex')}`;
  let kubeConfig: KubeConfig;
  let core: CoreV1Api;
  let simulator: FaultSimulator;
  let apps: AppsV1Api;

  before(async () => {
    ({ kubeConfig } = await ensureControlPlane());
    core = kubeConfig.makeApiClient(CoreV1Api);
    apps = kubeConfig.makeApiClient(AppsV1Api);
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    for (const deployment of [
      simulatedDeployment('leaky', 'memory-leak;rate=4Mi;base=8Mi', { memory: '32Mi', cpu: '250m' }),
      simulatedDeployment('crashing', 'crash-loop;backoff=10', { memory: '32Mi' }),
      simulatedDeployment('pulling', 'image-pull', { memory: '32Mi' }),
      simulatedDeployment('raised', 'memory-leak;rate=4Mi;base=8Mi', { memory: '32Mi' }),
    ]) {
      await apps.createNamespacedDeployment({ namespace, body: deployment });
    }
    for (const app of ['leaky', 'crashing', 'pulling', 'raised']) {
      await eventually(() => podOf(core, namespace, app), 60_000, `${app} to run`);
    }
    simulator = await FaultSimulator.start({
      kubeConfig,
      speed: 5,
      tickMs: 250,
      namespaces: [namespace],
      exporter: { port: 0 },
      log: () => {},
    });
  });
  after(async () => {
    await simulator?.stop();
    await core?.deleteNamespace({ name: namespace }).catch(() => {});
  });

  it('OOM-kills the leaking container at its limit as the kubelet would, and the status stays written', async () => {
    const killed = await eventually(
      async () => {
        const pod = await podOf(core, namespace, 'leaky');
        const status = pod?.status?.containerStatuses?.[0];
        return status?.lastState?.terminated?.reason === 'OOMKilled' ? pod : undefined;
      },
      30_000,
      'an OOM kill',
    );
    simulator.setScenario(
      { namespace, workload: 'leaky' },
      { kind: 'steady', memoryBytes: 8 << 20, cpuCores: 0.1 },
    );
    const status = killed.status!.containerStatuses![0]!;
    assert.equal(status.lastState?.terminated?.exitCode, 137);
    assert.ok(status.state?.running, 'running again after the restart');
    await sleep(3000);
    const later = (await core.readNamespacedPod({ namespace, name: killed.metadata!.name! })).status!;
    assert.equal(later.phase, 'Running');
    assert.equal(later.containerStatuses![0]!.restartCount, status.restartCount);
    assert.equal(later.containerStatuses![0]!.lastState?.terminated?.reason, 'OOMKilled');
    const events = await core.listNamespacedEvent({
      namespace,
      fieldSelector: `involvedObject.name=${killed.metadata!.name},reason=OOMKilling`,
    });
    assert.ok(events.items.length >= 1);
  });

  it('keeps a crash-looping container in CrashLoopBackOff with its restarts counted', async () => {
    const pod = await eventually(
      async () => {
        const p = await podOf(core, namespace, 'crashing');
        return p?.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'CrashLoopBackOff'
          ? p
          : undefined;
      },
      30_000,
      'CrashLoopBackOff',
    );
    await sleep(3000);
    const later = (await core.readNamespacedPod({ namespace, name: pod.metadata!.name! })).status!;
    const status = later.containerStatuses![0]!;
    assert.equal(status.state?.waiting?.reason, 'CrashLoopBackOff');
    assert.ok(status.restartCount >= 1);
    assert.equal(status.lastState?.terminated?.reason, 'Error');
    assert.equal(later.conditions?.find((c) => c.type === 'Ready')?.status, 'False');
  });

  it('keeps a container whose image does not pull waiting in ImagePullBackOff', async () => {
    const pod = await eventually(
      async () => {
        const p = await podOf(core, namespace, 'pulling');
        return p?.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ImagePullBackOff'
          ? p
          : undefined;
      },
      30_000,
      'ImagePullBackOff',
    );
    await sleep(3000);
    const later = (await core.readNamespacedPod({ namespace, name: pod.metadata!.name! })).status!;
    assert.equal(later.containerStatuses![0]!.state?.waiting?.reason, 'ImagePullBackOff');
    assert.equal(later.containerStatuses![0]!.restartCount, 0);
  });

  it('follows a rollout that raises the memory limit: the new pod leaks towards the new limit', async () => {
    const before = await eventually(
      async () => {
        const p = await podOf(core, namespace, 'raised');
        return (p?.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1 ? p : undefined;
      },
      30_000,
      'an OOM kill at the old limit',
    );
    const deployment = await apps.readNamespacedDeployment({ namespace, name: 'raised' });
    deployment.spec!.template.spec!.containers[0]!.resources = {
      limits: { memory: '1Gi' },
      requests: { memory: '1Gi' },
    };
    await apps.replaceNamespacedDeployment({ namespace, name: 'raised', body: deployment });
    const after = await eventually(
      async () => {
        const p = await podOf(core, namespace, 'raised');
        return p && p.metadata?.uid !== before.metadata?.uid ? p : undefined;
      },
      60_000,
      'the rolled-out pod',
    );
    // At the old limit it would be killed about every 1.2 s; reaching 1 Gi takes about 50 s.
    await sleep(4000);
    const later = await core.readNamespacedPod({ namespace, name: after.metadata!.name! });
    assert.equal(later.status!.containerStatuses![0]!.restartCount, 0);
    const text = await (await fetch(`${simulator.exporter.url}/metrics`)).text();
    assert.match(
      text,
      new RegExp(
        `kube_pod_container_resource_limits\\{namespace="${namespace}",pod="${after.metadata!.name}",[^}]*resource="memory"[^}]*\\} 1073741824`,
      ),
    );
  });

  it('serves the simulated usage of the running pods', async () => {
    const text = await (await fetch(`${simulator.exporter.url}/metrics`)).text();
    assert.match(
      text,
      new RegExp(`container_memory_working_set_bytes\\{namespace="${namespace}",pod="leaky-`),
    );
    assert.match(
      text,
      new RegExp(`kube_pod_container_status_restarts_total\\{namespace="${namespace}",pod="crashing-`),
    );
    assert.doesNotMatch(text, /container_memory_working_set_bytes\{[^}]*pod="pulling-/);
  });
});
