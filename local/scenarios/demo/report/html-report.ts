// The demo's HTML report: one self-contained page (inline SVG, no scripts, no network) with a plot per watched
// series — usage against its limit, the forecast band at each detection, the moments a failure was predicted, an
// incident opened, an action was applied and recovery was verified — and the timeline table per fault.

export interface PlotPoint {
  /** Unix seconds. */
  t: number;
  v: number;
}

export interface PlotForecast {
  /** When the forecast was made (unix seconds). */
  at: number;
  /** Horizon offsets in seconds after `at`. */
  horizonsSeconds: number[];
  values: number[];
  lower: number[];
  upper: number[];
}

export type MarkerKind =
  | 'fault'
  | 'detected'
  | 'predicted-failure'
  | 'action'
  | 'verified'
  | 'failure'
  | 'escalated';

export interface PlotMarker {
  t: number;
  kind: MarkerKind;
  label: string;
}

export interface SeriesPlot {
  title: string;
  /** The unit shown on the axis, e.g. 'MiB' or 'cores'; values are plotted as given. */
  unit: string;
  usage: PlotPoint[];
  /** The limit over time (a step line: raising it shows as a step). */
  limit: PlotPoint[];
  forecasts: PlotForecast[];
  markers: PlotMarker[];
}

export interface TimelineRow {
  fault: string;
  target: string;
  faultBeganAt: number | null;
  failurePredictedFor: number | null;
  detectedAt: number | null;
  leadTimeSeconds: number | null;
  plan: string;
  actionAppliedAt: number | null;
  recoveryVerifiedAt: number | null;
  outcome: string;
}

export interface ReportInput {
  title: string;
  generatedAt: Date;
  summary: Record<string, string | number>;
  timeline: TimelineRow[];
  plots: SeriesPlot[];
}

const MARKER_COLOURS: Record<MarkerKind, string> = {
  fault: '#8a8a8a',
  detected: '#d9480f',
  'predicted-failure': '#c92a2a',
  action: '#1971c2',
  verified: '#2b8a3e',
  failure: '#000000',
  escalated: '#9c36b5',
};

const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

export const clock = (t: number | null) =>
  t === null ? '—' : new Date(t * 1000).toISOString().slice(11, 19);

export const duration = (seconds: number | null) => {
  if (seconds === null) return '—';
  const sign = seconds < 0 ? '−' : '';
  const s = Math.abs(Math.round(seconds));
  return s >= 60 ? `${sign}${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${sign}${s}s`;
};

/** Round axis maximum: 1, 2 or 5 times a power of ten at or above `value`. */
function niceCeiling(value: number): number {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

export function renderPlot(plot: SeriesPlot, width = 960, height = 300): string {
  const margin = { left: 64, right: 16, top: 28, bottom: 36 };
  const innerW = width - margin.left - margin.right;
  const innerH = height - margin.top - margin.bottom;
  const forecastEnds = plot.forecasts.map((f) => f.at + (f.horizonsSeconds.at(-1) ?? 0));
  const times = [
    ...plot.usage.map((p) => p.t),
    ...plot.limit.map((p) => p.t),
    ...plot.markers.map((m) => m.t),
    ...forecastEnds,
  ];
  if (times.length === 0) return `<p>${escapeHtml(plot.title)}: no data</p>`;
  const t0 = Math.min(...times);
  const t1 = Math.max(...times, t0 + 1);
  const yMax = niceCeiling(
    Math.max(
      ...plot.usage.map((p) => p.v),
      ...plot.limit.map((p) => p.v),
      ...plot.forecasts.flatMap((f) => f.upper),
      0,
    ) * 1.05,
  );
  const x = (t: number) => margin.left + ((t - t0) / (t1 - t0)) * innerW;
  const y = (v: number) => margin.top + innerH - (Math.min(Math.max(v, 0), yMax) / yMax) * innerH;
  const path = (points: PlotPoint[]) =>
    points.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join('');
  const stepPath = (points: PlotPoint[]) => {
    if (points.length === 0) return '';
    const extended = [...points, { t: t1, v: points.at(-1)!.v }];
    return extended
      .map((p, i) =>
        i === 0 ? `M${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}` : `H${x(p.t).toFixed(1)}V${y(p.v).toFixed(1)}`,
      )
      .join('');
  };

  const grid: string[] = [];
  for (let i = 0; i <= 4; i++) {
    const v = (yMax * i) / 4;
    grid.push(
      `<line x1="${margin.left}" x2="${width - margin.right}" y1="${y(v)}" y2="${y(v)}" stroke="#e9ecef"/>`,
      `<text x="${margin.left - 6}" y="${y(v) + 4}" text-anchor="end" font-size="11" fill="#495057">${+v.toFixed(2)}</text>`,
    );
  }
  for (let i = 0; i <= 6; i++) {
    const t = t0 + ((t1 - t0) * i) / 6;
    grid.push(
      `<text x="${x(t)}" y="${height - 12}" text-anchor="middle" font-size="11" fill="#495057">${clock(t)}</text>`,
    );
  }

  const bands = plot.forecasts.map((f) => {
    const upper = f.horizonsSeconds.map((h, i) => ({ t: f.at + h, v: f.upper[i]! }));
    const lower = f.horizonsSeconds.map((h, i) => ({ t: f.at + h, v: f.lower[i]! })).reverse();
    const centre = [
      { t: f.at, v: f.values[0]! },
      ...f.horizonsSeconds.map((h, i) => ({ t: f.at + h, v: f.values[i]! })),
    ];
    return (
      `<path d="${path(upper)}${path(lower).replace('M', 'L')}Z" fill="#fd7e14" fill-opacity="0.15" stroke="none"/>` +
      `<path d="${path(centre.slice(1))}" fill="none" stroke="#fd7e14" stroke-dasharray="4 3" stroke-width="1.5"/>`
    );
  });

  const markers = plot.markers.map((m, i) => {
    const colour = MARKER_COLOURS[m.kind];
    const labelY = margin.top + 12 + (i % 4) * 13;
    // Near the right edge the label goes to the left of its line, so it is not cut off.
    const leftOfLine = x(m.t) > width - margin.right - 7 * m.label.length;
    return (
      `<line x1="${x(m.t)}" x2="${x(m.t)}" y1="${margin.top}" y2="${margin.top + innerH}" stroke="${colour}" stroke-width="1.5" stroke-dasharray="${m.kind === 'predicted-failure' ? '2 2' : '0'}"/>` +
      `<text x="${leftOfLine ? x(m.t) - 3 : x(m.t) + 3}" y="${labelY}" font-size="11" fill="${colour}" text-anchor="${leftOfLine ? 'end' : 'start'}">${escapeHtml(m.label)}</text>`
    );
  });

  return `<figure>
<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" role="img" aria-label="${escapeHtml(plot.title)}" style="background:#fff;border:1px solid #dee2e6">
<text x="${margin.left}" y="18" font-size="13" font-weight="600">${escapeHtml(plot.title)}</text>
<text x="14" y="${margin.top + innerH / 2}" font-size="11" transform="rotate(-90 14 ${margin.top + innerH / 2})" text-anchor="middle">${escapeHtml(plot.unit)}</text>
${grid.join('\n')}
${bands.join('\n')}
<path d="${stepPath(plot.limit)}" fill="none" stroke="#c92a2a" stroke-width="1.5"/>
<path d="${path(plot.usage)}" fill="none" stroke="#1c7ed6" stroke-width="1.8"/>
${markers.join('\n')}
</svg>
<figcaption>blue: usage · red: limit · orange: forecast with its 90% band · vertical lines: fault, detection, predicted failure, action, verification</figcaption>
</figure>`;
}

export function renderReport(input: ReportInput): string {
  const summary = Object.entries(input.summary)
    .map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(String(v))}</td></tr>`)
    .join('');
  const rows = input.timeline
    .map(
      (r) =>
        `<tr><td>${escapeHtml(r.fault)}</td><td>${escapeHtml(r.target)}</td><td>${clock(r.faultBeganAt)}</td>` +
        `<td>${clock(r.failurePredictedFor)}</td><td>${clock(r.detectedAt)}</td><td>${duration(r.leadTimeSeconds)}</td>` +
        `<td>${escapeHtml(r.plan)}</td><td>${clock(r.actionAppliedAt)}</td><td>${clock(r.recoveryVerifiedAt)}</td>` +
        `<td>${escapeHtml(r.outcome)}</td></tr>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(input.title)}</title>
<style>
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#212529;max-width:1000px}
table{border-collapse:collapse;margin:8px 0 20px}th,td{border:1px solid #dee2e6;padding:4px 8px;font-size:13px;text-align:left}
th{background:#f1f3f5}figure{margin:16px 0}figcaption{font-size:12px;color:#495057}
</style></head><body>
<h1>${escapeHtml(input.title)}</h1>
<p>Generated ${escapeHtml(input.generatedAt.toISOString())}</p>
<table>${summary}</table>
<h2>Timeline per fault</h2>
<table><tr><th>fault</th><th>target</th><th>fault began</th><th>failure predicted for</th><th>detected</th><th>lead time</th><th>plan</th><th>action applied</th><th>recovery verified</th><th>outcome</th></tr>
${rows}</table>
<h2>Series</h2>
${input.plots.map((p) => renderPlot(p)).join('\n')}
</body></html>`;
}
