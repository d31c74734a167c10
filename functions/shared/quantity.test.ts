import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatCpu, formatMemory, parseQuantity } from './quantity.js';

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
    ['512Mi', 512 * 2 ** 20],
    ['250m', 0.25],
  ];
  for (const [text, expected] of cases) {
    it(`${text} -> ${expected}`, () => assert.equal(parseQuantity(text), expected));
  }
  it('absent stays absent', () => assert.equal(parseQuantity(undefined), undefined));
  it('a plain number is taken as it is', () => assert.equal(parseQuantity(3), 3));

  it('formats what it parses back to the same value', () => {
    assert.equal(parseQuantity(formatMemory(768 * 2 ** 20)), 768 * 2 ** 20);
    assert.equal(formatCpu(1.5), '1500m');
    assert.equal(parseQuantity(formatCpu(0.25)), 0.25);
  });
});
