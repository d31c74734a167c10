import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { DependencyUnavailableError } from '../../shared/errors.js';
import type { DeliveryLedger } from '../core/ports.js';

export interface RedisLedgerSettings {
  /** How long a delivery is remembered: at least as long as the record can come back (DLQ redrive included). */
  deliveredTtlSeconds: number;
  /** How long a claim blocks others; longer than one invocation, shorter than the queue's visibility timeout. */
  claimTtlSeconds: number;
}

const DELIVERED = 'delivered';
// Deletes the claim only if it is still ours: after a lease ran out another invocation may hold the key.
const RELEASE_IF_OURS =
  "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";

/**
 * A Redis key per (cluster, alert, destination): `SET NX` with a short lease claims the delivery, success turns
 * it into a long-lived `delivered` marker, failure releases it. Exactly-once up to one gap: a delivery that
 * succeeded but could not be recorded is sent again on redelivery.
 */
export function redisDeliveryLedger(redis: Redis, settings: RedisLedgerSettings): DeliveryLedger {
  const unavailable = (error: unknown) =>
    new DependencyUnavailableError('redis', (error as Error).message, { cause: error });
  return {
    async claim(clusterId, alertId, destination) {
      const key = `kp:notify:${clusterId}:${alertId}:${destination}`;
      const token = randomUUID();
      try {
        const claimed = await redis.set(key, token, 'EX', settings.claimTtlSeconds, 'NX');
        if (claimed !== 'OK')
          return (await redis.get(key)) === DELIVERED ? { state: 'delivered' } : { state: 'busy' };
      } catch (error) {
        throw unavailable(error);
      }
      return {
        state: 'claimed',
        async release() {
          try {
            await redis.eval(RELEASE_IF_OURS, 1, key, token);
          } catch (error) {
            throw unavailable(error);
          }
        },
        async markDelivered() {
          try {
            await redis.set(key, DELIVERED, 'EX', settings.deliveredTtlSeconds);
          } catch (error) {
            throw unavailable(error);
          }
        },
      };
    },
  };
}
