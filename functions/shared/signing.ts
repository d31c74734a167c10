import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto';
import { RemediationPlan } from './contracts/index.js';
import { KubepulseError } from './errors.js';

/**
 * Plans are signed by the planner with an Ed25519 private key and verified by the in-cluster executor with the
 * matching public key, so the executor acts only on plans the planner's policy produced, unaltered and not
 * replayed after they expire, and an executor (which holds public keys only) cannot mint a plan for anyone.
 * Both sides sign the canonical JSON of the plan as parsed by its schema (unknown fields stripped), so
 * transport re-encoding cannot break a signature and nothing unsigned can ride along.
 */
export type UnsignedPlan = Omit<RemediationPlan, 'signature'>;

/** The planner's key: a private KeyObject, or the raw 32-byte Ed25519 seed it is made from. */
export interface SigningKey {
  keyId: string;
  key: KeyObject | Uint8Array;
}

/** Every public key a verifier accepts, by id: a rotation adds the new key, then retires the old one later. */
export type Keyring = ReadonlyMap<string, KeyObject>;

export type VerifyFailure =
  | 'bad-signature'
  | 'unknown-key'
  | 'expired'
  | 'not-yet-valid'
  | 'lifetime-too-long'
  | 'malformed';
export type VerifyResult =
  | { ok: true; plan: RemediationPlan; keyId: string }
  | { ok: false; reason: VerifyFailure; detail: string };

export interface VerifyOptions {
  /** How far the signer's clock may run ahead of (or behind) the verifier's. */
  clockSkewSeconds?: number;
  /** The longest `expiresAt - createdAt` accepted, whatever the signature says (a stolen plan ages out). */
  maxLifetimeSeconds?: number;
}

export const SIGNATURE_ALGORITHM = 'Ed25519' as const;
export const SEED_BYTES = 32;
export const DEFAULT_CLOCK_SKEW_SECONDS = 60;
export const DEFAULT_MAX_PLAN_LIFETIME_SECONDS = 3600;
export const KEY_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
// Domain separation: a key used here cannot be tricked into signing something that verifies elsewhere. The
// HMAC era used `kubepulse/remediation-plan/v1`; a new context keeps the two from ever meaning the same bytes.
const SIGNING_CONTEXT = 'kubepulse/remediation-plan/ed25519/v1\n';
// DER headers that wrap a raw Ed25519 seed (PKCS#8) or public key (SPKI), RFC 8410.
const PKCS8_SEED_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

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

function checkKeyId(keyId: string): void {
  if (!KEY_ID_PATTERN.test(keyId)) {
    throw new SigningKeyError(`key id "${keyId.slice(0, 70)}" must be 1-64 of A-Z a-z 0-9 . _ -`);
  }
}

function asEd25519(key: KeyObject, type: 'private' | 'public', keyId: string): KeyObject {
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new SigningKeyError(`key ${keyId} is ${key.asymmetricKeyType ?? key.type}, not Ed25519`);
  }
  if (key.type !== type)
    throw new SigningKeyError(`key ${keyId} is a ${key.type} key where a ${type} one belongs`);
  return key;
}

/** The signer's private key as a KeyObject (a raw seed is wrapped in PKCS#8). */
export function privateKeyOf(signer: SigningKey): KeyObject {
  checkKeyId(signer.keyId);
  if (!(signer.key instanceof Uint8Array)) return asEd25519(signer.key, 'private', signer.keyId);
  if (signer.key.byteLength !== SEED_BYTES) {
    throw new SigningKeyError(
      `key ${signer.keyId} is ${signer.key.byteLength} bytes; an Ed25519 seed is ${SEED_BYTES}`,
    );
  }
  const der = Buffer.concat([PKCS8_SEED_PREFIX, signer.key]);
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
}

/** The public half of a signer, for a verifier's keyring. */
export const publicKeyOf = (signer: SigningKey): KeyObject => createPublicKey(privateKeyOf(signer));

/** `id=<base64 SPKI DER>`: one entry of a verifier's PLAN_PUBLIC_KEYS, for this signer. */
export const publicKeyEntryOf = (signer: SigningKey): string =>
  `${signer.keyId}=${publicKeyOf(signer).export({ format: 'der', type: 'spki' }).toString('base64')}`;

/** A keyring that trusts exactly these signers (tests, and the planner checking its own key at start-up). */
export const keyringOf = (...signers: SigningKey[]): Keyring =>
  new Map(signers.map((signer) => [signer.keyId, publicKeyOf(signer)]));

function message(plan: UnsignedPlan): Buffer {
  return Buffer.from(SIGNING_CONTEXT + canonicalJson(plan), 'utf8');
}

/** Validates the plan against its schema, then signs exactly what the schema kept. */
export function signPlan(unsigned: UnsignedPlan, signer: SigningKey): RemediationPlan {
  const privateKey = privateKeyOf(signer);
  const parsed = RemediationPlan.omit({ signature: true }).parse(unsigned);
  return {
    ...parsed,
    signature: {
      algorithm: SIGNATURE_ALGORITHM,
      keyId: signer.keyId,
      value: sign(null, message(parsed), privateKey).toString('hex'),
    },
  };
}

/**
 * Authenticates a candidate plan: schema, a trusted key id, the signature, then its validity window (created
 * no later than now + skew, not expired, and valid for no longer than the maximum lifetime). The lifetime is
 * checked after the signature so the reason names the first thing an attacker would have to defeat.
 */
export function verifyPlan(
  candidate: unknown,
  keyring: Keyring,
  now: Date,
  options: VerifyOptions = {},
): VerifyResult {
  const clockSkewSeconds = options.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS;
  const maxLifetimeSeconds = options.maxLifetimeSeconds ?? DEFAULT_MAX_PLAN_LIFETIME_SECONDS;
  const parsed = RemediationPlan.safeParse(candidate);
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    return { ok: false, reason: 'malformed', detail };
  }
  const { signature, ...unsigned } = parsed.data;
  const key = keyring.get(signature.keyId);
  if (!key) return { ok: false, reason: 'unknown-key', detail: `no trusted key with id ${signature.keyId}` };
  // A keyring must hold public keys only; a private one here is a configuration error, never a pass.
  asEd25519(key, 'public', signature.keyId);
  let signed: Buffer;
  try {
    signed = message(unsigned);
  } catch (error) {
    return { ok: false, reason: 'malformed', detail: (error as Error).message };
  }
  if (!verify(null, signed, key, Buffer.from(signature.value, 'hex'))) {
    return { ok: false, reason: 'bad-signature', detail: `signature does not match key ${signature.keyId}` };
  }
  const createdAt = Date.parse(unsigned.createdAt);
  const expiresAt = Date.parse(unsigned.expiresAt);
  if (expiresAt <= createdAt)
    return { ok: false, reason: 'malformed', detail: 'expiresAt is not after createdAt' };
  const lifetimeSeconds = (expiresAt - createdAt) / 1000;
  if (lifetimeSeconds > maxLifetimeSeconds) {
    return {
      ok: false,
      reason: 'lifetime-too-long',
      detail: `valid for ${Math.round(lifetimeSeconds)} s; at most ${maxLifetimeSeconds} s is accepted`,
    };
  }
  const skewMs = clockSkewSeconds * 1000;
  if (createdAt > now.getTime() + skewMs) {
    return { ok: false, reason: 'not-yet-valid', detail: `created at ${unsigned.createdAt}, in the future` };
  }
  if (now.getTime() >= expiresAt) {
    return { ok: false, reason: 'expired', detail: `expired at ${unsigned.expiresAt}` };
  }
  return { ok: true, plan: parsed.data, keyId: signature.keyId };
}

/** `id=material`, split at the first `=` (base64 and PEM may contain more). */
function splitPair(pair: string): { keyId: string; material: string } {
  const separator = pair.indexOf('=');
  if (separator <= 0) throw new SigningKeyError('each key must be written as id=key');
  const keyId = pair.slice(0, separator).trim();
  checkKeyId(keyId);
  return { keyId, material: pair.slice(separator + 1).trim() };
}

const PEM = /^-----BEGIN ([A-Z ]+)-----[\s\S]+-----END \1-----$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Configuration values often arrive with `\n` escaped (one-line env files, kustomize literals). */
const unescapePem = (text: string) => text.replace(/\\n/g, '\n').trim();

/**
 * The planner's private key from configuration: `id=<PKCS#8 PEM>` or `id=<base64 of the raw 32-byte seed>`
 * (or of a PKCS#8 DER). Only the planner and the approver function may hold this.
 */
export function parseSigningKey(text: string): SigningKey {
  const trimmed = text.trim();
  if (trimmed.length === 0) throw new SigningKeyError('no signing key configured');
  if (trimmed.includes(','))
    throw new SigningKeyError('one signing key, not a list: the planner signs with one');
  const { keyId, material } = splitPair(trimmed);
  const pem = unescapePem(material);
  if (PEM.test(pem)) {
    const label = PEM.exec(pem)?.[1];
    if (label !== 'PRIVATE KEY')
      throw new SigningKeyError(`key ${keyId} is a ${label}, not a PKCS#8 PRIVATE KEY`);
    return { keyId, key: privateKeyOf({ keyId, key: loadKey(() => createPrivateKey(pem), keyId) }) };
  }
  if (!BASE64.test(material)) throw new SigningKeyError(`key ${keyId} is neither PEM nor base64`);
  const bytes = Buffer.from(material, 'base64');
  if (bytes.byteLength <= SEED_BYTES) return { keyId, key: privateKeyOf({ keyId, key: bytes }) };
  const key = loadKey(() => createPrivateKey({ key: bytes, format: 'der', type: 'pkcs8' }), keyId);
  return { keyId, key: privateKeyOf({ keyId, key }) };
}

function loadKey(load: () => KeyObject, keyId: string): KeyObject {
  try {
    return load();
  } catch {
    // The parser's message may quote key material; ours names the key id only.
    throw new SigningKeyError(`key ${keyId} could not be read as an Ed25519 key`);
  }
}

/**
 * A verifier's keyring from configuration: `id=<SPKI PEM or base64 SPKI DER>` pairs separated by commas. Public
 * keys only: anything that is (or contains) a private key is refused, because node would happily derive the
 * public key from it and the executor would then hold what it takes to mint plans. Raw 32-byte keys are
 * refused too, since a raw public key and a raw private seed cannot be told apart.
 */
export function parsePublicKeyring(text: string): Keyring {
  const keyring = new Map<string, KeyObject>();
  const pairs = text
    .split(',')
    .map((pair) => pair.trim())
    .filter((pair) => pair.length > 0);
  for (const pair of pairs) {
    const { keyId, material } = splitPair(pair);
    if (keyring.has(keyId)) throw new SigningKeyError(`key id ${keyId} appears twice`);
    const pem = unescapePem(material);
    let key: KeyObject;
    if (/PRIVATE KEY/.test(pem)) {
      throw new SigningKeyError(`key ${keyId} is a private key: a verifier holds public keys only`);
    } else if (PEM.test(pem)) {
      const label = PEM.exec(pem)?.[1];
      if (label !== 'PUBLIC KEY') throw new SigningKeyError(`key ${keyId} is a ${label}, not a PUBLIC KEY`);
      key = loadKey(() => createPublicKey(pem), keyId);
    } else {
      if (!BASE64.test(material)) throw new SigningKeyError(`key ${keyId} is neither PEM nor base64`);
      const bytes = Buffer.from(material, 'base64');
      if (isPrivateDer(bytes)) {
        throw new SigningKeyError(`key ${keyId} is a private key: a verifier holds public keys only`);
      }
      if (bytes.byteLength === SEED_BYTES) {
        throw new SigningKeyError(
          `key ${keyId} is 32 raw bytes (a seed or a bare public key): give the public key as SPKI`,
        );
      }
      key = loadKey(() => createPublicKey({ key: bytes, format: 'der', type: 'spki' }), keyId);
    }
    keyring.set(keyId, asEd25519(key, 'public', keyId));
  }
  if (keyring.size === 0) throw new SigningKeyError('no public key configured');
  return keyring;
}

function isPrivateDer(bytes: Buffer): boolean {
  try {
    createPrivateKey({ key: bytes, format: 'der', type: 'pkcs8' });
    return true;
  } catch {
    return false;
  }
}

/** A fresh key pair as configuration text: the planner's `PLAN_SIGNING_KEY`, and the executors' entry. */
export function generateSigningKeyPair(keyId: string): {
  keyId: string;
  privateKeyPem: string;
  publicKeyPem: string;
  /** `id=<PKCS#8 PEM>` for the planner and the approver function. */
  signingKey: string;
  /** `id=<base64 SPKI DER>`: one entry of an executor's comma-separated `PLAN_PUBLIC_KEYS`. */
  publicKeyEntry: string;
} {
  checkKeyId(keyId);
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const privateKeyPem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  const publicKeyPem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
  const pkcs8 = privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64');
  return {
    keyId,
    privateKeyPem,
    publicKeyPem,
    signingKey: `${keyId}=${pkcs8}`,
    publicKeyEntry: publicKeyEntryOf({ keyId, key: privateKey }),
  };
}
