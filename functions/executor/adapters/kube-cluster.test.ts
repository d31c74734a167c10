import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SilentServer } from '../../../test/support/silent-server.js';
import { DependencyUnavailableError } from '../../shared/errors.js';
import { kubeCluster } from './kube-cluster.js';

describe('kubeCluster against an API server that never answers', () => {
  let silent: SilentServer;
  before(async () => {
    silent = await SilentServer.start();
  });
  after(() => silent.close());

  it('gives up after the request timeout with a retryable error instead of hanging', async () => {
    const cluster = kubeCluster(silent.kubeConfig(), { requestTimeoutMs: 300 });
    await assert.rejects(
      cluster.read({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'shop', name: 'cart' }),
      (error: unknown) =>
        error instanceof DependencyUnavailableError &&
        error.retryable &&
        /read Deployment shop\/cart: the API server did not answer within 300 ms/.test(error.message),
    );
    assert.ok(silent.sockets.length > 0, 'the request reached the silent server');
  });
});
