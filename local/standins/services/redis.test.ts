// local/standins/services/redis.sh for real: up/status/down are idempotent, there is no persistence, and a client rides
// out a down/up (the outage other tests simulate). Uses its own port and cache dir, so a developer's instance
// on the default port is left alone. Installs redis-server with apt if it is missing (as the script does).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';

const SCRIPT = fileURLToPath(new URL('./redis.sh', import.meta.url));
const cache = mkdtempSync(join(tmpdir(), 'kubepulse-redis-test-'));
let port = 0;

function redisSh(command: string) {
  const out = spawnSync('bash', [SCRIPT, command], {
    env: { ...process.env, KUBEPULSE_CACHE: cache, KUBEPULSE_REDIS_PORT: String(port) },
    encoding: 'utf8',
    timeout: 180_000,
  });
  return { code: out.status, out: `${out.stdout}${out.stderr}` };
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const p = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return p;
}

before(async () => {
  port = await freePort();
});
after(() => {
  redisSh('down');
  rmSync(cache, { recursive: true, force: true });
});

test('up, up again, status, down, down again', () => {
  const up = redisSh('up');
  assert.equal(up.code, 0, up.out);
  assert.match(up.out, /started \(pid \d+\)/);
  const pidFile = join(cache, 'run', 'redis', 'redis.pid');
  assert.ok(existsSync(pidFile));
  const pid = readFileSync(pidFile, 'utf8').trim();

  const again = redisSh('up');
  assert.equal(again.code, 0, again.out);
  assert.match(again.out, new RegExp(`already running \\(pid ${pid}\\)`));
  assert.equal(redisSh('status').code, 0);

  const down = redisSh('down');
  assert.equal(down.code, 0, down.out);
  assert.match(down.out, new RegExp(`stopped \\(pid ${pid}\\)`));
  assert.equal(redisSh('status').code, 1);
  const downAgain = redisSh('down');
  assert.equal(downAgain.code, 0);
  assert.match(downAgain.out, /not running/);
});

test('loopback only, no persistence; a client reconnects after a down/up and finds no old data', async () => {
  assert.equal(redisSh('up').code, 0);
  const redis = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1, retryStrategy: () => 50 });
  redis.on('error', () => {}); // expected during the outage
  try {
    assert.deepEqual(await redis.config('GET', 'save'), ['save', '']);
    assert.deepEqual(await redis.config('GET', 'appendonly'), ['appendonly', 'no']);
    assert.deepEqual(await redis.config('GET', 'bind'), ['bind', '127.0.0.1']);
    await redis.set('kubepulse:test', 'v1');
    assert.equal(await redis.get('kubepulse:test'), 'v1');

    assert.equal(redisSh('down').code, 0);
    await assert.rejects(redis.get('kubepulse:test'));

    assert.equal(redisSh('up').code, 0);
    let value: string | null | undefined;
    for (let i = 0; i < 40; i++) {
      try {
        value = await redis.get('kubepulse:test');
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    assert.equal(value, null, 'reconnected, and nothing survived the restart');
  } finally {
    redis.disconnect();
  }
  assert.equal(redisSh('down').code, 0);
});
