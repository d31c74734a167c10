import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PodSeries } from './generator.js';
import { judgeSeries, percentile, summarise } from './metrics.js';
import { calibrateThreshold, matchRecall } from './threshold.js';

const DAY = 2880;
function series(id: string, length: number, labels: { onset: number; failure: number } | null): PodSeries {
  return {
    id,
    shape: labels ? 'leak_power' : 'diurnal',
    faulty: labels !== null,
    resource: 'memory',
    startAt: 0,
    stepSeconds: 30,
    values: new Float64Array(length).fill(1),
    limits: new Float64Array(length).fill(10),
    onsetIndex: labels?.onset ?? null,
    failureIndex: labels?.failure ?? null,
  };
}

describe('bench:faults metrics', () => {
  it('percentiles interpolate linearly between order statistics, as numpy does', () => {
    assert.equal(percentile([4, 1, 3, 2], 0.5), 2.5);
    assert.ok(Math.abs(percentile([4, 1, 3, 2], 0.1)! - 1.3) < 1e-12);
    assert.equal(percentile([7], 0.1), 7);
    assert.equal(percentile([], 0.5), null);
  });

  it('counts an alert from onset to just before the failure as a prediction, earlier ones as false, later ones not at all', () => {
    const s = series('f', 1000, { onset: 400, failure: 1000 }); // onset at 12000 s, failure at 30000 s
    assert.deepEqual(judgeSeries(s, [100, 11_990, 20_000, 25_000, 30_000]), {
      id: 'f',
      shape: 'leak_power',
      faulty: true,
      podDays: 1000 / DAY,
      alerts: 5,
      leadTimeSeconds: 10_000,
      falseIncidents: 2,
    });
    assert.equal(judgeSeries(s, [12_000]).leadTimeSeconds, 18_000, 'an alert at the onset counts');
    assert.equal(judgeSeries(s, [30_000]).leadTimeSeconds, null, 'an alert at the failure is too late');
    assert.equal(judgeSeries(series('b', 100, null), [0, 50, 90]).falseIncidents, 3);
  });

  it('summarises recall, lead-time percentiles and false incidents per 100 benign pod-days', () => {
    const suite = [
      series('f1', 1000, { onset: 400, failure: 1000 }),
      series('f2', 1000, { onset: 400, failure: 1000 }),
      series('f3', 1000, { onset: 400, failure: 1000 }),
      series('b1', 2 * DAY, null),
      series('b2', 3 * DAY, null),
    ];
    const alerts: Record<string, number[]> = { f1: [29_000], f2: [0, 20_000], f3: [], b1: [5, 6], b2: [7] };
    const figures = summarise(
      suite,
      suite.map((s) => judgeSeries(s, alerts[s.id]!)),
    );
    assert.equal(figures.recall, 0.667);
    assert.equal(figures.predicted, 2);
    assert.equal(figures.lead_time_median_s, 5500);
    assert.equal(figures.lead_time_p10_s, 1900);
    assert.equal(figures.false_incidents_benign, 3);
    assert.equal(figures.false_incidents_per_100_pod_days, 60);
    assert.equal(figures.pre_onset_false_incidents, 1);
    assert.equal(
      figures.pre_onset_false_per_100_pod_days,
      Number(((100 * 1) / ((3 * 400) / DAY)).toFixed(2)),
    );
    // 3 false incidents in 5 days; each fault lasts 600 samples = 5 h
    assert.equal(figures.chance_recall, Number((1 - Math.exp(-(3 / 5) * (5 / 24))).toFixed(3)));
  });

  it('calibrates one threshold for a whole suite: best recall within the false-incident budget', () => {
    const suite = [series('f', 1000, { onset: 400, failure: 1000 }), series('b', 2 * DAY, null)];
    const fault = new Float64Array(1000).fill(0.2);
    fault.fill(0.8, 600, 700); // the fault scores 0.8 for 50 min
    const benign = new Float64Array(2 * DAY).fill(0.2);
    benign.fill(0.7, 100, 200); // one benign episode at 0.7
    const scores = new Map([
      ['f', fault],
      ['b', benign],
    ]);
    const strict = calibrateThreshold(suite, scores, 0, 120);
    assert.ok(strict.threshold > 0.7 && strict.threshold <= 0.8, `threshold ${strict.threshold}`);
    assert.equal(strict.figures.recall, 1);
    const loose = calibrateThreshold(suite, scores, 100, 120);
    assert.ok(loose.threshold > 0.7 && loose.threshold <= 0.8, 'ties in recall go to the higher threshold');
  });

  it('matches a recall at the highest threshold that reaches it, or reports the best recall it can reach', () => {
    const suite = [series('f', 1000, { onset: 400, failure: 1000 }), series('b', 2 * DAY, null)];
    const fault = new Float64Array(1000).fill(0.2);
    fault.fill(0.6, 600, 700);
    const benign = new Float64Array(2 * DAY).fill(0.2);
    benign.fill(0.7, 100, 200); // louder than the fault: finding the fault costs a false incident
    const scores = new Map([
      ['f', fault],
      ['b', benign],
    ]);
    const matched = matchRecall(suite, scores, 1, 120);
    assert.ok(matched.threshold > 0.5 && matched.threshold <= 0.6, `threshold ${matched.threshold}`);
    assert.equal(matched.figures.recall, 1);
    assert.equal(matched.figures.false_incidents_benign, 1);
    const silent = new Map([
      ['f', new Float64Array(1000).fill(0.1)],
      ['b', benign],
    ]);
    assert.equal(matchRecall(suite, silent, 1, 120).figures.recall, 0);
  });
});
