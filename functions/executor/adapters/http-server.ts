import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/** What /healthz reports on: a loop that still polls, or is busy with a plan (which may take minutes). */
export class LoopHealth {
  private lastPollAt = Date.now();
  /** Plans in progress: several run side by side. */
  private plansInProgress = 0;

  constructor(private readonly staleAfterMilliseconds: number) {}

  polled(): void {
    this.lastPollAt = Date.now();
  }

  busy(isBusy: boolean): void {
    this.plansInProgress = Math.max(0, this.plansInProgress + (isBusy ? 1 : -1));
    this.lastPollAt = Date.now();
  }

  healthy(): boolean {
    return this.plansInProgress > 0 || Date.now() - this.lastPollAt < this.staleAfterMilliseconds;
  }
}

/** `/metrics` for Prometheus and `/healthz` for the kubelet's probes; nothing else. */
export async function startHttpServer(
  port: number,
  registry: Registry,
  health: LoopHealth,
): Promise<{ server: Server; port: number }> {
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET') {
      response.writeHead(405).end();
    } else if (path === '/healthz') {
      const ok = health.healthy();
      response.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ok\n' : 'stalled\n');
    } else if (path === '/metrics') {
      registry.metrics().then(
        (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
        () => response.writeHead(500).end(),
      );
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return { server, port: (server.address() as AddressInfo).port };
}
