import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import type { FailureEventBatch, ShipperMessage } from '../../functions/shared/contracts/index.js';
import { createRegistry } from '../../functions/shared/metrics.js';
import { readShipperConfig } from '../../functions/shipper/config.js';
import { ClusterReporter } from '../../functions/shipper/core/cluster-reporter.js';
import { createShipperMetrics } from '../../functions/shipper/metrics.js';
import { RecordingLogger } from '../support/loggers.js';

/**
 * Issue 13 point 12 / issue 14: the logs of pods in namespaces nobody may act on never leave the cluster. The
 * shipper reads no log tail there (the failure event still says what happened); its default scope excludes the
 * control plane's namespaces and kubepulse's own, and an operator can narrow it to an allowlist.
 */
const SECRET_LOG = 'panic: dial tcp 10.0.0.7:5432: connect refused (customer=4711 basket=…)';

async function shipped(namespace: string, env: Record<string, string> = {}) {
  const config = readShipperConfig({
    CLUSTER_ID: 'prod-eu-1',
    SAMPLES_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/111122223333/kubepulse-samples-prod-eu-1',
    PROMETHEUS_URL: 'http://prometheus:9090',
    ...env,
  });
  const pod: V1Pod = {
    metadata: { namespace, name: 'app-7d9f8b6c5-x2x4z', uid: `uid-${namespace}` },
    spec: { containers: [{ name: 'app', image: 'app:1' }] },
    status: {
      phase: 'Running',
      containerStatuses: [
        {
          name: 'app',
          image: 'app:1',
          imageID: '',
          ready: false,
          restartCount: 5,
          state: {
            waiting: { reason: 'CrashLoopBackOff', message: 'back-off 5m0s restarting failed container' },
          },
        },
      ],
    },
  };
  const queued: ShipperMessage[] = [];
  let logReads = 0;
  const reporter = new ClusterReporter({
    clusterId: 'prod-eu-1',
    cache: {
      pods: () => [pod],
      nodes: () => [],
      replicaSetOwner: () => undefined,
      latestPodWarning: () => undefined,
    },
    outbox: { enqueue: (message: ShipperMessage) => void queued.push(message) },
    logs: {
      tail: async () => {
        logReads++;
        return SECRET_LOG;
      },
    },
    logTailScope: config.logTailScope,
    metrics: createShipperMetrics(createRegistry('shipper')),
    logger: new RecordingLogger(),
    now: () => new Date('2026-12-03T10:00:00Z'),
    podsPerSnapshot: 100,
    maxRememberedFailures: 100,
  });
  await reporter.podChanged(pod);
  const batch = queued.find((m) => m.kind === 'failure-events') as FailureEventBatch | undefined;
  assert.ok(batch, 'the failure itself is still reported');
  return { event: batch.events[0]!, logReads };
}

describe('red team: log tails stay in namespaces nobody acts on', () => {
  const refused: [string, string, Record<string, string>][] = [
    ['kube-system, by default', 'kube-system', {}],
    ['kube-public, by the kube-* glob', 'kube-public', {}],
    ["kubepulse's own namespace", 'kubepulse', {}],
    ['a namespace outside an operator allowlist', 'payments', { LOG_TAIL_NAMESPACES: 'shop,shop-*' }],
    [
      'an excluded namespace even when the allowlist says *',
      'vault',
      { LOG_TAIL_EXCLUDED_NAMESPACES: 'kube-*,kubepulse,vault' },
    ],
    [
      'an excluded glob beating an allowlisted name',
      'shop-secrets',
      { LOG_TAIL_NAMESPACES: 'shop-secrets', LOG_TAIL_EXCLUDED_NAMESPACES: 'shop-s*' },
    ],
  ];
  for (const [name, namespace, env] of refused) {
    it(`no log read, none shipped: ${name}`, async () => {
      const { event, logReads } = await shipped(namespace, env);
      assert.equal(logReads, 0, 'the log was not even read');
      assert.equal(event.logTail, undefined);
      assert.equal(JSON.stringify(event).includes('customer=4711'), false);
      assert.equal(event.reason, 'CrashLoopBackOff');
    });
  }

  it('an allowed namespace still gets its log tail (the scope is not a blanket off switch)', async () => {
    const { event, logReads } = await shipped('shop', { LOG_TAIL_NAMESPACES: 'shop,shop-*' });
    assert.equal(logReads, 1);
    assert.match(event.logTail ?? '', /connect refused/);
  });

  it('refuses a scope that is not namespace names or globs', () => {
    assert.throws(
      () =>
        readShipperConfig({
          CLUSTER_ID: 'prod-eu-1',
          SAMPLES_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/111122223333/q',
          PROMETHEUS_URL: 'http://prometheus:9090',
          LOG_TAIL_NAMESPACES: 'shop; rm -rf /',
        }),
      /LOG_TAIL_NAMESPACES/,
    );
  });
});
