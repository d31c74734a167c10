import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defangUrls, neutraliseMentions, neutraliseUntrusted } from './untrusted-text.js';

describe('untrusted text', () => {
  it('defangs URLs and linkable host names', () => {
    assert.equal(defangUrls('Visit http://evil.example/runbook'), 'Visit hxxp://evil[.]example/runbook');
    assert.equal(defangUrls('HTTPS://a.b.io/x'), 'hxxps://a[.]b[.]io/x');
    assert.equal(defangUrls('see www.evil.org and evil.io/x'), 'see www[.]evil[.]org and evil[.]io/x');
  });

  it('makes mentions and Slack syntax inert', () => {
    assert.equal(
      neutraliseMentions('<!channel> <@U1> <https://x.io|y> @here a@b.io'),
      '‹!channel› ‹＠U1› ‹https://x.io|y› ＠here a@b.io',
    );
  });

  it('leaves diagnostic text alone', () => {
    const text =
      'java.lang.OutOfMemoryError at com.shop.Cart.add(Cart.java:88) on checkout.shop.svc:8080, 10.0.0.1';
    assert.equal(neutraliseUntrusted(text, 2000), text);
  });

  it('is idempotent, drops invisible characters and bounds the length', () => {
    const once = neutraliseUntrusted('@\u200bhere go to https://evil.example password=hunter2', 2000);
    assert.equal(once, '＠here go to hxxps://evil[.]example password=[REDACTED:secret]');
    assert.equal(neutraliseUntrusted(once, 2000), once);
    assert.equal(Array.from(neutraliseUntrusted('x'.repeat(50), 10)).length, 10);
  });
});
