import { type ParseOptions, parseProposalText } from './answer-parser.js';
import { LlmInvalidAnswerError } from './errors.js';
import type { PlanAnswer, TokenUsage } from './provider.js';

/** One model reply, whatever the provider. */
export interface ModelReply {
  text: string;
  /** Set when the reply carried no usable text (blocked, refused, cut off at the token limit, …). */
  problem?: string;
  usage: TokenUsage;
}

/** A provider's conversation about one incident: ask, and on a bad answer, add the repair turn. */
export interface Conversation {
  ask(): Promise<ModelReply>;
  addRepair(previousText: string, issues: readonly string[]): void;
}

/** How much of an invalid first answer is sent back with the repair request. */
export const MAX_ECHOED_ANSWER_CHARS = 8000;

/**
 * The protocol every provider follows: ask, parse strictly, and exactly one repair round with the exact issues
 * when the answer does not parse. Transport failures leave as the provider's typed errors; an answer still
 * invalid after the repair leaves as `LlmInvalidAnswerError` carrying the tokens both attempts spent.
 */
export async function proposeWithOneRepair(
  conversation: Conversation,
  model: string,
  parseOptions: ParseOptions = {},
): Promise<PlanAnswer> {
  const usage: TokenUsage = { promptTokens: 0, completionTokens: 0 };
  let issues: string[] = [];
  for (let attempt = 1; attempt <= 2; attempt += 1) {
    const reply = await conversation.ask();
    usage.promptTokens += reply.usage.promptTokens;
    usage.completionTokens += reply.usage.completionTokens;
    const parsed = reply.problem
      ? { ok: false as const, issues: [reply.problem] }
      : parseProposalText(reply.text, parseOptions);
    if (parsed.ok) return { proposal: parsed.proposal, model, usage, attempts: attempt, cached: false };
    issues = parsed.issues;
    if (attempt === 1) conversation.addRepair(reply.text.slice(0, MAX_ECHOED_ANSWER_CHARS), issues);
  }
  throw new LlmInvalidAnswerError(issues, usage);
}
