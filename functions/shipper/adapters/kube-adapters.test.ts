import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { DependencyUnavailableError } from '../../shared/errors.js';
import { ConfigMapCheckpointStore } from './kube-checkpoint-store.js';
import { KubeLogSource } from './kube-log-source.js';

describe("the shipper's API server adapters against a server that never answers", () => {
  // Accepts connections and then says nothing: a hang rather than a refusal, which no client timeout catches.
  const sockets: Socket[] = [];
  const server = createServer((socket) => sockets.push(socket));
  let core: CoreV1Api;
  before(async () => {
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const { port } = server.address() as { port: number };
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromOptions({
      clusters: [{ name: 'silent', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
      users: [{ name: 'u', token: 't' }],
      contexts: [{ name: 'c', cluster: 'silent', user: 'u' }],
      currentContext: 'c',
    });
    core = kubeConfig.makeApiClient(CoreV1Api);
  });
  after(() => {
    for (const socket of sockets) socket.destroy();
    server.close();
  });

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
    assert.ok(sockets.length > 0, 'the requests reached the silent server');
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
