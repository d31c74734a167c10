import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { createRegistry } from '../../shared/metrics.js';
import { createExecutorMetrics } from '../metrics.js';
import { LoopHealth, startHttpServer } from './http-server.js';

describe('executor /healthz and /metrics', () => {
  const health = new LoopHealth(400);
  let server: Server;
  let base: string;

  before(async () => {
    const registry = createRegistry('executor');
    createExecutorMetrics(registry).plans.inc({ outcome: 'verified' });
    const started = await startHttpServer(0, registry, health);
    server = started.server;
    base = `http://127.0.0.1:${started.port}`;
  });
  after(() => server.close());

  it('serves the metrics in Prometheus text format', async () => {
    const response = await fetch(`${base}/metrics`);
    assert.equal(response.status, 200);
    assert.match(
      await response.text(),
      /kubepulse_executor_plans_total\{outcome="verified",function="executor"\} 1/,
    );
  });

  it('is healthy while the loop polls or works on a plan, and not once it stalls', async () => {
    health.polled();
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    health.busy(true);
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal((await fetch(`${base}/healthz`)).status, 200, 'a long plan is not a stall');
    health.busy(false);
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal((await fetch(`${base}/healthz`)).status, 503);
  });

  it('stays healthy while any of the plans side by side is still in progress', async () => {
    health.busy(true);
    health.busy(true);
    health.busy(false);
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal((await fetch(`${base}/healthz`)).status, 200, 'one plan still running');
    health.busy(false);
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal((await fetch(`${base}/healthz`)).status, 503);
  });

  it('answers nothing else', async () => {
    assert.equal((await fetch(`${base}/debug`)).status, 404);
    assert.equal((await fetch(`${base}/healthz`, { method: 'POST' })).status, 405);
  });
});
