import { createServer, type Socket } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

/**
 * A TCP server that accepts connections and never answers: the worst kind of outage (a hang rather than a
 * refusal), which no client-side connect timeout catches. For tests of request deadlines.
 */
export class SilentServer {
  readonly sockets: Socket[] = [];
  private readonly server = createServer((socket) => this.sockets.push(socket));

  static async start(): Promise<SilentServer> {
    const silent = new SilentServer();
    await new Promise<void>((done) => silent.server.listen(0, '127.0.0.1', done));
    return silent;
  }

  get url(): string {
    const { port } = this.server.address() as { port: number };
    return `http://127.0.0.1:${port}`;
  }

  /** A kubeconfig whose API server is this one. */
  kubeConfig(): KubeConfig {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromOptions({
      clusters: [{ name: 'silent', server: this.url, skipTLSVerify: true }],
      users: [{ name: 'u', token: 't' }],
      contexts: [{ name: 'c', cluster: 'silent', user: 'u' }],
      currentContext: 'c',
    });
    return kubeConfig;
  }

  close(): void {
    for (const socket of this.sockets) socket.destroy();
    this.server.close();
  }
}
