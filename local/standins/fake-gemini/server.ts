import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { extractIncidentData } from './incident-data.js';
import { deriveProposal, injectedProposal, SCHEMA_VIOLATING_ANSWER, type ScriptedReply } from './replies.js';
import { responseSchemaProblem } from './schema-check.js';

/**
 * A stand-in for the Gemini REST API (`POST /v1beta/models/{model}:generateContent`) on a loopback port,
 * speaking its real request, response and error JSON so the real @google/generative-ai client can be tested
 * against it. It records every request, answers from a per-test script queue or a default mode, and can
 * inject the faults the planner must survive.
 */
export interface FakeGeminiOptions {
  port?: number;
  /** When set, any other key is refused as invalid; otherwise any non-empty key is accepted. */
  apiKey?: string;
  defaultReply?: ScriptedReply;
  /** Added before every answer. */
  latencyMs?: number;
}

export interface RecordedRequest {
  model: string;
  method: string;
  /** The system instruction and every content part's text, in order: what the model would read. */
  promptText: string;
  body: unknown;
  /** The reply kind served, or `refused` when the request itself was rejected. */
  served: ScriptedReply['kind'] | 'refused';
  /** The usageMetadata the reply carried, when it carried one. */
  usage?: UsageMetadataJson;
}

interface UsageMetadataJson {
  promptTokenCount: number;
  candidatesTokenCount: number;
  totalTokenCount: number;
}

export interface FakeGemini {
  readonly url: string;
  readonly requests: readonly RecordedRequest[];
  /** Queues replies for the next requests, in order; the default answers once the queue is empty. */
  script(...replies: ScriptedReply[]): void;
  setDefault(reply: ScriptedReply): void;
  setLatency(ms: number): void;
  /** Forgets recorded requests and queued replies. */
  reset(): void;
  close(): Promise<void>;
}

const ROUTE = /^\/(v1beta|v1)\/models\/([^/:]+):(generateContent)$/;

export async function startFakeGemini(options: FakeGeminiOptions = {}): Promise<FakeGemini> {
  const requests: RecordedRequest[] = [];
  const queue: ScriptedReply[] = [];
  let defaultReply: ScriptedReply = options.defaultReply ?? { kind: 'derived' };
  let latencyMs = options.latencyMs ?? 0;

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) sendError(response, 500, 'INTERNAL', `fake gemini: ${String(error)}`);
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://fake-gemini');
    const route = ROUTE.exec(url.pathname);
    if (!route || request.method !== 'POST') {
      return sendError(response, 404, 'NOT_FOUND', `Requested entity was not found: ${url.pathname}`);
    }
    const [, , model = '', method = ''] = route;
    const text = await readBody(request);
    const body = parseJson(text);
    const record: RecordedRequest = {
      model,
      method,
      promptText: promptTextOf(body),
      body,
      served: 'refused',
    };
    requests.push(record);

    const key = request.headers['x-goog-api-key'] ?? url.searchParams.get('key');
    if (!key) {
      return sendError(
        response,
        403,
        'PERMISSION_DENIED',
        "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
      );
    }
    if (options.apiKey !== undefined && key !== options.apiKey) {
      return sendError(response, 400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.', [
        {
          '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
          reason: 'API_KEY_INVALID',
          domain: 'googleapis.com',
        },
      ]);
    }
    if (body === undefined) {
      return sendError(response, 400, 'INVALID_ARGUMENT', 'Invalid JSON payload received.');
    }
    const problem = requestProblem(body);
    if (problem) return sendError(response, 400, 'INVALID_ARGUMENT', problem);

    const reply = queue.shift() ?? defaultReply;
    record.served = reply.kind;
    const delay = (reply.latencyMs ?? 0) + latencyMs;
    if (delay > 0) await sleep(delay);
    if (reply.kind === 'hang' || response.destroyed) return;
    serveReply(response, reply, record);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    script: (...replies) => void queue.push(...replies),
    setDefault: (reply) => {
      defaultReply = reply;
    },
    setLatency: (ms) => {
      latencyMs = ms;
    },
    reset: () => {
      requests.length = 0;
      queue.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function serveReply(response: ServerResponse, reply: ScriptedReply, record: RecordedRequest): void {
  if (reply.kind === 'hang') return;
  if (reply.kind === 'error') {
    sendApiError(response, reply.status, reply.retryDelaySeconds);
  } else if (reply.kind === 'http-garbage') {
    response.writeHead(200, { 'content-type': 'text/html' });
    response.end('<html><body>502 Bad Gateway</body></html>');
  } else if (reply.kind === 'blocked') {
    record.usage = usage(record.promptText, '');
    sendJson(response, 200, {
      candidates: [{ finishReason: 'SAFETY', index: 0, safetyRatings: [] }],
      usageMetadata: record.usage,
      modelVersion: record.model,
    });
  } else if (reply.kind === 'text') {
    sendAnswer(response, record, reply.text, reply.finishReason);
  } else {
    sendAnswer(response, record, JSON.stringify(answerOf(reply, record.promptText)));
  }
}

function answerOf(
  reply: Extract<ScriptedReply, { kind: 'proposal' | 'schema-violation' | 'injection' | 'derived' }>,
  promptText: string,
): unknown {
  switch (reply.kind) {
    case 'proposal':
      return reply.proposal;
    case 'schema-violation':
      return SCHEMA_VIOLATING_ANSWER;
    case 'injection':
      return injectedProposal(reply.variant, extractIncidentData(promptText));
    case 'derived':
      return deriveProposal(extractIncidentData(promptText));
  }
}

function sendAnswer(response: ServerResponse, record: RecordedRequest, text: string, finishReason = 'STOP') {
  record.usage = usage(record.promptText, text);
  sendJson(response, 200, {
    candidates: [{ content: { parts: [{ text }], role: 'model' }, finishReason, index: 0 }],
    usageMetadata: record.usage,
    modelVersion: record.model,
  });
}

const API_ERRORS = {
  400: ['INVALID_ARGUMENT', 'Request contains an invalid argument.'],
  403: ['PERMISSION_DENIED', 'The caller does not have permission.'],
  429: ['RESOURCE_EXHAUSTED', 'You exceeded your current quota, please check your plan and billing details.'],
  500: [
    'INTERNAL',
    'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting',
  ],
  503: ['UNAVAILABLE', 'The model is overloaded. Please try again later.'],
} as const;

function sendApiError(response: ServerResponse, status: keyof typeof API_ERRORS, retryDelaySeconds?: number) {
  const [code, message] = API_ERRORS[status];
  const details =
    status === 429
      ? [
          {
            '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
            violations: [
              { quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_requests' },
            ],
          },
          { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${retryDelaySeconds ?? 1}s` },
        ]
      : undefined;
  sendError(response, status, code, message, details);
}

function sendError(
  response: ServerResponse,
  status: number,
  code: string,
  message: string,
  details?: unknown[],
): void {
  sendJson(response, status, {
    error: { code: status, message, status: code, ...(details ? { details } : {}) },
  });
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' });
  response.end(JSON.stringify(body));
}

/** What the real API rejects before any model runs: no contents, or a response schema it cannot read. */
function requestProblem(body: unknown): string | undefined {
  const request = body as { contents?: unknown; generationConfig?: { responseSchema?: unknown } };
  if (!Array.isArray(request.contents) || request.contents.length === 0) {
    return '* GenerateContentRequest.contents: contents is not specified';
  }
  const schema = request.generationConfig?.responseSchema;
  return schema === undefined ? undefined : responseSchemaProblem(schema);
}

function promptTextOf(body: unknown): string {
  const request = body as { systemInstruction?: ContentJson; contents?: ContentJson[] } | undefined;
  return [request?.systemInstruction, ...(request?.contents ?? [])]
    .flatMap((content) => content?.parts ?? [])
    .map((part) => part.text ?? '')
    .join('\n');
}

interface ContentJson {
  parts?: Array<{ text?: string }>;
}

/** Roughly what Gemini's tokenizer gives for English and JSON: a token per four characters. */
const countTokens = (text: string) => Math.ceil(text.length / 4);

function usage(promptText: string, answer: string): UsageMetadataJson {
  const promptTokenCount = countTokens(promptText);
  const candidatesTokenCount = countTokens(answer);
  return { promptTokenCount, candidatesTokenCount, totalTokenCount: promptTokenCount + candidatesTokenCount };
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

// Standalone: `node --import tsx local/standins/fake-gemini/server.ts --port 8089` for the demo.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: { port: { type: 'string', default: '0' }, 'latency-ms': { type: 'string', default: '0' } },
  });
  const fake = await startFakeGemini({ port: Number(values.port), latencyMs: Number(values['latency-ms']) });
  console.log(`fake gemini listening on ${fake.url}`);
  console.log(`  export GEMINI_BASE_URL=${fake.url} GEMINI_API_KEY=fake-gemini-key`);
  const stop = () => void fake.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
