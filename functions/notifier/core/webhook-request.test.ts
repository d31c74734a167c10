import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { firingAlert } from '../../../local/standins/receivers/sample-alerts.js';
import { signatureProblems } from '../../../local/standins/receivers/webhook.js';
import { Alert } from '../../shared/contracts/index.js';
import { webhookDestination } from './webhook-request.js';

const SECRET = 'a-webhook-secret-of-some-length';
const now = new Date('2026-11-21T10:40:05Z');

describe('generic webhook request', () => {
  it('carries the alert as its body, signed so that the receiver can verify it', () => {
    const request = webhookDestination('https://hooks.example.com/x', SECRET).request(firingAlert(), now);
    assert.deepEqual(Alert.parse(JSON.parse(request.body)), firingAlert());
    assert.deepEqual(signatureProblems(SECRET, request.headers, request.body, now.getTime() / 1000), []);
  });

  it('fails verification when the body, the timestamp or the secret differ', () => {
    const request = webhookDestination('https://hooks.example.com/x', SECRET).request(firingAlert(), now);
    const at = now.getTime() / 1000;
    const tamperedBody = request.body.replace('critical', 'info');
    assert.notDeepEqual(signatureProblems(SECRET, request.headers, tamperedBody, at), []);
    const laterTimestamp = { ...request.headers, 'x-kubepulse-timestamp': String(Math.floor(at) + 60) };
    assert.notDeepEqual(signatureProblems(SECRET, laterTimestamp, request.body, at), []);
    assert.notDeepEqual(signatureProblems(`${SECRET}!`, request.headers, request.body, at), []);
    assert.notDeepEqual(signatureProblems(SECRET, request.headers, request.body, at + 3600), []);
  });

  it('is unsigned when no secret is configured', () => {
    const request = webhookDestination('https://hooks.example.com/x', undefined).request(firingAlert(), now);
    assert.equal(request.headers['x-kubepulse-signature'], undefined);
    assert.equal(request.headers['x-kubepulse-alert-id'], firingAlert().alertId);
  });
});
