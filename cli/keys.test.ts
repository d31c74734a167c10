import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePublicKeyring, parseSigningKey, signPlan, verifyPlan } from '../functions/shared/signing.js';
import { runKeysCommand } from './keys.js';

describe('kubepulse keys generate', () => {
  it('prints a private key for the planner and a public entry for the executors that verifies its plans', () => {
    const lines: string[] = [];
    assert.equal(
      runKeysCommand(['generate', '--id', 'plan-2026-12'], { out: (l) => lines.push(l), err: () => {} }),
      0,
    );
    const [signingKey, publicEntry] = lines.filter((line) => !line.startsWith('#'));
    const signer = parseSigningKey(signingKey!);
    const keyring = parsePublicKeyring(publicEntry!);
    const now = new Date('2026-12-03T10:00:00Z');
    const plan = signPlan(
      {
        schemaVersion: 2,
        kind: 'remediation-plan',
        clusterId: 'prod-eu-1',
        planId: 'plan-1',
        incidentId: 'inc-1',
        createdAt: now.toISOString(),
        expiresAt: new Date(now.getTime() + 600_000).toISOString(),
        source: 'runbook',
        rationale: '',
        confidence: 0.9,
        dryRun: true,
        scope: {
          clusterId: 'prod-eu-1',
          namespace: 'shop',
          workload: { kind: 'Deployment', name: 'checkout' },
          nodes: [],
        },
        actions: [{ action: 'scale', namespace: 'shop', kind: 'Deployment', name: 'checkout', replicas: 3 }],
      },
      signer,
    );
    assert.equal(verifyPlan(plan, keyring, now).ok, true);
    assert.throws(() => parsePublicKeyring(signingKey!), /private key/);
  });

  it('refuses a missing or unsafe key id', () => {
    const errors: string[] = [];
    const io = { out: () => {}, err: (l: string) => errors.push(l) };
    assert.equal(runKeysCommand(['generate'], io), 2);
    assert.equal(runKeysCommand(['generate', '--id', 'a,b=c'], io), 2);
    assert.match(errors.at(-1)!, /--id must be/);
  });
});
