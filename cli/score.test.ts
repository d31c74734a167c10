import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { OPEN_SCORE } from '../functions/inference/core/unusual/episode.js';
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
    // The spike is far outside every shape the series has made: unusual enough to open an episode.
    assert.ok(scores[250]! >= OPEN_SCORE, `spike scored ${scores[250]}`);
    assert.ok(steady.at(-1)! < 0.3, `steady rows scored up to ${steady.at(-1)}`);
    const opened = fullRows.flatMap((r, i) => (r[3] === '1' ? [i] : []));
    assert.deepEqual(opened, [250], 'one unusual-behaviour incident, at the spike');
    assert.equal(fullRows[250]![6], 'unusual-behaviour');
  });

  it('scores time to a limit from a limit column or --limit, through the same core, and writes every column', async () => {
    // A container at 40 % of a 1 GiB limit that starts leaking at row 150 and would reach the limit near row 290,
    // sampled every 30 s; the limit column is empty on some rows, where --limit (the same 1 GiB) applies.
    const GiB = 1024 ** 3;
    const lines = ['timestamp,value,limit'];
    for (let i = 0; i < 280; i++) {
      const ts = new Date(Date.UTC(2026, 0, 1) + i * 30_000).toISOString();
      const share = 0.4 + 0.003 * Math.sin(i * 1.3) + (i >= 150 ? (0.6 * (i - 150)) / 140 : 0);
      lines.push(`${ts},${Math.round(share * GiB)},${i % 7 === 0 ? '' : GiB}`);
    }
    const input = join(dir, 'limit', 'pods');
    mkdirSync(input, { recursive: true });
    writeFileSync(join(input, 'leak.csv'), `${lines.join('\n')}\n`);

    await scoreFiles({
      inputs: [join(dir, 'limit')],
      outDir: join(dir, 'out-limit'),
      redisUrl: redis.url,
      limit: GiB,
    });
    const text = readFileSync(join(dir, 'out-limit', 'kubepulse', 'pods', 'kubepulse_leak.csv'), 'utf8');
    const [header, ...rows] = text.trim().split('\n');
    assert.equal(header, 'timestamp,value,anomaly_score,incident,forecast,seconds_to_limit,reason');
    const cells = rows.map((r) => r.split(','));
    assert.equal(cells.length, 280);
    const opened = cells.map((c, i) => (c[3] === '1' ? i : -1)).filter((i) => i >= 0);
    assert.ok(opened.length >= 1, 'an incident opens');
    assert.ok(
      opened.every((i) => i >= 150),
      `none before the leak: ${opened}`,
    );
    assert.ok(opened[0]! < 270, `opened before the limit (row ${opened[0]})`);
    const first = cells[opened[0]!]!;
    assert.ok(first[6]!.length > 0, 'the row that opened says why');
    assert.ok(
      cells.slice(0, 100).every((c) => c[5] === ''),
      'no time to the limit while steady',
    );
    const ttl = cells.slice(250).map((c) => Number(c[5]));
    assert.ok(
      ttl.some((t) => t > 0 && t < 1800),
      `a time to the limit near the end: ${ttl.slice(0, 5)}`,
    );
    assert.ok(
      cells.slice(9).every((c) => c[4] !== ''),
      'a forecast from the tenth row on',
    );
    assert.ok(Number(cells[200]![4]) > Number(cells[200]![1]), 'the forecast of a leak lies above its value');
  });
});
