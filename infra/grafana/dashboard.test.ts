import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { buildDashboard, rows } from './dashboard.js';

/** Every metric name the TypeScript code registers with prom-client. */
function exportedMetricNames(): Set<string> {
  const names = new Set<string>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
      else if (path.endsWith('.ts') && !path.endsWith('.test.ts')) {
        for (const match of readFileSync(path, 'utf8').matchAll(/'(kubepulse_[a-z_]+)'/g))
          names.add(match[1]!);
      }
    }
  };
  walk('functions');
  return names;
}

describe('Grafana dashboard', () => {
  it('is committed exactly as the builder makes it', () => {
    const committed = readFileSync('infra/grafana/kubepulse-dashboard.json', 'utf8');
    assert.equal(committed, `${JSON.stringify(buildDashboard(), null, 2)}\n`, 'run: npm run dashboard');
  });

  it('queries only metrics the code exports (histograms through their _bucket series)', () => {
    const exported = exportedMetricNames();
    const expressions = rows.flatMap((row) =>
      row.panels.flatMap((panel) => panel.targets.map((t) => t.expr)),
    );
    const used = new Set(
      expressions.flatMap((expr) => [...expr.matchAll(/\b(kubepulse_[a-z_]+)/g)].map((m) => m[1]!)),
    );
    assert.ok(used.size >= 20, `only ${used.size} metrics used`);
    const missing = [...used].filter(
      (name) => !exported.has(name) && !exported.has(name.replace(/_bucket$/, '')),
    );
    assert.deepEqual(missing, []);
  });

  it('lays panels out without overlap on the 24-column grid', () => {
    const panels = buildDashboard().panels as Array<{
      gridPos: { x: number; y: number; w: number; h: number };
    }>;
    const cells = new Set<string>();
    for (const { gridPos } of panels) {
      assert.ok(gridPos.x + gridPos.w <= 24);
      for (let x = gridPos.x; x < gridPos.x + gridPos.w; x++)
        for (let y = gridPos.y; y < gridPos.y + gridPos.h; y++) {
          assert.ok(!cells.has(`${x},${y}`), `overlap at ${x},${y}`);
          cells.add(`${x},${y}`);
        }
    }
  });
});
