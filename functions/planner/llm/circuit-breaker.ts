import type { Redis } from 'ioredis';
import { LlmCircuitOpenError } from './errors.js';
import { guardRedis } from './redis-guard.js';

export interface CircuitOptions {
  /** Consecutive failed calls that open the circuit. */
  failureThreshold: number;
  coolDownMs: number;
  /** How long one half-open probe may take before another invocation may probe instead. */
  probeTimeoutMs: number;
}

// Returns 0 to admit the call, or how many ms the caller should wait. After the cool-down the circuit is
// half-open: exactly one caller (whoever sets the probe key) is let through to test the provider.
const ADMIT_LUA = `
local openUntil = tonumber(redis.call('HGET', KEYS[1], 'openUntil') or '0')
if openUntil == 0 then return 0 end
local now = tonumber(ARGV[1])
if now < openUntil then return openUntil - now end
if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[2]) then return 0 end
return math.max(1, redis.call('PTTL', KEYS[2]))
`;

// A failure while open or half-open (a failed probe) re-opens for a full cool-down.
const RECORD_FAILURE_LUA = `
local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
local openUntil = tonumber(redis.call('HGET', KEYS[1], 'openUntil') or '0')
if failures >= tonumber(ARGV[2]) or openUntil > 0 then
  redis.call('HSET', KEYS[1], 'openUntil', tonumber(ARGV[1]) + tonumber(ARGV[3]))
end
redis.call('DEL', KEYS[2])
return failures
`;

/**
 * A circuit breaker shared by every invocation through Redis: after N consecutive failed calls, calls are
 * refused for a cool-down, then one probe decides whether to close it again. Times come from the caller's
 * clock so tests can move time on.
 */
export class CircuitBreaker {
  private readonly stateKey: string;
  private readonly probeKey: string;

  constructor(
    private readonly redis: Redis,
    keyPrefix: string,
    private readonly options: CircuitOptions,
  ) {
    this.stateKey = `${keyPrefix}circuit`;
    this.probeKey = `${keyPrefix}circuit:probe`;
  }

  async admit(now: number): Promise<void> {
    const waitMs = (await guardRedis('checking the LLM circuit', () =>
      this.redis.eval(ADMIT_LUA, 2, this.stateKey, this.probeKey, now, this.options.probeTimeoutMs),
    )) as number;
    if (waitMs > 0) throw new LlmCircuitOpenError(waitMs);
  }

  /** The provider answered: the failure streak ends and an open circuit closes. */
  async recordSuccess(): Promise<void> {
    await guardRedis('closing the LLM circuit', () => this.redis.del(this.stateKey, this.probeKey));
  }

  /** Returns the length of the failure streak. */
  async recordFailure(now: number): Promise<number> {
    return (await guardRedis('recording an LLM failure', () =>
      this.redis.eval(
        RECORD_FAILURE_LUA,
        2,
        this.stateKey,
        this.probeKey,
        now,
        this.options.failureThreshold,
        this.options.coolDownMs,
      ),
    )) as number;
  }
}
