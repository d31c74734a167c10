import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { extractIncidentData } from '../fake-gemini/incident-data.js';
import {
  deriveProposal,
  injectedProposal,
  SCHEMA_VIOLATING_ANSWER,
  type ScriptedReply,
} from '../fake-gemini/replies.js';

/**
 * A stand-in for an OpenAI-compatible chat-completions server (`POST /v1/chat/completions`) on a loopback port,
 * speaking the real request, response and error JSON (OpenAI's, which vLLM, Ollama and llama.cpp's server copy).
 * It answers from the same scripted replies as the fake Gemini, records every request, and can inject the faults
 * the planner must survive. A `blocked` reply is OpenAI's refusal; a `text` reply cut off with MAX_TOKENS is
 * finish_reason `length`.
 */
export interface FakeOpenAiOptions {
  port?: number;
  /** When set, requests must carry `Authorization: Bearer <apiKey>`; otherwise no key is needed (a local server). */
  apiKey?: string;
  defaultReply?: ScriptedReply;
  latencyMs?: number;
}

export interface RecordedChatRequest {
  model: string;
  /** Every message's content, in order: what the model would read. */
  promptText: string;
  body: Record<string, unknown>;
  authorization: string | undefined;
  served: ScriptedReply['kind'] | 'refused';
}

export interface FakeOpenAi {
  /** The API root, with /v1, as OPENAI_COMPATIBLE_BASE_URL takes it. */
  readonly url: string;
  readonly requests: readonly RecordedChatRequest[];
  script(...replies: ScriptedReply[]): void;
  setDefault(reply: ScriptedReply): void;
  reset(): void;
  close(): Promise<void>;
}

export const FAKE_OPENAI_MODEL = 'fake-open-model';

export async function startFakeOpenAi(options: FakeOpenAiOptions = {}): Promise<FakeOpenAi> {
  const requests: RecordedChatRequest[] = [];
  const queue: ScriptedReply[] = [];
  let defaultReply: ScriptedReply = options.defaultReply ?? { kind: 'derived' };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      sendError(response, 500, 'server_error', `fake openai: ${String(error)}`);
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = new URL(request.url ?? '/', 'http://fake-openai').pathname;
    if (request.method !== 'POST' || path !== '/v1/chat/completions') {
      return sendError(
        response,
        404,
        'invalid_request_error',
        `Unknown request URL: ${request.method} ${path}`,
      );
    }
    const body = parseJson(await readBody(request));
    const record: RecordedChatRequest = {
      model: typeof body?.model === 'string' ? body.model : '',
      promptText: promptTextOf(body),
      body: body ?? {},
      authorization: request.headers.authorization,
      served: 'refused',
    };
    requests.push(record);
    if (options.apiKey !== undefined && request.headers.authorization !== `Bearer ${options.apiKey}`) {
      return sendError(
        response,
        401,
        'invalid_request_error',
        'Incorrect API key provided.',
        'invalid_api_key',
      );
    }
    if (!body) return sendError(response, 400, 'invalid_request_error', 'We could not parse the JSON body.');
    const problem = requestProblem(body);
    if (problem) return sendError(response, 400, 'invalid_request_error', problem);

    const reply = queue.shift() ?? defaultReply;
    record.served = reply.kind;
    const delay = (reply.latencyMs ?? 0) + (options.latencyMs ?? 0);
    if (delay > 0) await sleep(delay);
    if (reply.kind === 'hang' || response.destroyed) return;
    serve(response, reply, record);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    script: (...replies) => void queue.push(...replies),
    setDefault: (reply) => {
      defaultReply = reply;
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

function serve(response: ServerResponse, reply: ScriptedReply, record: RecordedChatRequest): void {
  if (reply.kind === 'hang') return;
  if (reply.kind === 'error') {
    sendApiError(response, reply.status, reply.retryDelaySeconds);
  } else if (reply.kind === 'http-garbage') {
    response.writeHead(200, { 'content-type': 'text/html' });
    response.end('<html><body>502 Bad Gateway</body></html>');
  } else if (reply.kind === 'blocked') {
    sendCompletion(response, record, { content: null, refusal: "I'm sorry, I can't help with that." });
  } else if (reply.kind === 'text') {
    const finishReason = reply.finishReason === 'MAX_TOKENS' ? 'length' : 'stop';
    sendCompletion(response, record, { content: reply.text, refusal: null }, finishReason);
  } else {
    const answer = JSON.stringify(answerOf(reply, record.promptText));
    sendCompletion(response, record, { content: answer, refusal: null });
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

function sendCompletion(
  response: ServerResponse,
  record: RecordedChatRequest,
  message: { content: string | null; refusal: string | null },
  finishReason = 'stop',
): void {
  const promptTokens = Math.ceil(record.promptText.length / 4);
  const completionTokens = Math.ceil((message.content ?? message.refusal ?? '').length / 4);
  sendJson(response, 200, {
    id: `chatcmpl-fake-${Date.now()}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: record.model,
    choices: [
      { index: 0, message: { role: 'assistant', ...message }, logprobs: null, finish_reason: finishReason },
    ],
    usage: {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
    },
  });
}

const API_ERRORS = {
  400: ['invalid_request_error', 'Invalid request.'],
  403: ['invalid_request_error', 'Project does not have access to this model.'],
  429: ['rate_limit_exceeded', 'Rate limit reached for requests. Please try again shortly.'],
  500: ['server_error', 'The server had an error while processing your request. Sorry about that!'],
  503: ['server_error', 'The engine is currently overloaded, please try again later.'],
} as const;

function sendApiError(response: ServerResponse, status: keyof typeof API_ERRORS, retryDelaySeconds?: number) {
  const [type, message] = API_ERRORS[status];
  const headers: Record<string, string> =
    status === 429 ? { 'retry-after': String(retryDelaySeconds ?? 1) } : {};
  sendError(response, status, type, message, null, headers);
}

function sendError(
  response: ServerResponse,
  status: number,
  type: string,
  message: string,
  code: string | null = null,
  headers: Record<string, string> = {},
): void {
  if (response.headersSent) return;
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify({ error: { message, type, param: null, code } }));
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

/** What a real server refuses before any model runs: no messages, or a structured-output schema it cannot use. */
function requestProblem(body: Record<string, unknown>): string | undefined {
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0) return "Missing required parameter: 'messages'.";
  if (typeof body.model !== 'string' || body.model === '') return "Missing required parameter: 'model'.";
  const format = body.response_format as
    | { type?: string; json_schema?: { name?: unknown; strict?: unknown; schema?: unknown } }
    | undefined;
  if (format?.type !== 'json_schema') return undefined;
  const spec = format.json_schema;
  if (typeof spec?.name !== 'string' || !/^[a-zA-Z0-9_-]{1,64}$/.test(spec.name)) {
    return "Invalid 'response_format.json_schema.name'.";
  }
  if (spec.strict === true) {
    const problem = strictSchemaProblem(spec.schema, 'response_format.json_schema.schema');
    if (problem) return `Invalid schema for response_format 'plan_proposal': ${problem}`;
  }
  return undefined;
}

/** OpenAI's strict-mode rules for a schema: closed objects with every property required. */
function strictSchemaProblem(node: unknown, path: string): string | undefined {
  if (typeof node !== 'object' || node === null) return `${path} is not a schema.`;
  const schema = node as {
    type?: unknown;
    properties?: Record<string, unknown>;
    required?: unknown;
    additionalProperties?: unknown;
    items?: unknown;
    anyOf?: unknown[];
    oneOf?: unknown;
  };
  if (schema.oneOf !== undefined) return `In context=(${path}), 'oneOf' is not permitted.`;
  for (const [index, variant] of (schema.anyOf ?? []).entries()) {
    const problem = strictSchemaProblem(variant, `${path}.anyOf[${index}]`);
    if (problem) return problem;
  }
  if (schema.type === 'object') {
    if (schema.additionalProperties !== false) {
      return `In context=(${path}), 'additionalProperties' is required to be supplied and to be false.`;
    }
    const names = Object.keys(schema.properties ?? {});
    const required = Array.isArray(schema.required) ? schema.required : [];
    const missing = names.filter((name) => !required.includes(name));
    if (missing.length > 0) {
      return `In context=(${path}), 'required' is required to be supplied and to be an array including every key in properties. Missing '${missing[0]}'.`;
    }
    for (const name of names) {
      const problem = strictSchemaProblem(schema.properties?.[name], `${path}.properties.${name}`);
      if (problem) return problem;
    }
  }
  if (schema.type === 'array' && schema.items !== undefined) {
    return strictSchemaProblem(schema.items, `${path}.items`);
  }
  return undefined;
}

function promptTextOf(body: Record<string, unknown> | undefined): string {
  const messages = Array.isArray(body?.messages) ? (body.messages as Array<{ content?: unknown }>) : [];
  return messages.map((message) => (typeof message.content === 'string' ? message.content : '')).join('\n');
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

// Standalone: `node --import tsx local/standins/fake-openai/server.ts --port 8090`.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { port: { type: 'string', default: '0' } } });
  const fake = await startFakeOpenAi({ port: Number(values.port) });
  console.log(`fake OpenAI-compatible server listening on ${fake.url}`);
  console.log(
    `  export LLM_PROVIDER=openai-compatible OPENAI_COMPATIBLE_BASE_URL=${fake.url} OPENAI_COMPATIBLE_MODEL=${FAKE_OPENAI_MODEL}`,
  );
  const stop = () => void fake.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
