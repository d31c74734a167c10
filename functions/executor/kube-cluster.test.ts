import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { DependencyUnavailableError } from '../shared/errors.js';
import { kubeCluster } from './kube-cluster.js';

describe('kubeCluster against an API server that never answers', () => {
  // Accepts connections and then says nothing: the worst kind of outage, a hang rather than a refusal.
  const sockets: Socket[] = [];
  const server = createServer((socket) => sockets.push(socket));
  after(() => {
    for (const socket of sockets) socket.destroy();
    server.close();
  });

  it('gives up after the request timeout with a retryable error instead of hanging', async () => {
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const { port } = server.address() as { port: number };
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromOptions({
      clusters: [{ name: 'silent', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
      users: [{ name: 'u', token: 't' }],
      contexts: [{ name: 'c', cluster: 'silent', user: 'u' }],
      currentContext: 'c',
    });
    const cluster = kubeCluster(kubeConfig, { requestTimeoutMs: 300 });
    await assert.rejects(
      cluster.read({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'shop', name: 'cart' }),
      (error: unknown) =>
        error instanceof DependencyUnavailableError &&
        error.retryable &&
        /read Deployment shop\/cart: the API server did not answer within 300 ms/.test(error.message),
    );
    assert.ok(sockets.length > 0, 'the request reached the silent server');
  });
});
