import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PrivateRedisServer } from '../../../../local/harness/support/redis-server.js';
import type { PodSeries } from '../generator.js';
import { runKubepulse } from './kubepulse.js';

const GiB = 1024 ** 3;
function memorySeries(
  id: string,
  normalised: (i: number) => number,
  limit: (i: number) => number,
  n: number,
): PodSeries {
  const limits = Float64Array.from({ length: n }, (_, i) => limit(i));
  return {
    id,
    shape: 'limit_raised',
    faulty: false,
    resource: 'memory',
    startAt: 1_800_000_000,
    stepSeconds: 30,
    values: Float64Array.from({ length: n }, (_, i) => Math.round(normalised(i) * limits[i]!)),
    limits,
    onsetIndex: null,
    failureIndex: null,
  };
}

describe('kubepulse on the fault suite (production core, real Redis)', () => {
  let redis: PrivateRedisServer;
  before(async () => {
    redis = await PrivateRedisServer.start();
  });
  after(async () => {
    await redis.close();
  });

  it('scores every sample after the first window, sees a raised limit through the inventory and records openings', async () => {
    // Usage doubles in bytes at step 200 while the limit goes from 1 to 4 GiB: 0.3 then 0.6 of the limit in force.
    // Normalised by the old limit it would be 1.2, at or past the limit on every later window.
    const raised = memorySeries(
      'raised-0',
      (i) => (i < 200 ? 0.3 : 0.6) + 0.002 * Math.sin(i),
      (i) => (i < 200 ? GiB : 4 * GiB),
      400,
    );
    // Pinned at the limit from step 150: time to limit is 0, so an incident must open after two such samples.
    const atLimit = memorySeries(
      'at-limit-0',
      (i) => (i < 150 ? 0.5 : 1),
      () => GiB,
      200,
    );
    const results = await runKubepulse([raised, atLimit], { redisUrl: redis.url, samplesPerMessage: 7 });

    const r = results.get('raised-0')!;
    assert.ok(
      Array.from(r.probability.subarray(0, 63)).every(Number.isNaN),
      'nothing scored before a full window',
    );
    assert.ok(
      Array.from(r.probability.subarray(63)).every((p) => p >= 0 && p <= 1),
      'every later sample scored',
    );
    assert.ok(
      Array.from(r.secondsToLimit.subarray(200)).every(Number.isNaN),
      'after the raise no forecast reaches the (new) limit',
    );

    const a = results.get('at-limit-0')!;
    assert.equal(a.secondsToLimit[150], 0);
    const opened = a.openings.find((o) => o.reasons.includes('forecast-limit-breach'));
    assert.ok(opened, `an incident for the breach, got ${JSON.stringify(a.openings)}`);
    assert.ok(opened.at <= atLimit.startAt + 151 * 30, 'opened by the second sample at the limit');
    assert.equal(opened.predictedSecondsToLimit, 0);
  });
});
