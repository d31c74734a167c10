// A generic webhook endpoint that checks what a careful receiver checks: the signature, its freshness, the body.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Alert } from '../../../functions/shared/contracts/index.js';
import { type Judge, parseJsonObject, type Receiver, startReceiver } from './http-receiver.js';

/** How far the signed timestamp may be from the receiver's clock. */
const TOLERANCE_SECONDS = 300;

/**
 * Checks `X-Kubepulse-Signature: sha256=<hex>` against an HMAC-SHA256 of `<X-Kubepulse-Timestamp>.<raw body>`,
 * computed here independently of the sender's code. Returns what is wrong, or nothing.
 */
export function signatureProblems(
  secret: string,
  headers: IncomingHttpHeaders,
  rawBody: string,
  nowSeconds = Date.now() / 1000,
): string[] {
  const signature = headers['x-kubepulse-signature'];
  const timestamp = headers['x-kubepulse-timestamp'];
  if (typeof signature !== 'string' || !signature.startsWith('sha256='))
    return ['no sha256 signature header'];
  if (typeof timestamp !== 'string' || !/^\d+$/.test(timestamp)) return ['no timestamp header'];
  if (Math.abs(nowSeconds - Number(timestamp)) > TOLERANCE_SECONDS) return ['timestamp too far from now'];
  const expected = createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest();
  const given = Buffer.from(signature.slice('sha256='.length), 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected)
    ? []
    : ['signature does not match'];
}

const judgeWebhook =
  (secret: string | undefined): Judge =>
  ({ method, headers, rawBody }) => {
    if (method !== 'POST') return { reply: { status: 405, body: 'method not allowed' }, problems: [method] };
    const unsigned = secret ? signatureProblems(secret, headers, rawBody) : [];
    if (unsigned.length > 0) return { reply: { status: 401, body: unsigned.join('; ') }, problems: unsigned };
    const alert = Alert.safeParse(parseJsonObject(rawBody));
    if (!alert.success) {
      const problems = alert.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
      return { reply: { status: 400, body: problems.join('; ') }, problems };
    }
    return { reply: { status: 204, body: '' }, problems: [] };
  };

/** Accepts signed alerts on any path; with no secret it accepts unsigned ones too. */
export const startWebhookReceiver = (options: { secret?: string; port?: number } = {}): Promise<Receiver> =>
  startReceiver(judgeWebhook(options.secret), (status) => `failing on purpose with ${status}`, options);
