import {
  type Content,
  type ErrorDetails,
  type GenerativeModel,
  GoogleGenerativeAI,
  GoogleGenerativeAIAbortError,
  GoogleGenerativeAIFetchError,
  GoogleGenerativeAIRequestInputError,
  GoogleGenerativeAIResponseError,
} from '@google/generative-ai';
import { LlmRequestRejectedError, LlmTimeoutError, LlmUnavailableError } from './errors.js';
import { type ModelReply, proposeWithOneRepair } from './one-repair.js';
import { buildRepairMessage, buildSystemInstruction, buildUserContent } from './prompt.js';
import type { LlmPlanner, PlanRequest, ProposeOptions } from './provider.js';
import { PLAN_RESPONSE_SCHEMA } from './response-schema.js';

export interface GeminiPlannerOptions {
  apiKey: string;
  /** e.g. `gemini-2.0-flash`. */
  model: string;
  /** Only for the local fake Gemini or a proxy; the real service when omitted. */
  baseUrl?: string;
  /** Per HTTP request; the caller's signal can cut it shorter. */
  timeoutMs: number;
  temperature?: number;
  maxOutputTokens?: number;
}

/**
 * A planner backed by Gemini through @google/generative-ai: JSON mode with the generated response schema, a
 * strict parse, and exactly one repair round when the answer does not parse (one-repair.ts). Every failure leaves as a typed
 * `LlmError`; retries, budgets and caching are the guarded planner's job.
 */
export function createGeminiPlanner(options: GeminiPlannerOptions): LlmPlanner {
  const client = new GoogleGenerativeAI(options.apiKey);
  return {
    async propose(request: PlanRequest, { signal }: ProposeOptions = {}) {
      const model = client.getGenerativeModel(
        {
          model: options.model,
          systemInstruction: buildSystemInstruction(request.allowedActions),
          generationConfig: {
            responseMimeType: 'application/json',
            responseSchema: PLAN_RESPONSE_SCHEMA,
            temperature: options.temperature ?? 0.2,
            maxOutputTokens: options.maxOutputTokens ?? 2048,
          },
        },
        options.baseUrl ? { baseUrl: options.baseUrl } : {},
      );
      const contents: Content[] = [{ role: 'user', parts: [{ text: buildUserContent(request.context) }] }];
      return proposeWithOneRepair(
        {
          ask: () => generate(model, contents, options.timeoutMs, signal),
          addRepair: (previousText, issues) => {
            contents.push(
              { role: 'model', parts: [{ text: previousText || '(no text)' }] },
              { role: 'user', parts: [{ text: buildRepairMessage(issues) }] },
            );
          },
        },
        options.model,
      );
    },
  };
}

async function generate(
  model: GenerativeModel,
  contents: Content[],
  timeoutMs: number,
  callerSignal: AbortSignal | undefined,
): Promise<ModelReply> {
  // Our own timeout signal rather than the client's `timeout` option: the client never clears its timer.
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = callerSignal ? AbortSignal.any([timeout, callerSignal]) : timeout;
  let response: Awaited<ReturnType<GenerativeModel['generateContent']>>['response'];
  try {
    ({ response } = await model.generateContent({ contents }, { signal }));
  } catch (error) {
    throw classifyFailure(error, signal, timeoutMs);
  }
  const usage = {
    promptTokens: response.usageMetadata?.promptTokenCount ?? 0,
    completionTokens: response.usageMetadata?.candidatesTokenCount ?? 0,
  };
  try {
    return { text: response.text(), usage };
  } catch (error) {
    if (!(error instanceof GoogleGenerativeAIResponseError)) throw error;
    return { text: '', problem: `no usable answer: ${error.message}`, usage };
  }
}

function classifyFailure(error: unknown, signal: AbortSignal, timeoutMs: number): Error {
  if (signal.aborted || error instanceof GoogleGenerativeAIAbortError || isAbort(error)) {
    return new LlmTimeoutError(`Gemini did not answer within ${timeoutMs} ms or the caller's deadline`, {
      cause: error,
    });
  }
  if (error instanceof GoogleGenerativeAIFetchError) {
    const status = error.status;
    if (status === undefined || status === 408 || status === 429 || status >= 500) {
      return new LlmUnavailableError(`Gemini answered ${status ?? 'without a status'}`, {
        status,
        retryAfterMs: retryDelayMs(error.errorDetails),
        cause: error,
      });
    }
    return new LlmRequestRejectedError(`Gemini rejected the request (${status})`, status, { cause: error });
  }
  if (error instanceof GoogleGenerativeAIRequestInputError) {
    return new LlmRequestRejectedError('the Gemini client refused the request', undefined, { cause: error });
  }
  // Network failures, and a reply body that is not JSON (a proxy's error page): the provider is unreachable.
  return new LlmUnavailableError('Gemini could not be reached', { cause: error });
}

const isAbort = (error: unknown) =>
  error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError');

/** google.rpc.RetryInfo's `retryDelay`, a protobuf Duration such as "37s" or "0.250s". */
function retryDelayMs(details: ErrorDetails[] | undefined): number | undefined {
  const retryInfo = details?.find((detail) => String(detail['@type']).endsWith('google.rpc.RetryInfo'));
  const match = /^(\d+(?:\.\d+)?)s$/.exec(String(retryInfo?.retryDelay ?? ''));
  return match ? Math.round(Number(match[1]) * 1000) : undefined;
}
