import { Redis } from 'ioredis';
import type { LoggerPort } from './logger.js';

/**
 * The functions' Redis client: fail fast while Redis is away (no offline queue, no per-request retries), so the
 * records go back to SQS instead of piling up in memory; reconnects in the background with capped backoff.
 */
export function createRedis(url: string, commandTimeoutMs: number, logger: LoggerPort): Redis {
  const redis = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: commandTimeoutMs,
    connectTimeout: commandTimeoutMs,
    retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 2000),
  });
  redis.on('error', (error) => logger.warn('redis connection error', { error: error.message }));
  return redis;
}

/** Not fatal at start-up: each invocation fails its records until Redis is back, and ioredis reconnects. */
export async function connectRedis(redis: Redis, logger: LoggerPort): Promise<void> {
  try {
    await redis.connect();
  } catch (error) {
    logger.warn('redis not reachable at start-up', { error: (error as Error).message });
  }
}
