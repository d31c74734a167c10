import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { duration, renderPlot, renderReport, type SeriesPlot } from './html-report.js';

const plot: SeriesPlot = {
  title: 'shop/cart <memory>',
  unit: 'MiB',
  usage: Array.from({ length: 20 }, (_, i) => ({ t: 1000 + 30 * i, v: 300 + 20 * i })),
  limit: [
    { t: 1000, v: 700 },
    { t: 1450, v: 1050 },
  ],
  forecasts: [
    { at: 1300, horizonsSeconds: [60, 300], values: [520, 600], lower: [500, 560], upper: [540, 640] },
  ],
  markers: [{ t: 1300, kind: 'detected', label: 'detected <lead 4m>' }],
};

describe('HTML report', () => {
  it('draws usage, a stepped limit, the forecast band and escaped markers', () => {
    const svg = renderPlot(plot);
    assert.match(svg, /<path d="M[\d.]+,[\d.]+(L[\d.]+,[\d.]+){19}" fill="none" stroke="#1c7ed6"/);
    assert.match(svg, /stroke="#c92a2a" stroke-width="1.5"/);
    assert.match(svg, /H[\d.]+V[\d.]+H[\d.]+V[\d.]+/, 'the raised limit is a step');
    assert.match(svg, /fill="#fd7e14" fill-opacity="0.15"/);
    assert.match(svg, /detected &lt;lead 4m&gt;/);
    assert.doesNotMatch(svg, /NaN|Infinity/);
  });

  it('lays out the timeline per fault with lead times', () => {
    const html = renderReport({
      title: 'kubepulse demo',
      generatedAt: new Date(0),
      summary: { faults: 1 },
      timeline: [
        {
          fault: 'memory leak',
          target: 'shop/cart',
          faultBeganAt: 1000,
          failurePredictedFor: 1900,
          detectedAt: 1300,
          leadTimeSeconds: 600,
          plan: 'set-resources memory 1.5×',
          actionAppliedAt: 1320,
          recoveryVerifiedAt: 1400,
          outcome: 'recovered',
        },
      ],
      plots: [plot],
    });
    assert.match(html, /<td>memory leak<\/td><td>shop\/cart<\/td><td>00:16:40<\/td>/);
    assert.match(html, /<td>10m00s<\/td>/);
    assert.equal((html.match(/<svg /g) ?? []).length, 1);
    assert.equal(duration(-75), '−1m15s');
  });
});
