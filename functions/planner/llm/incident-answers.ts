import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { PlanProposal } from '../../shared/contracts/index.js';
import { shortId } from '../../shared/ids.js';
import type { PlanAnswer } from './provider.js';
import { guardRedis } from './redis-guard.js';

export interface IncidentAnswerOptions {
  answerTtlSeconds: number;
  /** How long a failed call blocks further calls for the same incident. */
  failureTtlSeconds: number;
  /** Longer than the owner can take, so a crashed owner's lock frees itself. */
  lockTtlMs: number;
}

const StoredAnswer = z.object({
  proposal: PlanProposal,
  model: z.string(),
  usage: z.object({ promptTokens: z.number(), completionTokens: z.number() }),
  attempts: z.number().int(),
});

export interface IncidentRecord {
  answer?: PlanAnswer;
  /** The error code of a recent failed call. */
  failureCode?: string;
}

const RELEASE_LOCK_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/**
 * One LLM call per incident fingerprint: the answer (or a short-lived failure marker) is kept in Redis, and a
 * SET NX lock makes sure that of many concurrent requests for the same incident only one calls the provider.
 */
export class IncidentAnswers {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    private readonly options: IncidentAnswerOptions,
  ) {}

  async lookup(fingerprint: string): Promise<IncidentRecord> {
    const keys = this.keys(fingerprint);
    const [answerJson, failureCode] = await guardRedis('reading the LLM answer cache', () =>
      this.redis.mget(keys.answer, keys.failure),
    );
    if (answerJson) {
      // An entry this code cannot read (written by another version) is a miss, not an error.
      const stored = StoredAnswer.safeParse(parseJson(answerJson));
      if (stored.success) {
        return {
          answer: { ...stored.data, usage: { promptTokens: 0, completionTokens: 0 }, cached: true },
        };
      }
    }
    return failureCode ? { failureCode } : {};
  }

  /** A token to unlock with, or undefined when another invocation holds the lock. */
  async tryLock(fingerprint: string): Promise<string | undefined> {
    const token = randomUUID();
    const reply = await guardRedis('locking an incident for an LLM call', () =>
      this.redis.set(this.keys(fingerprint).lock, token, 'PX', this.options.lockTtlMs, 'NX'),
    );
    return reply === 'OK' ? token : undefined;
  }

  async isLocked(fingerprint: string): Promise<boolean> {
    return (
      (await guardRedis('checking an incident lock', () =>
        this.redis.exists(this.keys(fingerprint).lock),
      )) === 1
    );
  }

  async unlock(fingerprint: string, token: string): Promise<void> {
    await guardRedis('unlocking an incident', () =>
      this.redis.eval(RELEASE_LOCK_LUA, 1, this.keys(fingerprint).lock, token),
    );
  }

  async storeAnswer(fingerprint: string, answer: PlanAnswer): Promise<void> {
    const stored = StoredAnswer.parse(answer);
    await guardRedis('caching an LLM answer', () =>
      this.redis.set(
        this.keys(fingerprint).answer,
        JSON.stringify(stored),
        'EX',
        this.options.answerTtlSeconds,
      ),
    );
  }

  async storeFailure(fingerprint: string, code: string): Promise<void> {
    await guardRedis('recording an LLM failure for an incident', () =>
      this.redis.set(this.keys(fingerprint).failure, code, 'EX', this.options.failureTtlSeconds),
    );
  }

  private keys(fingerprint: string) {
    // Hashed so any fingerprint makes a short, safe key.
    const id = shortId(fingerprint, 64);
    return {
      answer: `${this.keyPrefix}answer:${id}`,
      failure: `${this.keyPrefix}failed:${id}`,
      lock: `${this.keyPrefix}lock:${id}`,
    };
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
