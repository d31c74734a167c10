// The standalone emulator (`npx tsx local/standins/sqs/emulator.ts up|down|status`): a background process with a pidfile,
// idempotent up/down. Own port and cache dir, so a developer's instance on 9324 is left alone.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ListQueuesCommand } from '@aws-sdk/client-sqs';
import { localSqsClient } from './client.js';
import { infraQueues } from './emulator.js';

const SCRIPT = fileURLToPath(new URL('./emulator.ts', import.meta.url));
const cache = mkdtempSync(join(tmpdir(), 'kubepulse-sqs-cli-test-'));
let port = 0;

function cli(command: string) {
  const out = spawnSync(process.execPath, ['--import', 'tsx', SCRIPT, command], {
    env: {
      ...process.env,
      KUBEPULSE_CACHE: cache,
      KUBEPULSE_SQS_PORT: String(port),
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: out.status, out: `${out.stdout}${out.stderr}` };
}

after(() => {
  cli('down');
  rmSync(cache, { recursive: true, force: true });
});

test('up / up again / status / down / down again', async () => {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));

  const up = cli('up');
  assert.equal(up.code, 0, up.out);
  assert.match(up.out, new RegExp(`started \\(pid \\d+\\) at http://127\\.0\\.0\\.1:${port}`));
  const runDir = join(cache, 'run', 'sqs');
  const state = JSON.parse(readFileSync(join(runDir, 'queues.json'), 'utf8'));
  assert.equal(state.endpoint, `http://127.0.0.1:${port}`);
  assert.ok(state.queueUrls.remediations.endsWith('kubepulse-local-remediations-local.fifo'));

  const sqs = localSqsClient(state.endpoint);
  try {
    const listed = await sqs.send(new ListQueuesCommand({ QueueNamePrefix: 'kubepulse-local-' }));
    assert.equal(
      listed.QueueUrls?.length,
      2 * infraQueues.clusterQueues().length,
      'every queue of infra/queues.cjs and its DLQ',
    );
  } finally {
    sqs.destroy();
  }

  const again = cli('up');
  assert.equal(again.code, 0, again.out);
  assert.match(again.out, new RegExp(`already running \\(pid ${state.pid}\\)`));
  assert.equal(cli('status').code, 0);

  const down = cli('down');
  assert.equal(down.code, 0, down.out);
  assert.match(down.out, new RegExp(`stopped \\(pid ${state.pid}\\)`));
  assert.equal(existsSync(join(runDir, 'sqs.pid')), false);
  assert.match(cli('down').out, /not running/);
  assert.equal(cli('status').code, 1);
});
