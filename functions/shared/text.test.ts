import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clip, clipCodePoints } from './text.js';

describe('clipping text', () => {
  it('keeps text that fits and marks a cut with an ellipsis, within the limit', () => {
    assert.equal(clip('abcdef', 6), 'abcdef');
    assert.equal(clip('abcdefg', 6), 'abcde…');
    assert.equal(clipCodePoints('abcdefg', 6), 'abcde…');
  });

  it('counts UTF-16 code units in clip and code points in clipCodePoints', () => {
    const rockets = '🚀🚀🚀🚀';
    assert.equal(clip(rockets, 4), '🚀\ud83d…');
    assert.equal(clipCodePoints(rockets, 4), rockets);
    assert.equal(clipCodePoints(rockets, 3), '🚀🚀…');
  });
});
