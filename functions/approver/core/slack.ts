import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { DecisionRequest } from './ports.js';

/**
 * Slack interactive messages: Slack signs each request with the app's signing secret
 * (`X-Slack-Signature: v0=<hex HMAC-SHA256 of "v0:{X-Slack-Request-Timestamp}:{raw body}">`). A request is
 * accepted only with a valid signature over the exact body, a timestamp within five minutes of now (so a
 * captured request cannot be replayed later), and from a Slack user on the approvers' allowlist.
 */
export const SLACK_MAX_AGE_SECONDS = 300;

export type SlackCheck = { ok: true } | { ok: false; detail: string };

export function verifySlackSignature(
  headers: { signature?: string; timestamp?: string },
  rawBody: string,
  signingSecret: string,
  now: Date,
  maxAgeSeconds = SLACK_MAX_AGE_SECONDS,
): SlackCheck {
  const { signature, timestamp } = headers;
  if (!signature || !timestamp) return { ok: false, detail: 'no Slack signature or timestamp' };
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, detail: 'the Slack timestamp is not a number' };
  const age = Math.abs(now.getTime() / 1000 - Number(timestamp));
  if (age > maxAgeSeconds) {
    return {
      ok: false,
      detail: `the Slack request is ${Math.round(age)} s from now; at most ${maxAgeSeconds} s`,
    };
  }
  const expected = `v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:${rawBody}`).digest('hex')}`;
  const given = Buffer.from(signature, 'utf8');
  const wanted = Buffer.from(expected, 'utf8');
  if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) {
    return { ok: false, detail: 'the Slack signature does not match' };
  }
  return { ok: true };
}

/** The buttons the approval message carries; the value holds the approval id and the digest of what it showed. */
export const SLACK_ACTIONS = { approve: 'kubepulse-approve', reject: 'kubepulse-reject' } as const;

const ButtonValue = z.object({ approvalId: z.string().min(1).max(128), digest: z.string().optional() });

const Interaction = z.object({
  type: z.literal('block_actions'),
  user: z.object({ id: z.string().regex(/^[UW][A-Z0-9]{2,20}$/) }),
  actions: z
    .array(z.object({ action_id: z.enum([SLACK_ACTIONS.approve, SLACK_ACTIONS.reject]), value: z.string() }))
    .length(1),
});

export type SlackInteraction =
  | { ok: true; userId: string; request: DecisionRequest }
  | { ok: false; detail: string };

/** The `payload` of a (verified) form-encoded interaction, as a decision request from a Slack user. */
export function parseSlackInteraction(rawBody: string): SlackInteraction {
  const payload = new URLSearchParams(rawBody).get('payload');
  if (!payload) return { ok: false, detail: 'no interaction payload' };
  let json: unknown;
  try {
    json = JSON.parse(payload);
  } catch {
    return { ok: false, detail: 'the interaction payload is not JSON' };
  }
  const interaction = Interaction.safeParse(json);
  if (!interaction.success) return { ok: false, detail: 'not a kubepulse approval button press' };
  const [action] = interaction.data.actions;
  let value: unknown;
  try {
    value = JSON.parse(action!.value);
  } catch {
    return { ok: false, detail: 'the button value is not JSON' };
  }
  const button = ButtonValue.safeParse(value);
  if (!button.success) return { ok: false, detail: 'the button value names no approval' };
  return {
    ok: true,
    userId: interaction.data.user.id,
    request: {
      approvalId: button.data.approvalId,
      decision: action!.action_id === SLACK_ACTIONS.approve ? 'approve' : 'reject',
      ...(button.data.digest ? { digest: button.data.digest } : {}),
    },
  };
}
