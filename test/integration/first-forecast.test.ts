import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { DEFAULT_DETECTION_POLICY } from '../../functions/inference/core/defaults.js';
import {
  processShipperRecords,
  type RowScore,
  type ShipperRecord,
} from '../../functions/inference/core/process-batch.js';
import { createInferenceCore } from '../../functions/inference/runtime.js';
import { PrivateRedisServer } from '../../local/harness/support/redis-server.js';
import { errorsOnlyLogger } from '../support/loggers.js';

/**
 * Time to first forecast, measured through the production inference core on a real Redis (what the model card
 * reports): a pod whose memory grows from its first sample, fed as the shipper feeds it (10 samples a message).
 */
const STEP = 30;
const START = 1_800_000_000;
const LIMIT = 512 * 1024 ** 2;
const SAMPLES = 90;
/** The bar: a forecast from the first ~10 samples. */
const FIRST_FORECAST_BAR = 10;

describe('a new pod’s first minutes', () => {
  let server: PrivateRedisServer;
  let redis: Redis;
  let rows: RowScore[];

  before(async () => {
    server = await PrivateRedisServer.start();
    redis = new Redis(server.url);
    const deps = await createInferenceCore(
      redis,
      { async publish() {} },
      {
        modelDir: 'models/dist',
        windowSlack: 10,
        windowTtlSeconds: 3600,
        inventoryTtlSeconds: 3600,
        eventDedupTtlSeconds: 3600,
        policy: DEFAULT_DETECTION_POLICY,
      },
      errorsOnlyLogger,
      { collectScores: true },
    );
    rows = [];
    for (let first = 0; first < SAMPLES; first += 10) {
      const records: ShipperRecord[] = [];
      if (first === 0)
        records.push({
          recordId: 'inv',
          message: {
            schemaVersion: 1,
            kind: 'inventory-snapshot',
            clusterId: 'dev',
            snapshotId: 'inv-0',
            takenAt: new Date(START * 1000).toISOString(),
            complete: false,
            nodes: [],
            pods: [
              {
                namespace: 'shop',
                pod: 'young-0',
                labels: {},
                containers: [{ name: 'app', requests: {}, limits: { memoryBytes: LIMIT }, restartCount: 0 }],
              },
            ],
          },
        });
      const samples: Array<[number, number]> = [];
      for (let i = first; i < first + 10; i++)
        samples.push([START + i * STEP, Math.round(LIMIT * (0.1 + 0.006 * i + 0.004 * Math.sin(i)))]);
      records.push({
        recordId: `b${first}`,
        message: {
          schemaVersion: 1,
          kind: 'sample-batch',
          clusterId: 'dev',
          batchId: `b${first}`,
          sentAt: new Date((START + (first + 9) * STEP) * 1000).toISOString(),
          stepSeconds: STEP,
          series: [
            {
              metric: 'memory_working_set_bytes',
              namespace: 'shop',
              pod: 'young-0',
              container: 'app',
              samples,
            },
          ],
        },
      });
      const outcome = await processShipperRecords(records, deps);
      assert.equal(outcome.failures.size, 0);
      rows.push(...outcome.scores);
    }
  });

  after(async () => {
    redis.disconnect();
    await server.close();
  });

  it(`forecasts from at most its ${FIRST_FORECAST_BAR}th sample, with a band that narrows, and hands over at a full window`, () => {
    assert.equal(rows.length, SAMPLES, 'every sample is judged from the first');
    const firstForecast = rows.findIndex((r) => r.forecaster !== 'none') + 1;
    const handOver = rows.findIndex((r) => r.forecaster === 'models') + 1;
    console.log(`time to first forecast: ${firstForecast} samples; models from sample ${handOver}`);
    assert.ok(
      firstForecast >= 1 && firstForecast <= FIRST_FORECAST_BAR,
      `first forecast at sample ${firstForecast}`,
    );
    assert.equal(handOver, 64, 'the models take over at their first full window');
    const young = rows[firstForecast - 1]!;
    // the line sees the growth: its forecast rises above the value it was made at
    assert.ok(young.forecast.at(-1)! > rows[firstForecast - 1]!.forecast[0]!);
    const lastShort = rows[handOver - 2]!;
    const models = rows[handOver - 1]!;
    for (let h = 0; h < young.spread.length; h++) {
      assert.ok(young.spread[h]! > lastShort.spread[h]!, `horizon ${h}: the band narrows as samples come in`);
      assert.ok(lastShort.spread[h]! >= models.spread[h]!, `horizon ${h}: never surer than the models`);
    }
    assert.ok(young.spread.at(-1)! > young.spread[0]!, 'and widens with the horizon');
  });
});
