import type { Redis } from 'ioredis';
import { LlmBudgetExceededError } from './errors.js';
import type { TokenUsage } from './provider.js';
import { guardRedis } from './redis-guard.js';

export interface LlmBudgetLimits {
  callsPerHour: number;
  callsPerDay: number;
  tokensPerHour: number;
  tokensPerDay: number;
}

export interface BudgetRemaining {
  hour: { calls: number; tokens: number };
  day: { calls: number; tokens: number };
}

// Checks all four counters and takes one call from both windows in one step, so concurrent invocations
// cannot all pass the check on the last remaining call. Tokens are only known afterwards and are added then.
const RESERVE_CALL_LUA = `
local used = {}
for i = 1, 4 do used[i] = tonumber(redis.call('GET', KEYS[i]) or '0') end
for i = 1, 4 do
  if used[i] >= tonumber(ARGV[i]) then return {0, used[1], used[2], used[3], used[4]} end
end
for i = 1, 2 do
  used[i] = redis.call('INCR', KEYS[i])
  if used[i] == 1 then redis.call('EXPIRE', KEYS[i], ARGV[4 + i]) end
end
return {1, used[1], used[2], used[3], used[4]}
`;

const HOUR_KEY_TTL_SECONDS = 2 * 3600;
const DAY_KEY_TTL_SECONDS = 2 * 86_400;

/** Hourly and daily caps on calls and tokens, shared by every invocation through Redis counters. */
export class LlmBudget {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    private readonly limits: LlmBudgetLimits,
  ) {}

  /** Takes one call from the budget, or throws without taking anything when any cap is reached. */
  async reserveCall(now: number): Promise<BudgetRemaining> {
    const keys = this.keys(now);
    const reply = (await guardRedis('reserving an LLM call', () =>
      this.redis.eval(
        RESERVE_CALL_LUA,
        4,
        keys.callsHour,
        keys.callsDay,
        keys.tokensHour,
        keys.tokensDay,
        this.limits.callsPerHour,
        this.limits.callsPerDay,
        this.limits.tokensPerHour,
        this.limits.tokensPerDay,
        HOUR_KEY_TTL_SECONDS,
        DAY_KEY_TTL_SECONDS,
      ),
    )) as [number, number, number, number, number];
    const [granted, callsHour, callsDay, tokensHour, tokensDay] = reply;
    const remaining = {
      hour: { calls: this.limits.callsPerHour - callsHour, tokens: this.limits.tokensPerHour - tokensHour },
      day: { calls: this.limits.callsPerDay - callsDay, tokens: this.limits.tokensPerDay - tokensDay },
    };
    if (granted !== 1) {
      throw new LlmBudgetExceededError(
        `LLM budget spent: ${callsHour}/${this.limits.callsPerHour} calls and ${tokensHour}/${this.limits.tokensPerHour} tokens this hour, ` +
          `${callsDay}/${this.limits.callsPerDay} calls and ${tokensDay}/${this.limits.tokensPerDay} tokens today`,
      );
    }
    return remaining;
  }

  async recordTokens(now: number, usage: TokenUsage): Promise<void> {
    const tokens = usage.promptTokens + usage.completionTokens;
    if (tokens <= 0) return;
    const keys = this.keys(now);
    await guardRedis('recording LLM tokens', () =>
      this.redis
        .multi()
        .incrby(keys.tokensHour, tokens)
        .expire(keys.tokensHour, HOUR_KEY_TTL_SECONDS)
        .incrby(keys.tokensDay, tokens)
        .expire(keys.tokensDay, DAY_KEY_TTL_SECONDS)
        .exec(),
    );
  }

  private keys(now: number) {
    const iso = new Date(now).toISOString();
    const hour = iso.slice(0, 13);
    const day = iso.slice(0, 10);
    return {
      callsHour: `${this.keyPrefix}budget:calls:${hour}`,
      callsDay: `${this.keyPrefix}budget:calls:${day}`,
      tokensHour: `${this.keyPrefix}budget:tokens:${hour}`,
      tokensDay: `${this.keyPrefix}budget:tokens:${day}`,
    };
  }
}
