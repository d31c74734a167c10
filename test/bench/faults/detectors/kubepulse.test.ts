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

  it('opens on a plateau near the limit after steps, on a pod dying young, and on every leak of a restart storm', async () => {
    // Chunks of 0.2 every 2 hours from 0.3: flat at 0.9 for the last 2 hours, nothing moving.
    const plateau = memorySeries(
      'plateau-0',
      (i) => 0.3 + 0.2 * Math.min(3, Math.floor(i / 240)) + 0.003 * Math.sin(i * 1.7),
      () => GiB,
      960,
    );
    // A pod that dies 15 minutes after its start: from 0.1, 0.03 of the limit per sample.
    const young = memorySeries(
      'young-0',
      (i) => Math.min(0.99, 0.1 + 0.03 * i),
      () => GiB,
      30,
    );
    // Three leaks of 100 samples into the limit, each killed and restarted from 5 %.
    const storm = memorySeries(
      'storm-0',
      (i) => {
        if (i < 200) return 0.4 + 0.002 * Math.sin(i);
        const k = (i - 200) % 110;
        return k < 10 ? 0.05 + 0.035 * k : Math.min(0.99, 0.4 + (0.6 * (k - 10)) / 100);
      },
      () => GiB,
      200 + 3 * 110,
    );
    const results = await runKubepulse([plateau, young, storm], {
      redisUrl: redis.url,
      samplesPerMessage: 10,
    });

    const p = results.get('plateau-0')!;
    // The limit guard: near the limit, or one step like the last ones from it (whichever holds first).
    const guarded = p.openings.find((o) => o.reasons.some((r) => r === 'near-limit' || r === 'step-growth'));
    assert.ok(guarded, `the plateau at 0.9 pages: ${JSON.stringify(p.openings)}`);
    assert.ok(guarded.at <= plateau.startAt + (720 + 10) * 30, 'within minutes of the last step');

    const y = results.get('young-0')!;
    assert.ok(
      y.openings.length > 0 && y.openings[0]!.at < young.startAt + 25 * 30,
      'predicted before it dies',
    );
    assert.ok(Number.isFinite(y.secondsToLimit[12]!), 'a time to the limit from the short-window forecast');
    assert.ok(Number.isNaN(y.probability[12]!), 'no classifier before a full window');

    const st = results.get('storm-0')!;
    const leaks = [0, 1, 2].map((c) => storm.startAt + (200 + c * 110) * 30);
    for (const [c, start] of leaks.entries()) {
      const end = start + 110 * 30;
      assert.ok(
        st.openings.some((o) => o.at >= start && o.at < end),
        `leak ${c} opens its own incident: ${st.openings.map((o) => (o.at - storm.startAt) / 30)}`,
      );
    }
  });
});
