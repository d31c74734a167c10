import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { shortId } from './ids.js';

describe('shortId', () => {
  it('is the leading hex digits of the text’s SHA-256', () => {
    // sha256('abc') = ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
    assert.equal(shortId('abc', 24), 'ba7816bf8f01cfea414140de');
    assert.equal(shortId('abc', 64), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    assert.equal(shortId('abc', 16), shortId('abc', 32).slice(0, 16));
    assert.notEqual(shortId('abd', 24), shortId('abc', 24));
  });
});
