import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api } from '@kubernetes/client-node';
import { SilentServer } from '../../../test/support/silent-server.js';
import { DependencyUnavailableError } from '../../shared/errors.js';
import { ConfigMapCheckpointStore } from './kube-checkpoint-store.js';
import { KubeLogSource } from './kube-log-source.js';

describe("the shipper's API server adapters against a server that never answers", () => {
  let silent: SilentServer;
  let core: CoreV1Api;
  before(async () => {
    silent = await SilentServer.start();
    core = silent.kubeConfig().makeApiClient(CoreV1Api);
  });
  after(() => silent.close());

  it('the checkpoint store gives up on load and save with a retryable error', async () => {
    const store = new ConfigMapCheckpointStore(core, 'kubepulse', 'shipper-checkpoint', 300);
    const timedOut = (error: unknown) =>
      error instanceof DependencyUnavailableError &&
      error.retryable &&
      /checkpoint failed: the API server did not answer within 300 ms/.test(error.message);
    const started = Date.now();
    await assert.rejects(store.load(), timedOut);
    await assert.rejects(store.save(1_790_000_000), timedOut);
    assert.ok(Date.now() - started < 5_000, 'bounded by the timeout, not by a socket timeout');
    assert.ok(silent.sockets.length > 0, 'the requests reached the silent server');
  });

  it('the log source gives up too, so a failure event is sent without its log rather than never', async () => {
    const logs = new KubeLogSource(core, 40, 300);
    await assert.rejects(
      logs.tail({
        namespace: 'shop',
        pod: 'cart-1',
        container: 'app',
        previous: true,
        reason: 'CrashLoopBackOff',
      }),
      /did not answer within 300 ms/,
    );
  });
});
