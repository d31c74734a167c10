import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import type { RemediationPlan } from './contracts/index.js';
import {
  CanonicalJsonError,
  canonicalJson,
  generateSigningKeyPair,
  keyringOf,
  parsePublicKeyring,
  parseSigningKey,
  publicKeyOf,
  SigningKeyError,
  signPlan,
  type UnsignedPlan,
  verifyPlan,
} from './signing.js';

const current = { keyId: 'k2', key: randomBytes(32) };
const previous = { keyId: 'k1', key: randomBytes(32) };
const keyring = keyringOf(current, previous);
const now = new Date('2026-11-21T10:05:00Z');

function unsignedPlan(): UnsignedPlan {
  return {
    schemaVersion: 2,
    kind: 'remediation-plan',
    clusterId: 'prod-eu-1',
    planId: 'plan-1',
    incidentId: 'inc-1',
    createdAt: '2026-11-21T10:00:00Z',
    expiresAt: '2026-11-21T10:15:00Z',
    source: 'llm',
    rationale: 'memory grows towards the limit',
    confidence: 0.9,
    dryRun: false,
    scope: {
      clusterId: 'prod-eu-1',
      namespace: 'shop',
      workload: { kind: 'Deployment', name: 'checkout' },
      nodes: [],
    },
    actions: [
      {
        action: 'set-resources',
        namespace: 'shop',
        kind: 'Deployment',
        name: 'checkout',
        container: 'app',
        limits: { memoryBytes: 805306368 },
      },
      { action: 'scale', namespace: 'shop', kind: 'Deployment', name: 'checkout', replicas: 4 },
    ],
  };
}

/** Every leaf of a JSON value, as a path and the value there. */
function leaves(value: unknown, path: Array<string | number> = []): Array<[Array<string | number>, unknown]> {
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) =>
      leaves(v, [...path, Array.isArray(value) ? Number(k) : k]),
    );
  }
  return [[path, value]];
}

function withLeaf(plan: RemediationPlan, path: Array<string | number>, replacement: unknown): unknown {
  const copy = structuredClone(plan) as unknown as Record<string | number, unknown>;
  let node = copy;
  for (const step of path.slice(0, -1)) node = node[step] as Record<string | number, unknown>;
  node[path.at(-1)!] = replacement;
  return copy;
}

function alternativesFor(value: unknown): unknown[] {
  switch (typeof value) {
    case 'string':
      return [`${value}x`, value.replace(/.$/, (c) => (c === '0' ? '1' : '0'))];
    case 'number':
      return [value + 1, value / 2];
    case 'boolean':
      return [!value];
    default:
      return [null];
  }
}

describe('canonical JSON', () => {
  it('sorts keys at every depth and writes no whitespace', () => {
    assert.equal(
      canonicalJson({ b: 1, a: [{ d: true, c: 'x' }], e: null }),
      '{"a":[{"c":"x","d":true}],"b":1,"e":null}',
    );
  });

  it('is the same for the same value whatever the key order, and drops undefined properties', () => {
    assert.equal(
      canonicalJson({ x: 1, y: { q: 2, p: 3 } }),
      canonicalJson({ y: { p: 3, q: 2 }, x: 1, z: undefined }),
    );
  });

  it('refuses values JSON cannot carry exactly', () => {
    for (const bad of [
      Number.NaN,
      Number.POSITIVE_INFINITY,
      { a: Number.NEGATIVE_INFINITY },
      [undefined],
      1n,
      new Date(),
    ]) {
      assert.throws(() => canonicalJson(bad), CanonicalJsonError);
    }
  });
});

describe('plan signatures', () => {
  it('verifies a signed plan, also after a JSON round trip', () => {
    const plan = signPlan(unsignedPlan(), current);
    const result = verifyPlan(JSON.parse(JSON.stringify(plan)), keyring, now);
    assert.equal(result.ok, true);
    assert.equal(result.ok && result.keyId, 'k2');
  });

  it('breaks when any single field is changed', () => {
    const plan = signPlan(unsignedPlan(), current);
    let tried = 0;
    for (const [path, value] of leaves(plan)) {
      if (path[0] === 'signature') continue;
      for (const replacement of alternativesFor(value)) {
        const result = verifyPlan(withLeaf(plan, path, replacement), keyring, now);
        assert.equal(result.ok, false, `changing ${path.join('.')} to ${String(replacement)} still verified`);
        tried++;
      }
    }
    assert.ok(tried > 30, `only ${tried} tamperings tried`);
  });

  it('breaks when an action is added, removed or reordered', () => {
    const plan = signPlan(unsignedPlan(), current);
    const [first, second] = plan.actions;
    const variants = [
      { ...plan, actions: [second, first] },
      { ...plan, actions: [first] },
      { ...plan, actions: [first, second, { action: 'cordon', node: 'node-1' }] },
    ];
    for (const variant of variants) assert.equal(verifyPlan(variant, keyring, now).ok, false);
  });

  it('says bad-signature for a changed value or signature, unknown-key for a key it does not hold', () => {
    const plan = signPlan(unsignedPlan(), current);
    const changed = { ...plan, rationale: 'scale to 1000' };
    assert.deepEqual(pick(verifyPlan(changed, keyring, now)), 'bad-signature');
    const flipped = plan.signature.value.replace(/^./, (c) => (c === 'a' ? 'b' : 'a'));
    assert.equal(
      pick(verifyPlan({ ...plan, signature: { ...plan.signature, value: flipped } }, keyring, now)),
      'bad-signature',
    );
    assert.equal(
      pick(verifyPlan({ ...plan, signature: { ...plan.signature, keyId: 'k9' } }, keyring, now)),
      'unknown-key',
    );
    const relabelled = { ...plan, signature: { ...plan.signature, keyId: 'k1' } };
    assert.equal(pick(verifyPlan(relabelled, keyring, now)), 'bad-signature');
  });

  it('accepts plans signed with an older key still in the keyring, and refuses them once it is retired', () => {
    const plan = signPlan(unsignedPlan(), previous);
    assert.equal(verifyPlan(plan, keyring, now).ok, true);
    assert.equal(pick(verifyPlan(plan, keyringOf(current), now)), 'unknown-key');
  });

  it('refuses expired plans and plans from the future beyond the clock skew allowance', () => {
    const plan = signPlan(unsignedPlan(), current);
    assert.equal(pick(verifyPlan(plan, keyring, new Date('2026-11-21T10:15:00Z'))), 'expired');
    assert.equal(verifyPlan(plan, keyring, new Date('2026-11-21T10:14:59Z')).ok, true);
    assert.equal(verifyPlan(plan, keyring, new Date('2026-11-21T09:59:00Z')).ok, true);
    assert.equal(pick(verifyPlan(plan, keyring, new Date('2026-11-21T09:58:59Z'))), 'not-yet-valid');
    assert.equal(
      pick(verifyPlan(plan, keyring, new Date('2026-11-21T09:58:59Z'), { clockSkewSeconds: 120 })),
      'ok',
    );
  });

  it('refuses a plan valid for longer than the maximum lifetime, however well signed', () => {
    const long = signPlan({ ...unsignedPlan(), expiresAt: '2026-11-21T11:00:01Z' }, current);
    assert.equal(pick(verifyPlan(long, keyring, now)), 'lifetime-too-long');
    assert.equal(pick(verifyPlan(long, keyring, now, { maxLifetimeSeconds: 7200 })), 'ok');
    const hour = signPlan({ ...unsignedPlan(), expiresAt: '2026-11-21T11:00:00Z' }, current);
    assert.equal(pick(verifyPlan(hour, keyring, now)), 'ok');
  });

  it('will not verify with a private key in the keyring', () => {
    const plan = signPlan(unsignedPlan(), current);
    const leaky = new Map([[current.keyId, parseSigningKey(`k2=${current.key.toString('base64')}`).key]]);
    assert.throws(() => verifyPlan(plan, leaky as never, now), SigningKeyError);
  });

  it('calls anything that is not a well-formed plan malformed', () => {
    const plan = signPlan(unsignedPlan(), current);
    for (const bad of [
      null,
      'plan',
      {},
      { ...plan, actions: [] },
      { ...plan, signature: { ...plan.signature, value: 'zz' } },
    ]) {
      assert.equal(pick(verifyPlan(bad, keyring, now)), 'malformed');
    }
    const backwards = signPlan({ ...unsignedPlan(), expiresAt: '2026-11-21T09:00:00Z' }, current);
    assert.equal(pick(verifyPlan(backwards, keyring, now)), 'malformed');
  });

  it('signs only what the schema keeps, so an extra field can neither be smuggled in nor break verification', () => {
    const plan = signPlan({ ...unsignedPlan(), note: 'ignored' } as UnsignedPlan, current);
    assert.equal('note' in plan, false);
    const result = verifyPlan({ ...plan, extra: 'added in transit' }, keyring, now);
    assert.equal(result.ok, true);
    assert.equal(result.ok && 'extra' in result.plan, false);
  });

  it('refuses seeds that are not 32 bytes and unsafe key ids', () => {
    assert.throws(() => signPlan(unsignedPlan(), { keyId: 'weak', key: randomBytes(16) }), SigningKeyError);
    assert.throws(() => signPlan(unsignedPlan(), { keyId: 'a,b', key: randomBytes(32) }), SigningKeyError);
  });
});

describe('key configuration', () => {
  it('reads the planner key as PEM, as PKCS#8 DER or as a raw seed, and its public half verifies', () => {
    const pair = generateSigningKeyPair('k3');
    const fromPem = parseSigningKey(`k3=${pair.privateKeyPem}`);
    const fromEscapedPem = parseSigningKey(`k3=${pair.privateKeyPem.replace(/\n/g, '\\n')}`);
    const fromDer = parseSigningKey(pair.signingKey);
    const fromSeed = parseSigningKey(`k2=${current.key.toString('base64')}`);
    const keys = parsePublicKeyring(`${pair.publicKeyEntry}, k2=${pair.publicKeyPem.replace(/\n/g, '\\n')}`);
    assert.deepEqual([...keys.keys()], ['k3', 'k2']);
    for (const signer of [fromPem, fromEscapedPem, fromDer]) {
      assert.equal(verifyPlan(signPlan(unsignedPlan(), signer), keys, now).ok, true);
    }
    assert.equal(verifyPlan(signPlan(unsignedPlan(), fromSeed), keyring, now).ok, true);
    assert.equal(
      publicKeyOf(fromSeed).export({ format: 'der', type: 'spki' }).toString('hex'),
      publicKeyOf(current).export({ format: 'der', type: 'spki' }).toString('hex'),
    );
  });

  it('refuses empty, malformed, short and listed planner keys, and public keys where a private one belongs', () => {
    const pair = generateSigningKeyPair('k1');
    for (const bad of [
      '',
      'nokey',
      `k1=${randomBytes(8).toString('base64')}`,
      `${pair.signingKey},${pair.signingKey}`,
      'k1=not base64!',
      `k1=${pair.publicKeyPem}`,
      pair.publicKeyEntry,
    ]) {
      assert.throws(() => parseSigningKey(bad), SigningKeyError, bad);
    }
  });

  it('refuses private keys, raw 32-byte keys, duplicates and garbage in a public keyring, naming only the key id', () => {
    const pair = generateSigningKeyPair('k1');
    const seed = randomBytes(32).toString('base64');
    for (const bad of [
      '',
      `k1=${pair.privateKeyPem}`,
      `k1=${pair.privateKeyPem.replace(/\n/g, '\\n')}`,
      pair.signingKey,
      `k1=${seed}`,
      `${pair.publicKeyEntry},${pair.publicKeyEntry}`,
      'k1=not base64!',
    ]) {
      assert.throws(
        () => parsePublicKeyring(bad),
        (error: unknown) => error instanceof SigningKeyError && !error.message.includes(seed),
        bad,
      );
    }
  });
});

function pick(result: ReturnType<typeof verifyPlan>): string {
  return result.ok ? 'ok' : result.reason;
}
