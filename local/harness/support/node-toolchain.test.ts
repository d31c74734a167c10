import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { nodeForLambdaRuntime, pinnedNode } from './node-toolchain.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');

describe('the pinned Node toolchain', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kubepulse-node-toolchain-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const installed = join(dir, 'node');
  writeFileSync(installed, '');

  it('pins the major that serverless.yml deploys, with an integrity for each Linux build', () => {
    const pinned = pinnedNode();
    const runtime = /^\s+runtime:\s*nodejs(\d+)\.x\s*$/m.exec(
      readFileSync(join(ROOT, 'serverless.yml'), 'utf8'),
    );
    assert.ok(runtime, 'serverless.yml names a nodejs<major>.x runtime');
    assert.equal(pinned.major, Number(runtime[1]));
    const env = readFileSync(join(ROOT, 'local/toolchain/node.env'), 'utf8');
    for (const platform of ['linux_x64', 'linux_arm64'])
      assert.match(env, new RegExp(`^NODE_INTEGRITY_${platform}=sha512-[A-Za-z0-9+/]{86}==$`, 'm'));
  });

  it("types the oldest Node it supports, so tsc refuses APIs that Node lacks (engines' major = @types/node's)", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    const oldest = /^>=(\d+)(\.\d+)*$/.exec(pkg.engines.node)?.[1];
    assert.ok(oldest, `engines.node is >=<version>: ${pkg.engines.node}`);
    assert.match(pkg.devDependencies['@types/node'], new RegExp(`^\\^${oldest}\\.`));
    assert.ok(Number(oldest) <= pinnedNode().major, 'the pinned Node satisfies engines');
  });

  it('runs a sandbox on the pinned binary when its major is the runtime major', () => {
    const pinned = { version: '24.22.3', major: 24, binary: installed };
    assert.equal(
      nodeForLambdaRuntime('nodejs24.x', pinned, { execPath: '/x/node', version: 'v20.1.0' }),
      installed,
    );
  });

  it('falls back to the running node only when its major matches', () => {
    const notInstalled = { version: '24.22.3', major: 24, binary: join(dir, 'missing') };
    assert.equal(
      nodeForLambdaRuntime('nodejs24.x', notInstalled, { execPath: '/x/node', version: 'v24.1.0' }),
      '/x/node',
    );
    assert.throws(
      () => nodeForLambdaRuntime('nodejs24.x', notInstalled, { execPath: '/x/node', version: 'v22.19.0' }),
      /needs Node 24, but this is v22\.19\.0 .*run bash local\/setup\.sh/,
    );
  });

  it('refuses a runtime that is not Node, or a major nobody pinned', () => {
    const pinned = { version: '24.22.3', major: 24, binary: installed };
    assert.throws(() => nodeForLambdaRuntime('python3.13', pinned), /not a Node\.js runtime/);
    assert.throws(
      () => nodeForLambdaRuntime('nodejs22.x', pinned, { execPath: '/x/node', version: 'v24.1.0' }),
      /needs Node 22.*pin the runtime's major/,
    );
  });
});
