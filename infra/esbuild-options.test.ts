import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { DEPLOYED_BUNDLE_OPTIONS } from './esbuild-options.js';

/** serverless.yml's `custom.esbuild` block, as `key: value` text lines (two-space nested, as written there). */
function serverlessEsbuildBlock(): Map<string, string> {
  const lines = readFileSync(new URL('../serverless.yml', import.meta.url), 'utf8').split('\n');
  const start = lines.indexOf('  esbuild:');
  assert.ok(start >= 0, 'serverless.yml has custom.esbuild');
  const block = new Map<string, string>();
  for (const line of lines.slice(start + 1)) {
    if (!line.startsWith('    ')) break;
    const match = /^ {4,6}([A-Za-z_]+):\s*(.*)$/.exec(line);
    if (match) block.set(match[1]!, match[2]!);
  }
  return block;
}

describe('one set of esbuild settings for everything deployed', () => {
  it("serverless.yml's custom.esbuild matches DEPLOYED_BUNDLE_OPTIONS", () => {
    const block = serverlessEsbuildBlock();
    const { banner, define, mainFields, logLevel: _logLevel, ...scalars } = DEPLOYED_BUNDLE_OPTIONS;
    for (const [key, value] of Object.entries(scalars)) assert.equal(block.get(key), String(value), key);
    assert.equal(block.get('mainFields'), `[${mainFields.join(', ')}]`);
    assert.equal(block.get('js'), JSON.stringify(banner.js));
    for (const [key, value] of Object.entries(define)) assert.equal(block.get(key), value, `define ${key}`);
  });
});
