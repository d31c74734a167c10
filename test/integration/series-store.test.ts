import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { SeriesStore } from '../../functions/inference/adapters/redis-series-store.js';
import { INITIAL_INCIDENT_STATE } from '../../functions/inference/core/hysteresis.js';
import { seriesKeyOf } from '../../functions/inference/core/series-keys.js';
import { decodeSeriesState, encodeSeriesState } from '../../functions/inference/core/series-state.js';
import { DependencyUnavailableError } from '../../functions/shared/errors.js';
import { PrivateRedisServer } from '../../local/harness/support/redis-server.js';

describe('series store on a real Redis', () => {
  let server: PrivateRedisServer;
  let redis: Redis;
  let store: SeriesStore;
  const key = seriesKeyOf('dev', 'shop', 'web-1', 'app', 'memory_working_set_bytes');
  const options = {
    scoringWindow: 8,
    windowCapacity: 8,
    windowTtlSeconds: 600,
    inventoryTtlSeconds: 600,
    eventDedupTtlSeconds: 600,
  };
  const load = (samples: Array<[number, number]>) =>
    store.load({
      appends: [{ seriesKey: key, samples }],
      inventoryWrites: [],
      inventoryReads: [],
      eventsToCheck: [],
    });

  before(async () => {
    server = await PrivateRedisServer.start();
    redis = new Redis(server.url, {
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      lazyConnect: true,
      retryStrategy: () => 100,
    });
    redis.on('error', () => {});
    await redis.connect();
    store = new SeriesStore(redis, options);
  });
  after(async () => {
    redis.disconnect();
    await server.close();
  });
  beforeEach(async () => {
    await redis.flushall();
  });

  it('appends in time order, ignores duplicate timestamps and keeps the first value', async () => {
    await load([
      [100, 1],
      [130, 2],
    ]);
    const result = (
      await load([
        [130, 99],
        [160, 3],
      ])
    ).series.get(key)!;
    assert.equal(result.added, 1);
    assert.deepEqual([...result.timestamps], [100, 130, 160]);
    assert.deepEqual([...result.values], [1, 2, 3]);
  });

  it('inserts late samples in order and trims to capacity, keeping the newest', async () => {
    await load([
      [100, 1],
      [160, 3],
    ]);
    const merged = (await load([[130, 2]])).series.get(key)!;
    assert.equal(merged.added, 1);
    assert.deepEqual([...merged.timestamps], [100, 130, 160]);
    const many = Array.from({ length: 12 }, (_, i) => [200 + i * 30, i] as [number, number]);
    const trimmed = (await load(many)).series.get(key)!;
    assert.equal(trimmed.timestamps.length, 8);
    assert.equal(trimmed.timestamps[7], 200 + 11 * 30);
    assert.equal(trimmed.timestamps[0], 200 + 4 * 30);
  });

  it('keeps full float64 precision for byte counts', async () => {
    const bytes = 3_221_225_471.5;
    const result = (await load([[100, bytes]])).series.get(key)!;
    assert.equal(result.values[0], bytes);
  });

  it('returns only the unscored records and one window before them', async () => {
    const samples = Array.from({ length: 8 }, (_, i) => [100 + i * 30, i] as [number, number]);
    await load(samples);
    await store.commit([
      {
        seriesKey: key,
        expectedVersion: 0,
        fields: encodeSeriesState({
          lastScoredAt: 100 + 7 * 30,
          incident: INITIAL_INCIDENT_STATE,
          surprise: null,
          outbox: [],
        }),
      },
    ]);
    const tail = (await load([[100 + 8 * 30, 8]])).series.get(key)!;
    // One new record plus the seven before it (a window of 8), though the store keeps 8 (capacity).
    assert.deepEqual([...tail.values], [1, 2, 3, 4, 5, 6, 7, 8]);
    // A retry before the new state was committed: nothing is added, but the unscored record comes back.
    const retried = (await load([[100 + 8 * 30, 8]])).series.get(key)!;
    assert.equal(retried.added, 0);
    assert.deepEqual([...retried.values], [1, 2, 3, 4, 5, 6, 7, 8]);
    await store.commit([
      {
        seriesKey: key,
        expectedVersion: 1,
        fields: encodeSeriesState({
          lastScoredAt: 100 + 8 * 30,
          incident: INITIAL_INCIDENT_STATE,
          surprise: null,
          outbox: [],
        }),
      },
    ]);
    const scored = (await load([[100 + 8 * 30, 8]])).series.get(key)!;
    assert.equal(
      scored.values.length,
      7,
      'once scored, only the window before the (absent) unscored records',
    );
  });

  it('sets a TTL so series that disappear expire', async () => {
    await load([[100, 1]]);
    const ttl = await redis.ttl(`kp:{${key}}:w`);
    assert.ok(ttl > 0 && ttl <= 600, `ttl ${ttl}`);
  });

  it('compare-and-sets state: a stale version is reported as a conflict', async () => {
    assert.equal(
      (
        await store.commit([
          {
            seriesKey: key,
            expectedVersion: 0,
            fields: encodeSeriesState({
              lastScoredAt: 100,
              incident: INITIAL_INCIDENT_STATE,
              surprise: null,
              outbox: [],
            }),
          },
        ])
      ).size,
      0,
    );
    const state = (await load([[100, 1]])).series.get(key)!.state;
    assert.equal(state.v, '1');
    assert.equal(decodeSeriesState(state).lastScoredAt, 100);
    const conflicts = await store.commit([
      {
        seriesKey: key,
        expectedVersion: 0,
        fields: encodeSeriesState({
          lastScoredAt: 130,
          incident: INITIAL_INCIDENT_STATE,
          surprise: null,
          outbox: [],
        }),
      },
    ]);
    assert.deepEqual([...conflicts], [key]);
  });

  it('reports an unreachable Redis as a retryable dependency error', async () => {
    await server.stop();
    try {
      await assert.rejects(load([[100, 1]]), (error: unknown) => {
        assert.ok(error instanceof DependencyUnavailableError);
        assert.equal(error.retryable, true);
        return true;
      });
    } finally {
      await server.resume();
      await waitForReady(redis);
    }
  });
});

async function waitForReady(redis: Redis): Promise<void> {
  const deadline = Date.now() + 5000;
  while (redis.status !== 'ready' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
}
