import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatCpu, formatMemory, parseQuantity } from './quantity.js';

describe('Kubernetes quantities', () => {
  it('parses binary and decimal suffixes, millis and plain numbers', () => {
    assert.equal(parseQuantity('512Mi'), 512 * 2 ** 20);
    assert.equal(parseQuantity('1Gi'), 2 ** 30);
    assert.equal(parseQuantity('2G'), 2e9);
    assert.equal(parseQuantity('250m'), 0.25);
    assert.equal(parseQuantity('1.5'), 1.5);
    assert.equal(parseQuantity('1e3'), 1000);
    assert.equal(parseQuantity(3), 3);
  });

  it('leaves absent or unparsable quantities unknown', () => {
    assert.equal(parseQuantity(undefined), undefined);
    assert.equal(parseQuantity('lots'), undefined);
    assert.equal(parseQuantity('12Xi'), undefined);
  });

  it('formats what it parses back to the same value', () => {
    assert.equal(parseQuantity(formatMemory(768 * 2 ** 20)), 768 * 2 ** 20);
    assert.equal(formatCpu(1.5), '1500m');
    assert.equal(parseQuantity(formatCpu(0.25)), 0.25);
  });
});
