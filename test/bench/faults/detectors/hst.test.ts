import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hstPython, hstScores } from './hst.js';

describe('Half-Space Trees baseline (river, pinned venv)', () => {
  it('scores online and reproducibly, nothing during its first window, a jump to unseen usage above the steady level', async () => {
    const python = await hstPython();
    const steady = Array.from({ length: 600 }, (_, i) => 0.4 + 0.01 * Math.sin(i / 3));
    const jump = [...steady, ...Array.from({ length: 20 }, () => 0.9)];
    const inputs = [
      { id: 'steady', normalised: steady },
      { id: 'jump', normalised: jump },
    ];
    const first = await hstScores(python, inputs);
    const second = await hstScores(python, inputs);
    assert.deepEqual(first, second);
    const scores = first.get('jump')!;
    assert.equal(scores.length, 620);
    assert.ok(
      scores.subarray(0, 250).every((s) => s === 0),
      'river scores 0 until its first window is full',
    );
    assert.deepEqual(Array.from(scores.subarray(0, 600)), Array.from(first.get('steady')!), 'no look-ahead');
    const steadyMax = Math.max(...scores.subarray(300, 600));
    assert.ok(scores[600]! > steadyMax, `jump ${scores[600]} vs steady max ${steadyMax}`);
  });
});
