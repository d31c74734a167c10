import { createHmac, timingSafeEqual } from 'node:crypto';
import { RemediationPlan } from './contracts/index.js';
import { KubepulseError } from './errors.js';

/**
 * Plans are signed by the planner and verified by the in-cluster executor with a shared HMAC key, so the
 * executor acts only on plans the planner's policy produced, unaltered and not replayed after they expire.
 * Both sides hash the canonical JSON of the plan as parsed by its schema (unknown fields stripped), so
 * transport re-encoding cannot break a signature and nothing unsigned can ride along.
 */
export type UnsignedPlan = Omit<RemediationPlan, 'signature'>;

export interface SigningKey {
  keyId: string;
  key: Uint8Array;
}

/** Every key a verifier accepts, by id: a rotation adds the new key, then retires the old one later. */
export type Keyring = ReadonlyMap<string, Uint8Array>;

export type VerifyFailure = 'bad-signature' | 'unknown-key' | 'expired' | 'not-yet-valid' | 'malformed';
export type VerifyResult =
  | { ok: true; plan: RemediationPlan; keyId: string }
  | { ok: false; reason: VerifyFailure; detail: string };

export const MIN_KEY_BYTES = 32;
/** How far the signer's clock may run ahead of the verifier's. */
export const DEFAULT_CLOCK_SKEW_SECONDS = 60;
// Domain separation: a key used here cannot be tricked into signing something that verifies elsewhere.
const SIGNING_CONTEXT = 'kubepulse/remediation-plan/v1\n';

export class SigningKeyError extends KubepulseError {
  readonly retryable = false;
  readonly code = 'signing-key-invalid';
}

export class CanonicalJsonError extends KubepulseError {
  readonly retryable = false;
  readonly code = 'not-canonicalisable';
}

/**
 * JSON with object keys sorted by code unit and no whitespace. Refuses what JSON cannot represent exactly
 * (NaN, ±Infinity, bigint, functions, undefined in arrays); an undefined property is absent, as in JSON.
 */
export function canonicalJson(value: unknown): string {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new CanonicalJsonError(`${value} has no JSON representation`);
      return JSON.stringify(value);
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
      if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null) {
        throw new CanonicalJsonError(`a ${value.constructor?.name ?? 'non-plain'} object is not plain JSON`);
      }
      const entries = Object.entries(value as Record<string, unknown>)
        .filter(([, v]) => v !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
    }
    default:
      throw new CanonicalJsonError(`a ${typeof value} has no JSON representation`);
  }
}

function mac(plan: UnsignedPlan, key: Uint8Array): Buffer {
  return createHmac('sha256', key).update(SIGNING_CONTEXT).update(canonicalJson(plan)).digest();
}

function checkKey(keyId: string, key: Uint8Array): void {
  if (keyId.length === 0 || keyId.length > 64)
    throw new SigningKeyError(`key id "${keyId}" must be 1-64 characters`);
  if (key.byteLength < MIN_KEY_BYTES) {
    throw new SigningKeyError(
      `key ${keyId} is ${key.byteLength} bytes; at least ${MIN_KEY_BYTES} are needed`,
    );
  }
}

/** Validates the plan against its schema, then signs exactly what the schema kept. */
export function signPlan(unsigned: UnsignedPlan, signer: SigningKey): RemediationPlan {
  checkKey(signer.keyId, signer.key);
  const parsed = RemediationPlan.omit({ signature: true }).parse(unsigned);
  return {
    ...parsed,
    signature: {
      algorithm: 'HMAC-SHA256',
      keyId: signer.keyId,
      value: mac(parsed, signer.key).toString('hex'),
    },
  };
}

export function verifyPlan(
  candidate: unknown,
  keyring: Keyring,
  now: Date,
  clockSkewSeconds = DEFAULT_CLOCK_SKEW_SECONDS,
): VerifyResult {
  const parsed = RemediationPlan.safeParse(candidate);
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    return { ok: false, reason: 'malformed', detail };
  }
  const { signature, ...unsigned } = parsed.data;
  const key = keyring.get(signature.keyId);
  if (!key) return { ok: false, reason: 'unknown-key', detail: `no key with id ${signature.keyId}` };
  let expected: Buffer;
  try {
    expected = mac(unsigned, key);
  } catch (error) {
    return { ok: false, reason: 'malformed', detail: (error as Error).message };
  }
  if (!timingSafeEqual(expected, Buffer.from(signature.value, 'hex'))) {
    return { ok: false, reason: 'bad-signature', detail: `signature does not match key ${signature.keyId}` };
  }
  const createdAt = Date.parse(unsigned.createdAt);
  const expiresAt = Date.parse(unsigned.expiresAt);
  if (expiresAt <= createdAt)
    return { ok: false, reason: 'malformed', detail: 'expiresAt is not after createdAt' };
  const skewMs = clockSkewSeconds * 1000;
  if (createdAt > now.getTime() + skewMs) {
    return { ok: false, reason: 'not-yet-valid', detail: `created at ${unsigned.createdAt}, in the future` };
  }
  if (now.getTime() >= expiresAt) {
    return { ok: false, reason: 'expired', detail: `expired at ${unsigned.expiresAt}` };
  }
  return { ok: true, plan: parsed.data, keyId: signature.keyId };
}

/**
 * Reads a keyring from configuration text: `id=base64key` pairs separated by commas. The first key is the
 * one to sign with; the rest are still accepted while plans signed with them drain.
 */
export function parseKeyring(text: string): { signer: SigningKey; keyring: Keyring } {
  const keys: SigningKey[] = text
    .split(',')
    .map((pair) => pair.trim())
    .filter((pair) => pair.length > 0)
    .map((pair) => {
      const separator = pair.indexOf('=');
      if (separator <= 0) throw new SigningKeyError('each key must be written as id=base64');
      const keyId = pair.slice(0, separator);
      const encoded = pair.slice(separator + 1);
      if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) throw new SigningKeyError(`key ${keyId} is not base64`);
      const key = Buffer.from(encoded, 'base64');
      checkKey(keyId, key);
      return { keyId, key };
    });
  const signer = keys[0];
  if (!signer) throw new SigningKeyError('no signing key configured');
  const keyring = new Map<string, Uint8Array>();
  for (const { keyId, key } of keys) {
    if (keyring.has(keyId)) throw new SigningKeyError(`key id ${keyId} appears twice`);
    keyring.set(keyId, key);
  }
  return { signer, keyring };
}
