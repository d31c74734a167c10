import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

/**
 * A real open-weights model behind the OpenAI chat-completions protocol, on a loopback port: node-llama-cpp
 * (installed by ./setup.sh into the cache, never into the repository) runs the GGUF model on the CPU, and the
 * request's `response_format.json_schema` becomes a grammar, so every token the model samples keeps the answer
 * inside the schema. One model load per server; requests are answered one at a time (2 cores).
 *
 *   node --import tsx local/standins/llm/server.ts [--port 8091]      after bash local/standins/llm/setup.sh
 */
export interface LocalModelServerOptions {
  port?: number;
  /** The GGUF file; default: the one setup.sh installs. */
  modelPath?: string;
  /** Where setup.sh installed node-llama-cpp; default under ${KUBEPULSE_CACHE:-~/.cache/kubepulse}/llm. */
  runtimeDir?: string;
  /** Tokens of context: the planner's prompts are 1-3k tokens. */
  contextSize?: number;
  /** A ceiling on any request's max_tokens, so no request can keep the CPU busy for long. */
  maxTokensCeiling?: number;
  threads?: number;
}

export interface ModelAnswer {
  text: string;
  finishReason: string;
  promptTokens: number;
  completionTokens: number;
  ms: number;
}

export interface LocalModelServer {
  readonly url: string;
  readonly model: string;
  /** Completions served (not counting refused requests). */
  readonly completions: number;
  /** What the model answered, in order, with how long each took: for a test to print. */
  readonly answers: readonly ModelAnswer[];
  close(): Promise<void>;
}

const llmHome = () => join(process.env.KUBEPULSE_CACHE ?? join(homedir(), '.cache', 'kubepulse'), 'llm');
export const defaultModelPath = () => join(llmHome(), 'models', 'gemma-3-270m-q4_k_m.gguf');
export const defaultRuntimeDir = () => join(llmHome(), 'node-llama-cpp-3.21.1');
const MODEL_NAME = 'gemma-3-270m-q4_k_m';

export async function startLocalModelServer(
  options: LocalModelServerOptions = {},
): Promise<LocalModelServer> {
  const runtimeDir = options.runtimeDir ?? defaultRuntimeDir();
  const entry = join(runtimeDir, 'node_modules', 'node-llama-cpp', 'dist', 'index.js');
  // Loaded from the cache by path: the repository does not depend on node-llama-cpp.
  const llamaCpp = (await import(pathToFileURL(entry).href)) as NodeLlamaCpp;
  const llama = await llamaCpp.getLlama({ gpu: false, build: 'never', logLevel: 'error' });
  const model = await llama.loadModel({ modelPath: options.modelPath ?? defaultModelPath() });
  // One thread by default: on 2 shared cores llama.cpp's spinning worker threads stall each other for minutes.
  const context = await model.createContext({
    contextSize: options.contextSize ?? 4096,
    threads: options.threads ?? 1,
  });
  const sequence = context.getSequence();
  const ceiling = options.maxTokensCeiling ?? 512;
  let completions = 0;
  const answers: ModelAnswer[] = [];
  let queue: Promise<unknown> = Promise.resolve();

  async function complete(body: ChatRequest): Promise<unknown> {
    const messages = body.messages;
    const last = messages.at(-1);
    if (last?.role !== 'user') throw new RequestError('the last message must be from the user');
    const grammar =
      body.response_format?.type === 'json_schema'
        ? await llama.createGrammarForJsonSchema(toGrammarSchema(body.response_format.json_schema.schema))
        : undefined;
    const session = new llamaCpp.LlamaChatSession({ contextSequence: sequence, autoDisposeSequence: false });
    try {
      session.setChatHistory(
        messages
          .slice(0, -1)
          .map((message) =>
            message.role === 'assistant'
              ? { type: 'model', response: [message.content] }
              : { type: message.role === 'system' ? 'system' : 'user', text: message.content },
          ),
      );
      const before = sequence.tokenMeter.getState();
      const started = Date.now();
      const maxTokens = Math.min(ceiling, body.max_completion_tokens ?? body.max_tokens ?? ceiling);
      const result = await session.promptWithMeta(last.content, {
        maxTokens,
        temperature: body.temperature ?? 0,
        ...(body.seed !== undefined ? { seed: body.seed } : {}),
        ...(grammar ? { grammar } : {}),
      });
      const used = llamaCpp.TokenMeter.diff(sequence.tokenMeter.getState(), before);
      completions += 1;
      const finishReason = result.stopReason === 'maxTokens' ? 'length' : 'stop';
      answers.push({
        text: result.responseText,
        finishReason,
        promptTokens: used.usedInputTokens,
        completionTokens: used.usedOutputTokens,
        ms: Date.now() - started,
      });
      return {
        id: `chatcmpl-local-${completions}`,
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: MODEL_NAME,
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: result.responseText },
            finish_reason: finishReason,
          },
        ],
        usage: {
          prompt_tokens: used.usedInputTokens,
          completion_tokens: used.usedOutputTokens,
          total_tokens: used.usedInputTokens + used.usedOutputTokens,
        },
      };
    } finally {
      session.dispose({ disposeSequence: false });
      await sequence.clearHistory();
    }
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      const status = error instanceof RequestError ? 400 : 500;
      sendJson(response, status, {
        error: {
          message: String((error as Error).message ?? error),
          type: status === 400 ? 'invalid_request_error' : 'server_error',
          param: null,
          code: null,
        },
      });
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = new URL(request.url ?? '/', 'http://local').pathname;
    if (request.method === 'GET' && path === '/v1/models') {
      return sendJson(response, 200, {
        object: 'list',
        data: [{ id: MODEL_NAME, object: 'model', owned_by: 'local' }],
      });
    }
    if (request.method !== 'POST' || path !== '/v1/chat/completions') {
      return sendJson(response, 404, {
        error: {
          message: `no route ${request.method} ${path}`,
          type: 'invalid_request_error',
          param: null,
          code: null,
        },
      });
    }
    const body = parseChatRequest(await readBody(request));
    // One generation at a time: the context has one sequence, and 2 cores gain nothing from more.
    const run = queue.then(() => complete(body));
    queue = run.catch(() => undefined);
    sendJson(response, 200, await run);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    model: MODEL_NAME,
    get completions() {
      return completions;
    },
    answers,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await queue;
      await context.dispose();
      await model.dispose();
      await llama.dispose();
    },
  };
}

class RequestError extends Error {}

interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

interface ChatRequest {
  messages: ChatMessage[];
  response_format?:
    | { type: 'json_schema'; json_schema: { name: string; schema: JsonSchemaNode } }
    | { type: 'text' };
  max_tokens?: number;
  max_completion_tokens?: number;
  temperature?: number;
  seed?: number;
}

function parseChatRequest(text: string): ChatRequest {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new RequestError('the request body is not JSON');
  }
  const request = body as Partial<ChatRequest>;
  const messages = request.messages;
  if (
    !Array.isArray(messages) ||
    messages.length === 0 ||
    !messages.every(
      (message) =>
        ['system', 'user', 'assistant'].includes(message?.role) && typeof message?.content === 'string',
    )
  ) {
    throw new RequestError('messages must be a non-empty array of {role, content} with string content');
  }
  const format = request.response_format;
  if (format && format.type === 'json_schema' && typeof format.json_schema?.schema !== 'object') {
    throw new RequestError('response_format.json_schema.schema must be a JSON schema object');
  }
  return request as ChatRequest;
}

/** The JSON Schema subset a llama.cpp grammar can enforce; the rest (patterns, numeric ranges) the caller checks. */
interface JsonSchemaNode {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, JsonSchemaNode>;
  required?: string[];
  items?: JsonSchemaNode;
  anyOf?: JsonSchemaNode[];
  oneOf?: JsonSchemaNode[];
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  description?: string;
}

/**
 * node-llama-cpp's grammar takes `oneOf` where OpenAI's strict mode uses `anyOf`, and fails on keywords it does not
 * know; every object is closed (strict mode's additionalProperties: false).
 */
export function toGrammarSchema(node: JsonSchemaNode): unknown {
  const variants = node.anyOf ?? node.oneOf;
  if (variants) return { oneOf: variants.map(toGrammarSchema) };
  if (node.const !== undefined) return { const: node.const };
  if (node.enum) return { enum: node.enum };
  if (Array.isArray(node.type)) return { oneOf: node.type.map((type) => toGrammarSchema({ ...node, type })) };
  switch (node.type) {
    case 'object':
      return {
        type: 'object',
        properties: Object.fromEntries(
          Object.entries(node.properties ?? {}).map(([name, child]) => [name, toGrammarSchema(child)]),
        ),
        required: node.required ?? [],
        additionalProperties: false,
      };
    case 'array':
      return {
        type: 'array',
        ...(node.items ? { items: toGrammarSchema(node.items) } : {}),
        ...(node.minItems !== undefined ? { minItems: node.minItems } : {}),
        ...(node.maxItems !== undefined ? { maxItems: node.maxItems } : {}),
      };
    case 'string':
      return {
        type: 'string',
        ...(node.minLength !== undefined ? { minLength: node.minLength } : {}),
        ...(node.maxLength !== undefined ? { maxLength: node.maxLength } : {}),
      };
    case 'number':
    case 'integer':
    case 'boolean':
    case 'null':
      return { type: node.type };
    default:
      throw new RequestError(
        `a schema node the grammar cannot express: ${JSON.stringify(node).slice(0, 200)}`,
      );
  }
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  if (response.headersSent) return;
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The part of node-llama-cpp this server uses (it is loaded by path, so its own types are not available). */
interface NodeLlamaCpp {
  getLlama(options: { gpu: false; build: 'never'; logLevel: 'error' }): Promise<Llama>;
  LlamaChatSession: new (options: { contextSequence: Sequence; autoDisposeSequence: boolean }) => ChatSession;
  TokenMeter: { diff(a: TokenMeterState, b: TokenMeterState): TokenMeterState };
}
interface Llama {
  loadModel(options: { modelPath: string }): Promise<Model>;
  createGrammarForJsonSchema(schema: unknown): Promise<unknown>;
  dispose(): Promise<void>;
}
interface Model {
  createContext(options: { contextSize: number; threads: number }): Promise<Context>;
  dispose(): Promise<void>;
}
interface Context {
  getSequence(): Sequence;
  dispose(): Promise<void>;
}
interface TokenMeterState {
  usedInputTokens: number;
  usedOutputTokens: number;
}
interface Sequence {
  tokenMeter: { getState(): TokenMeterState };
  clearHistory(): Promise<void>;
}
interface ChatSession {
  setChatHistory(history: unknown[]): void;
  promptWithMeta(
    text: string,
    options: { maxTokens: number; temperature: number; seed?: number; grammar?: unknown },
  ): Promise<{ responseText: string; stopReason: string }>;
  dispose(options: { disposeSequence: boolean }): void;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: { port: { type: 'string', default: '8091' }, threads: { type: 'string', default: '1' } },
  });
  const server = await startLocalModelServer({ port: Number(values.port), threads: Number(values.threads) });
  console.log(`local model ${server.model} listening on ${server.url}`);
  console.log(
    `  export LLM_PROVIDER=openai-compatible OPENAI_COMPATIBLE_BASE_URL=${server.url} OPENAI_COMPATIBLE_MODEL=${server.model}`,
  );
  const stop = () => void server.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
