import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { SQSEvent } from 'aws-lambda';
import { nodeForLambdaRuntime } from '../support/node-toolchain.js';
import { FunctionSandbox } from './packaged-stack.js';

// A tiny bundled handler, laid out as in a package: the sandbox must load `<dir>/<module>.mjs` and call the export.
const taskRoot = mkdtempSync(join(tmpdir(), 'kubepulse-sandbox-'));
mkdirSync(join(taskRoot, 'fn'));
writeFileSync(
  join(taskRoot, 'fn/handler.mjs'),
  `let calls = 0;
   export const handler = async (event, context) => {
     calls += 1;
     const body = event.Records[0].body;
     if (body === 'hang') await new Promise(() => setInterval(() => {}, 1000));
     if (body === 'throw') throw new TypeError('bad record');
     return { calls, remaining: context.getRemainingTimeInMillis() > 0, env: process.env.ONLY_THIS ?? null,
              leaked: process.env.KUBEPULSE_SANDBOX_LEAK ?? null };
   };`,
);
const event = (body: string) => ({ Records: [{ body }] }) as unknown as SQSEvent;

describe('FunctionSandbox (one Lambda execution environment per function)', () => {
  process.env.KUBEPULSE_SANDBOX_LEAK = 'parent-only';
  const sandbox = new FunctionSandbox(
    'probe',
    taskRoot,
    'fn/handler.handler',
    { ONLY_THIS: 'yes' },
    1500,
    128,
  );
  after(async () => {
    await sandbox.stop();
    rmSync(taskRoot, { recursive: true, force: true });
  });

  it('starts cold once, stays warm, and sees only the environment it was given', async () => {
    const first = (await sandbox.invoke(event('ok'))) as unknown as Record<string, unknown>;
    const second = (await sandbox.invoke(event('ok'))) as unknown as Record<string, unknown>;
    assert.deepEqual(first, { calls: 1, remaining: true, env: 'yes', leaked: null });
    assert.equal(second.calls, 2, 'module state survives between warm invocations');
    assert.equal(sandbox.coldStarts, 1);
  });

  it('reports a handler error without losing the environment', async () => {
    await assert.rejects(sandbox.invoke(event('throw')), /bad record/);
    const next = (await sandbox.invoke(event('ok'))) as unknown as Record<string, unknown>;
    assert.equal(next.calls, 4);
    assert.equal(sandbox.coldStarts, 1);
  });

  it('kills an invocation that overruns its timeout; the next one starts cold', async () => {
    await assert.rejects(sandbox.invoke(event('hang')), /Task timed out after 1.50 seconds/);
    const next = (await sandbox.invoke(event('ok'))) as unknown as Record<string, unknown>;
    assert.equal(next.calls, 1, 'a fresh runtime: module state is gone');
    assert.equal(sandbox.coldStarts, 2);
  });
});

describe('a sandbox runs the Node major that serverless.yml deploys', () => {
  const serverlessYml = readFileSync(new URL('../../../serverless.yml', import.meta.url), 'utf8');
  const runtime = /^\s+runtime:\s*(nodejs\d+\.x)\s*$/m.exec(serverlessYml)?.[1] ?? 'none';
  const major = runtime.replace(/^nodejs(\d+)\.x$/, '$1');
  const root = mkdtempSync(join(tmpdir(), 'kubepulse-sandbox-version-'));
  writeFileSync(join(root, 'probe.mjs'), 'export const handler = async () => process.version;');
  const sandbox = new FunctionSandbox(
    'version-probe',
    root,
    'probe.handler',
    {},
    5000,
    128,
    undefined,
    nodeForLambdaRuntime(runtime),
  );
  after(async () => {
    await sandbox.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it(`${runtime}: the runtime reports v${major}.x`, async () => {
    const version = (await sandbox.invoke(event('ok'))) as unknown as string;
    assert.match(version, new RegExp(`^v${major}\\.`));
    assert.equal(sandbox.nodeVersion, version, 'the ready message names the same node');
  });
});
