import { z } from 'zod';
import { LlmRequestRejectedError, LlmTimeoutError, LlmUnavailableError } from './errors.js';
import { type ModelReply, proposeWithOneRepair } from './one-repair.js';
import { PLAN_JSON_SCHEMA } from './openai-schema.js';
import { buildRepairMessage, buildSystemInstruction, buildUserContent } from './prompt.js';
import type { LlmPlanner, PlanRequest, ProposeOptions } from './provider.js';

export interface OpenAiCompatiblePlannerOptions {
  /** The API root including its version, e.g. `https://api.openai.com/v1` or `http://vllm.internal:8000/v1`. */
  baseUrl: string;
  model: string;
  /** Sent as `Authorization: Bearer …` when set; local servers usually need none. */
  apiKey?: string;
  /** Per HTTP request; the caller's signal can cut it shorter. */
  timeoutMs: number;
  /** The answer's token limit (`max_tokens`): generation stops there even if the model would not. */
  maxTokens: number;
  temperature?: number;
  fetch?: typeof fetch;
}

/** A reply larger than this is not a plan proposal; reading stops there. */
const MAX_REPLY_BYTES = 1_000_000;

type ChatMessage = { role: 'system' | 'user' | 'assistant'; content: string };

/**
 * A planner for any server speaking OpenAI's chat completions (OpenAI, vLLM, Ollama, llama.cpp's
 * server, LM Studio, LiteLLM…) with strict JSON-schema structured output, over plain fetch. It follows the same
 * protocol as the Gemini planner (one-repair.ts) and leaves every failure as a typed `LlmError`, so the guarded
 * planner wraps it with the same cache, budgets, circuit and retries.
 */
export function createOpenAiCompatiblePlanner(options: OpenAiCompatiblePlannerOptions): LlmPlanner {
  const endpoint = `${options.baseUrl.replace(/\/+$/, '')}/chat/completions`;
  const doFetch = options.fetch ?? fetch;
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: 'application/json',
    ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}),
  };
  return {
    async propose(request: PlanRequest, { signal }: ProposeOptions = {}) {
      const messages: ChatMessage[] = [
        { role: 'system', content: buildSystemInstruction(request.allowedActions) },
        { role: 'user', content: buildUserContent(request.context) },
      ];
      const ask = async (): Promise<ModelReply> => {
        const body = JSON.stringify({
          model: options.model,
          messages,
          response_format: {
            type: 'json_schema',
            json_schema: { name: 'plan_proposal', strict: true, schema: PLAN_JSON_SCHEMA },
          },
          max_tokens: options.maxTokens,
          temperature: options.temperature ?? 0.2,
        });
        const timeout = AbortSignal.timeout(options.timeoutMs);
        const combined = signal ? AbortSignal.any([timeout, signal]) : timeout;
        let response: Response;
        let text: string;
        try {
          response = await doFetch(endpoint, { method: 'POST', headers, body, signal: combined });
          text = await readLimited(response);
        } catch (error) {
          throw transportFailure(error, combined, options.timeoutMs);
        }
        if (!response.ok) throw statusFailure(response, text);
        return replyOf(text, messages, options.maxTokens);
      };
      return proposeWithOneRepair(
        {
          ask,
          addRepair: (previousText, issues) => {
            messages.push(
              { role: 'assistant', content: previousText || '(no text)' },
              { role: 'user', content: buildRepairMessage(issues) },
            );
          },
        },
        options.model,
        { nullMeansAbsent: true },
      );
    },
  };
}

/** The part of a chat completion this planner reads; anything else in it is ignored. */
const ChatCompletion = z.object({
  choices: z
    .array(
      z.object({
        message: z.object({
          content: z.string().nullish(),
          refusal: z.string().nullish(),
        }),
        finish_reason: z.string().nullish(),
      }),
    )
    .min(1),
  usage: z
    .object({
      prompt_tokens: z.number().int().nonnegative(),
      completion_tokens: z.number().int().nonnegative(),
    })
    .nullish(),
});

function replyOf(text: string, messages: readonly ChatMessage[], maxTokens: number): ModelReply {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // A 200 whose body is not JSON is a proxy's error page, not the model's answer: the provider is unwell.
    throw new LlmUnavailableError(`the OpenAI-compatible endpoint answered 200 with a body that is not JSON`);
  }
  const parsed = ChatCompletion.safeParse(json);
  if (!parsed.success) {
    throw new LlmUnavailableError('the OpenAI-compatible endpoint answered 200 without a chat completion', {
      cause: parsed.error,
    });
  }
  const [choice] = parsed.data.choices;
  const answer = choice?.message.content ?? '';
  // Servers that report no usage still cost tokens: about four characters a token keeps the budget honest.
  const usage = parsed.data.usage
    ? { promptTokens: parsed.data.usage.prompt_tokens, completionTokens: parsed.data.usage.completion_tokens }
    : {
        promptTokens: Math.ceil(messages.reduce((sum, message) => sum + message.content.length, 0) / 4),
        completionTokens: Math.ceil(answer.length / 4),
      };
  if (choice?.message.refusal)
    return { text: '', problem: `the model refused: ${choice.message.refusal}`, usage };
  if (choice?.finish_reason === 'length') {
    return { text: answer, problem: `the answer was cut off at the token limit (${maxTokens})`, usage };
  }
  if (choice?.finish_reason === 'content_filter') {
    return { text: '', problem: 'the answer was withheld by a content filter', usage };
  }
  return { text: answer, usage };
}

async function readLimited(response: Response): Promise<string> {
  const declared = Number(response.headers.get('content-length') ?? 0);
  if (declared > MAX_REPLY_BYTES) {
    await response.body?.cancel();
    throw new OversizedReplyError(declared);
  }
  const text = await response.text();
  if (text.length > MAX_REPLY_BYTES) throw new OversizedReplyError(text.length);
  return text;
}

class OversizedReplyError extends Error {
  constructor(size: number) {
    super(`the reply is ${size} bytes, more than the ${MAX_REPLY_BYTES} a plan proposal can take`);
  }
}

function transportFailure(error: unknown, signal: AbortSignal, timeoutMs: number): Error {
  if (signal.aborted || isAbort(error)) {
    return new LlmTimeoutError(
      `the OpenAI-compatible endpoint did not answer within ${timeoutMs} ms or the caller's deadline`,
      { cause: error },
    );
  }
  if (error instanceof OversizedReplyError) {
    return new LlmUnavailableError(error.message, { cause: error });
  }
  return new LlmUnavailableError('the OpenAI-compatible endpoint could not be reached', { cause: error });
}

/** 408, 409 (OpenAI's "try again"), 429 and 5xx may pass; any other refusal is the request's own fault. */
function statusFailure(response: Response, text: string): Error {
  const status = response.status;
  const detail = errorMessageOf(text);
  const what = `the OpenAI-compatible endpoint answered ${status}${detail ? `: ${detail}` : ''}`;
  if (status === 408 || status === 409 || status === 429 || status >= 500) {
    const retryAfterMs = retryAfterMsOf(response.headers);
    return new LlmUnavailableError(what, { status, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) });
  }
  return new LlmRequestRejectedError(what, status);
}

/** `{"error":{"message":…}}`, clipped: the provider's words, never the request (which holds the incident). */
function errorMessageOf(text: string): string | undefined {
  try {
    const message = (JSON.parse(text) as { error?: { message?: unknown } }).error?.message;
    return typeof message === 'string' ? message.slice(0, 300) : undefined;
  } catch {
    return undefined;
  }
}

/** OpenAI sends `retry-after-ms`; the HTTP standard `retry-after` is seconds or a date. */
export function retryAfterMsOf(headers: Headers, now = Date.now()): number | undefined {
  const milliseconds = Number(headers.get('retry-after-ms'));
  if (headers.has('retry-after-ms') && Number.isFinite(milliseconds) && milliseconds >= 0)
    return milliseconds;
  const value = headers.get('retry-after');
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

const isAbort = (error: unknown) =>
  error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError');
