import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What a receiver answers: status, body and headers. */
export interface Reply {
  status: number;
  body: string;
  headers?: Record<string, string>;
}

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  rawBody: string;
  /** The status it was answered with (an injected failure included). */
  status: number;
  /** What the receiver found wrong with it; empty when it was accepted or failed on purpose. */
  problems: string[];
}

export interface InjectedFailure {
  status: number;
  retryAfterSeconds?: number;
  body?: string;
}

export interface Receiver {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** Every request in arrival order. */
  readonly received: readonly ReceivedRequest[];
  /** The requests answered with a 2xx. */
  accepted(): ReceivedRequest[];
  /** Answers the next `count` requests with `failure` instead of handling them. */
  failNext(count: number, failure: InjectedFailure): void;
  /** Forgets what was received and any pending failures. */
  reset(): void;
  close(): Promise<void>;
}

/** How a receiver judges one request, as the real service would. */
export type Judge = (request: {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  rawBody: string;
}) => {
  reply: Reply;
  problems: string[];
};

const MAX_BODY_BYTES = 1024 * 1024;

/**
 * A recording HTTP server on a free loopback port (or `port`), answering with `judge`, whose next requests can be
 * made to fail with a chosen status (`failureBody` renders it in the service's own error format).
 */
export async function startReceiver(
  judge: Judge,
  failureBody: (status: number) => string,
  options: { port?: number; host?: string } = {},
): Promise<Receiver> {
  const received: ReceivedRequest[] = [];
  const failures: InjectedFailure[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => {
      const request = {
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        headers: req.headers,
        rawBody: Buffer.concat(chunks).toString('utf8'),
      };
      const injected = failures.shift();
      const { reply, problems } =
        size > MAX_BODY_BYTES
          ? { reply: { status: 413, body: 'payload too large' }, problems: ['body too large'] }
          : injected
            ? {
                reply: {
                  status: injected.status,
                  body: injected.body ?? failureBody(injected.status),
                  headers:
                    injected.retryAfterSeconds === undefined
                      ? {}
                      : { 'retry-after': String(injected.retryAfterSeconds) },
                },
                problems: [],
              }
            : judge(request);
      received.push({ ...request, status: reply.status, problems });
      res.writeHead(reply.status, { 'content-type': contentType(reply.body), ...reply.headers });
      res.end(reply.body);
    });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    received,
    accepted: () => received.filter((r) => r.status >= 200 && r.status < 300),
    failNext(count, failure) {
      for (let i = 0; i < count; i++) failures.push(failure);
    },
    reset() {
      received.length = 0;
      failures.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

const contentType = (body: string) =>
  body.startsWith('{') ? 'application/json' : 'text/plain; charset=utf-8';

/** Parses a JSON object body; undefined when it is not one. */
export function parseJsonObject(rawBody: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(rawBody);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
