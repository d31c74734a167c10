import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { MalformedMessageError, MessageTooLargeError } from '../errors.js';
import {
  Anomaly,
  COMPRESS_ABOVE_BYTES,
  decodeMessageBody,
  encodeMessageBody,
  groupForSendBatch,
  MAX_BODY_BYTES,
  RemediationAction,
  Sample,
  type SampleBatch,
  ShipperMessage,
  splitSampleBatch,
  UnixSeconds,
} from './index.js';

function sampleBatch(seriesCount: number, samplesPerSeries: number): SampleBatch {
  return {
    schemaVersion: 1,
    kind: 'sample-batch',
    clusterId: 'prod-eu-1',
    batchId: 'b-1',
    sentAt: '2026-11-21T10:00:00Z',
    stepSeconds: 30,
    series: Array.from({ length: seriesCount }, (_, s) => ({
      metric: 'memory_working_set_bytes' as const,
      namespace: 'shop',
      pod: `checkout-7d9f-${s}`,
      container: 'app',
      samples: Array.from(
        { length: samplesPerSeries },
        (_, i) => [1_700_000_000 + i * 30, 1e8 + i * 1234.5] as [number, number],
      ),
    })),
  };
}

describe('shipper message contract', () => {
  it('accepts a valid sample batch and refuses an unknown schema version', () => {
    const batch = sampleBatch(1, 3);
    assert.equal(ShipperMessage.parse(batch).kind, 'sample-batch');
    const future = { ...batch, schemaVersion: 2 };
    assert.equal(ShipperMessage.safeParse(future).success, false);
  });

  it('accepts a told value range only when its maximum exceeds its minimum', () => {
    const batch = sampleBatch(1, 3);
    const withRange = (valueRange: unknown) => ({ ...batch, series: [{ ...batch.series[0]!, valueRange }] });
    assert.equal(ShipperMessage.safeParse(withRange({ min: 0, max: 10 })).success, true);
    assert.equal(ShipperMessage.safeParse(withRange({ min: 10, max: 10 })).success, false);
    assert.equal(ShipperMessage.safeParse(withRange({ min: 0, max: Number.NaN })).success, false);
  });

  it('refuses a missing cluster id, a non-finite value and a bad namespace', () => {
    const { clusterId: _omit, ...withoutCluster } = sampleBatch(1, 1);
    assert.equal(ShipperMessage.safeParse(withoutCluster).success, false);
    const nan = sampleBatch(1, 1);
    nan.series[0]!.samples[0]![1] = Number.NaN;
    assert.equal(ShipperMessage.safeParse(nan).success, false);
    const badNs = sampleBatch(1, 1);
    badNs.series[0]!.namespace = 'Kube_System';
    assert.equal(ShipperMessage.safeParse(badNs).success, false);
  });
});

describe('sample pair', () => {
  // The schema Sample replaced for speed: the new one must accept and refuse exactly the same inputs.
  const TupleSample = z.tuple([UnixSeconds, z.number().finite()]);
  const candidates: unknown[] = [
    [1_700_000_000, 1.5],
    [0, 0],
    [0, -3],
    [-0, 7],
    [4_102_444_800, 1e308],
    [4_102_444_801, 1],
    [-1, 1],
    [1.5, 1],
    [1_700_000_000, Number.NaN],
    [1_700_000_000, Number.POSITIVE_INFINITY],
    [1_700_000_000, Number.NEGATIVE_INFINITY],
    [Number.NaN, 1],
    [Number.POSITIVE_INFINITY, 1],
    [Number.MAX_SAFE_INTEGER + 2, 1],
    ['1700000000', 1],
    [1_700_000_000, '1'],
    [1_700_000_000, null],
    [null, 1],
    [1_700_000_000, true],
    [1_700_000_000, 1n],
    [1_700_000_000],
    [1_700_000_000, 1, 2],
    [],
    [[1_700_000_000, 1]],
    { 0: 1_700_000_000, 1: 1, length: 2 },
    '1700000000,1',
    1_700_000_000,
    null,
    undefined,
  ];

  for (const candidate of candidates) {
    it(`treats ${String(candidate)} (${JSON.stringify(candidate, (_, v) => (typeof v === 'bigint' ? `${v}n` : v))}) as the tuple schema did`, () => {
      assert.equal(Sample.safeParse(candidate).success, TupleSample.safeParse(candidate).success);
    });
  }

  it('refuses non-finite values, fractional, negative and far-future times, wrong arity and strings', () => {
    for (const bad of [
      [1_700_000_000, Number.NaN],
      [1_700_000_000, Number.POSITIVE_INFINITY],
      [1.5, 1],
      [-30, 1],
      [4_102_444_801, 1],
      [1_700_000_000],
      [1_700_000_000, 1, 2],
      ['1700000000', 1],
      [1_700_000_000, '1'],
    ]) {
      assert.equal(Sample.safeParse(bad).success, false, JSON.stringify(bad));
    }
  });

  it('points at the bad sample inside a batch', () => {
    const result = ShipperMessage.safeParse({
      ...sampleBatch(1, 3),
      series: [
        {
          ...sampleBatch(1, 3).series[0]!,
          samples: [
            [1_700_000_000, 1],
            [1_700_000_030, 'x'],
          ],
        },
      ],
    });
    assert.equal(result.success, false);
    assert.deepEqual(result.error?.issues[0]?.path, ['series', 0, 'samples', 1]);
  });
});

describe('wire encoding', () => {
  it('leaves small bodies as plain JSON and round-trips them', () => {
    const batch = sampleBatch(1, 5);
    const body = encodeMessageBody(batch);
    assert.ok(Buffer.byteLength(body) <= COMPRESS_ABOVE_BYTES);
    assert.deepEqual(JSON.parse(body), batch);
    assert.deepEqual(decodeMessageBody(body), batch);
  });

  it('compresses large bodies and round-trips them', () => {
    const batch = sampleBatch(40, 120);
    const plain = JSON.stringify(batch);
    const body = encodeMessageBody(batch);
    assert.ok(Buffer.byteLength(plain) > COMPRESS_ABOVE_BYTES);
    assert.ok(body.length < plain.length / 2, `compressed ${body.length} vs plain ${plain.length}`);
    assert.deepEqual(decodeMessageBody(body), batch);
  });

  it('refuses a body that is not JSON, and a compressed body that does not inflate', () => {
    assert.throws(() => decodeMessageBody('{nope'), MalformedMessageError);
    assert.throws(
      () => decodeMessageBody(JSON.stringify({ encoding: 'gzip+base64', data: 'bm90IGd6aXA=' })),
      MalformedMessageError,
    );
  });

  it('splits a batch too large for one message into parts that each fit and lose nothing', () => {
    // Random values compress poorly, so this needs several messages.
    const batch = sampleBatch(200, 200);
    let seed = 7;
    for (const series of batch.series) {
      for (const sample of series.samples) {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        sample[1] = seed / 7.3;
      }
    }
    assert.throws(() => encodeMessageBody(batch), MessageTooLargeError);
    const parts = splitSampleBatch(batch);
    assert.ok(parts.length > 1);
    for (const part of parts) assert.ok(Buffer.byteLength(encodeMessageBody(part)) <= MAX_BODY_BYTES);
    assert.equal(new Set(parts.map((p) => p.batchId)).size, parts.length);
    const samplesIn = batch.series.reduce((n, s) => n + s.samples.length, 0);
    const samplesOut = parts.reduce((n, p) => n + p.series.reduce((m, s) => m + s.samples.length, 0), 0);
    assert.equal(samplesOut, samplesIn);
  });

  it('splits one oversized series by its samples', () => {
    const batch = sampleBatch(1, 4000);
    const parts = splitSampleBatch(batch, 20_000);
    assert.ok(parts.length > 1);
    assert.equal(
      parts.reduce((n, p) => n + p.series[0]!.samples.length, 0),
      4000,
    );
  });

  it('groups send-batch entries by count and total size', () => {
    const entries = Array.from({ length: 25 }, (_, i) => ({ id: String(i), body: 'x'.repeat(30_000) }));
    const groups = groupForSendBatch(entries);
    for (const group of groups) {
      assert.ok(group.length <= 10);
      assert.ok(group.reduce((n, e) => n + e.body.length, 0) <= 262_144);
    }
    assert.equal(groups.flat().length, 25);
  });
});

describe('anomaly and remediation contracts', () => {
  it('refuses a remediation action that is not in the union', () => {
    assert.equal(
      RemediationAction.safeParse({ action: 'delete-namespace', namespace: 'shop' }).success,
      false,
    );
    assert.equal(
      RemediationAction.safeParse({
        action: 'scale',
        namespace: 'shop',
        kind: 'Deployment',
        name: 'web',
        replicas: 3,
      }).success,
      true,
    );
  });

  it('requires a deterministic id and cluster on an event anomaly', () => {
    const event = {
      schemaVersion: 1,
      kind: 'anomaly',
      source: 'event',
      clusterId: 'dev',
      anomalyId: 'a1',
      incidentId: 'i1',
      status: 'opened',
      detectedAt: '2026-11-21T10:00:00Z',
      target: { namespace: 'shop', pod: 'web-1' },
      inventory: null,
      event: {
        eventId: 'e1',
        reason: 'OOMKilled',
        observedAt: '2026-11-21T10:00:00Z',
        namespace: 'shop',
        pod: 'web-1',
      },
    };
    assert.equal(Anomaly.parse(event).source, 'event');
    assert.equal(Anomaly.safeParse({ ...event, anomalyId: '' }).success, false);
  });
});
