import { sign, verify } from 'node:crypto';
import { KubepulseError } from '../errors.js';
import {
  canonicalJson,
  type Keyring,
  privateKeyOf,
  SIGNATURE_ALGORITHM,
  type SigningKey,
} from '../signing.js';
import { PendingApproval, sealedPartOf } from './record.js';

/**
 * The planner seals each approval it stores with its Ed25519 plan key, under a context of its own so a seal can
 * never pass for a plan signature (or the other way round). Ed25519 rather than an HMAC: the approver needs the
 * planner's key anyway (it signs the plan), so no new secret is handed out, and anything that only reads an
 * approval (`kubepulse plans show`, an audit) can check the seal with the public key and no secret at all.
 * Anyone who can write Redis but does not hold the key can no longer change what will be signed.
 */
const SEAL_CONTEXT = 'kubepulse/pending-approval/ed25519/v1\n';

const messageOf = (approval: PendingApproval) =>
  Buffer.from(SEAL_CONTEXT + canonicalJson(sealedPartOf(approval)), 'utf8');

/** The approval as stored: parsed, with the planner's seal over everything but the decision. */
export function sealApproval(approval: PendingApproval, signer: SigningKey): PendingApproval {
  const parsed = PendingApproval.parse(approval);
  return {
    ...parsed,
    seal: {
      algorithm: SIGNATURE_ALGORITHM,
      keyId: signer.keyId,
      value: sign(null, messageOf(parsed), privateKeyOf(signer)).toString('hex'),
    },
  };
}

export type SealCheck = { ok: true } | { ok: false; detail: string };

/** Whether the stored approval is the one the planner sealed (the decision fields aside). */
export function checkSeal(approval: PendingApproval, keyring: Keyring): SealCheck {
  const { seal } = approval;
  if (!seal) return { ok: false, detail: 'the approval carries no seal' };
  const key = keyring.get(seal.keyId);
  if (!key) return { ok: false, detail: `sealed with key ${seal.keyId}, which this approver does not trust` };
  let message: Buffer;
  try {
    message = messageOf(approval);
  } catch (error) {
    return { ok: false, detail: `the approval cannot be read back: ${(error as Error).message}` };
  }
  if (!verify(null, message, key, Buffer.from(seal.value, 'hex'))) {
    return { ok: false, detail: 'the approval was changed after the planner sealed it' };
  }
  return { ok: true };
}

export class ApprovalTamperedError extends KubepulseError {
  readonly retryable = false;
  readonly code = 'approval-tampered';
}
