import { parseArgs } from 'node:util';
import { generateSigningKeyPair, KEY_ID_PATTERN } from '../functions/shared/signing.js';

/**
 * `kubepulse keys generate --id <keyId>`: a fresh Ed25519 pair for plan signing. The private half goes to the
 * planner and the approver function only; the public half is added to every executor's PLAN_PUBLIC_KEYS.
 */
export const KEYS_USAGE = `usage: kubepulse keys generate --id <key-id>

  keys generate  print a new Ed25519 plan-signing pair: PLAN_SIGNING_KEY (the planner's private key; a
                 secret) and a PLAN_PUBLIC_KEYS entry for the executors (public). Rotate by adding the new
                 public key to every executor first, then switching the planner, then retiring the old one.`;

export function runKeysCommand(
  argv: readonly string[],
  io: { out: (line: string) => void; err: (line: string) => void },
): number {
  const { values, positionals } = parseArgs({
    args: [...argv],
    options: { id: { type: 'string' } },
    allowPositionals: true,
  });
  if (positionals[0] !== 'generate' || positionals.length > 1 || !values.id) {
    io.err(KEYS_USAGE);
    return 2;
  }
  if (!KEY_ID_PATTERN.test(values.id)) {
    io.err('kubepulse: --id must be 1-64 of A-Z a-z 0-9 . _ - (a date makes a good one: plan-2026-12)');
    return 2;
  }
  const pair = generateSigningKeyPair(values.id);
  io.out('# planner only (a secret): PLAN_SIGNING_KEY');
  io.out(pair.signingKey);
  io.out('# every executor (public): add to PLAN_PUBLIC_KEYS, comma-separated');
  io.out(pair.publicKeyEntry);
  return 0;
}
