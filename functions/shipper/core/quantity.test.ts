import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseQuantity } from './quantity.js';

describe('Kubernetes quantities', () => {
  const cases: Array<[string, number | undefined]> = [
    ['500m', 0.5],
    ['2', 2],
    ['1.5', 1.5],
    ['128Mi', 128 * 2 ** 20],
    ['1.5Gi', 1.5 * 2 ** 30],
    ['1G', 1e9],
    ['100k', 1e5],
    ['2e3', 2000],
    ['250u', 0.00025],
    ['12Qi', undefined],
    ['lots', undefined],
    ['-1', undefined],
    ['2e3Mi', undefined],
  ];
  for (const [text, expected] of cases) {
    it(`${text} -> ${expected}`, () => assert.equal(parseQuantity(text), expected));
  }
  it('absent stays absent', () => assert.equal(parseQuantity(undefined), undefined));
});
