import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { bundleComponent, COMPONENTS } from './bundle.js';

const dir = mkdtempSync(join(tmpdir(), 'kubepulse-images-'));

describe('in-cluster component bundles (what the images run)', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const component of COMPONENTS) {
    it(`${component}: the bundle loads every dependency and refuses a missing configuration clearly`, async () => {
      const bundle = await bundleComponent(component, join(dir, component));
      // An empty environment: every import must resolve inside the bundle (no node_modules beside it), and the
      // process must stop at its configuration with a readable list, not a stack trace through minified code.
      const run = promisify(execFile)(process.execPath, [bundle], { cwd: dir, env: {}, timeout: 30_000 });
      const failure = await run.then(
        () => assert.fail('started without configuration'),
        (error: { code: number; stderr: string }) => error,
      );
      assert.equal(failure.code, 1);
      assert.match(failure.stderr, new RegExp(`^kubepulse-${component}: invalid configuration:\\n`));
      assert.match(failure.stderr, /CLUSTER_ID/);
      assert.doesNotMatch(failure.stderr, /at .*main\.mjs/);
    });
  }
});
