import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PrivateRedisServer } from '../local/harness/support/redis-server.js';
import { scoreFiles } from './score.js';

function series(rows: number, spikeAt: number): string {
  const lines = ['timestamp,value'];
  for (let i = 0; i < rows; i++) {
    const ts = new Date(Date.UTC(2026, 0, 1) + i * 300_000).toISOString().slice(0, 19).replace('T', ' ');
    const value = 50 + 2 * Math.sin(i * 1.7) + (i === spikeAt ? 60 : 0);
    lines.push(`${ts},${value.toFixed(3)}`);
  }
  return `${lines.join('\n')}\n`;
}

const readScores = (path: string) =>
  readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => line.split(','));

describe('kubepulse score', () => {
  let dir: string;
  let redis: PrivateRedisServer;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kubepulse-score-'));
    redis = await PrivateRedisServer.start();
  });
  after(async () => {
    await redis.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes one score per row in NAB’s layout, never looking ahead, and scores a spike above steady rows', async () => {
    const full = join(dir, 'full', 'demo');
    // Another category, so the prefix is a different series with its own state in the same Redis.
    const prefix = join(dir, 'prefix', 'demo-prefix');
    mkdirSync(full, { recursive: true });
    mkdirSync(prefix, { recursive: true });
    const text = series(300, 250);
    writeFileSync(join(full, 'cpu.csv'), text);
    writeFileSync(join(prefix, 'cpu.csv'), `${text.split('\n').slice(0, 201).join('\n')}\n`);

    await scoreFiles({
      inputs: [join(dir, 'full')],
      outDir: join(dir, 'out-full'),
      redisUrl: redis.url,
      rowsPerChunk: 7,
    });
    const fullRows = readScores(join(dir, 'out-full', 'kubepulse', 'demo', 'kubepulse_cpu.csv'));
    assert.equal(fullRows.length, 300);
    assert.deepEqual(
      fullRows.map((r) => `${r[0]},${r[1]}`),
      text.trim().split('\n').slice(1),
      'timestamps and values repeated exactly',
    );
    const scores = fullRows.map((r) => Number(r[2]));
    assert.ok(scores.every((s) => s >= 0 && s <= 1));
    assert.ok(
      scores.slice(0, 63).every((s) => s === 0),
      'no score before a full window',
    );

    await scoreFiles({
      inputs: [join(dir, 'prefix')],
      outDir: join(dir, 'out-prefix'),
      redisUrl: redis.url,
      rowsPerChunk: 13,
    });
    const prefixScores = readScores(
      join(dir, 'out-prefix', 'kubepulse', 'demo-prefix', 'kubepulse_cpu.csv'),
    ).map((r) => Number(r[2]));
    assert.equal(prefixScores.length, 200);
    assert.deepEqual(
      prefixScores,
      scores.slice(0, 200),
      'a row’s score does not depend on later rows or chunking',
    );

    const steady = scores.slice(100, 240).sort((a, b) => a - b);
    const median = steady[Math.floor(steady.length / 2)]!;
    assert.ok(scores[250]! > median, `spike ${scores[250]} vs steady median ${median}`);
    // The spike is a one-in-a-trillion value against the series' history: surprise at its onset is full.
    assert.ok(scores[250]! > 0.9, `spike scored ${scores[250]}`);
    assert.ok(steady.at(-1)! < 0.3, `steady rows scored up to ${steady.at(-1)}`);
  });
});
