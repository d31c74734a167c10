import { z } from 'zod';
import { decideApproval } from './core/decide.js';
import { type Approver, type ApproverDeps, type DecisionOutcome, DecisionRequest } from './core/ports.js';
import { parseSlackInteraction, verifySlackSignature } from './core/slack.js';

/**
 * The approver's two authenticated doors, as Lambda sees them (payload format 2.0):
 * - its Function URL, `AuthType: AWS_IAM`: Lambda has verified the SigV4 signature before invoking, and the
 *   caller's ARN is in `requestContext.authorizer.iam`; the body only says what to decide, never who decides.
 * - the Slack interactivity route (`POST /slack/interactions` on an HTTP API): authenticated by Slack's request
 *   signature and an allowlist of Slack user ids.
 * Anything else is refused as unauthenticated.
 */
export interface HttpEvent {
  routeKey?: string;
  rawPath?: string;
  headers?: Record<string, string | undefined>;
  body?: string;
  isBase64Encoded?: boolean;
  requestContext?: {
    http?: { method?: string };
    authorizer?: { iam?: { userArn?: string; callerId?: string; accountId?: string } };
  };
}

export interface HttpResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

export const SLACK_ROUTE = 'POST /slack/interactions';

export interface SlackSettings {
  /** Unset: the Slack door refuses every request. */
  signingSecret?: string;
  /** Slack user ids allowed to decide. */
  approvers: ReadonlySet<string>;
}

export interface ApproverEventDeps {
  core: ApproverDeps;
  slack: SlackSettings;
}

const IAM_ARN = /^arn:aws[a-z-]*:(iam|sts)::\d{12}:[A-Za-z0-9+=,.@_/:-]{1,512}$/;

export async function handleApproverEvent(event: HttpEvent, deps: ApproverEventDeps): Promise<HttpResponse> {
  try {
    if (event.routeKey === SLACK_ROUTE) return await fromSlack(event, deps);
    return await fromIam(event, deps);
  } catch (error) {
    deps.core.logger.error('approval failed', { error: (error as Error).message });
    const retryable = (error as { retryable?: unknown }).retryable === true;
    return reply(retryable ? 503 : 500, { status: 'error', retryable, detail: (error as Error).message });
  }
}

async function fromIam(event: HttpEvent, deps: ApproverEventDeps): Promise<HttpResponse> {
  const arn = event.requestContext?.authorizer?.iam?.userArn;
  if (!arn || !IAM_ARN.test(arn)) {
    return outcome({
      status: 'refused',
      reason: 'unauthenticated',
      detail: 'no IAM caller in the request context',
    });
  }
  if (event.requestContext?.http?.method !== 'POST') {
    return outcome({ status: 'refused', reason: 'bad-request', detail: 'POST a decision' });
  }
  const request = DecisionRequest.safeParse(parseJson(bodyOf(event)));
  if (!request.success) {
    return outcome({ status: 'refused', reason: 'bad-request', detail: z.prettifyError(request.error) });
  }
  return outcome(await decideApproval(request.data, { via: 'iam', id: arn }, deps.core));
}

async function fromSlack(event: HttpEvent, deps: ApproverEventDeps): Promise<HttpResponse> {
  const { signingSecret, approvers } = deps.slack;
  if (!signingSecret) {
    return outcome({
      status: 'refused',
      reason: 'unauthenticated',
      detail: 'Slack approvals are not configured',
    });
  }
  const body = bodyOf(event);
  const headers = lowerCased(event.headers);
  const check = verifySlackSignature(
    {
      ...(headers['x-slack-signature'] ? { signature: headers['x-slack-signature'] } : {}),
      ...(headers['x-slack-request-timestamp'] ? { timestamp: headers['x-slack-request-timestamp'] } : {}),
    },
    body,
    signingSecret,
    deps.core.clock(),
  );
  if (!check.ok) return outcome({ status: 'refused', reason: 'unauthenticated', detail: check.detail });
  const interaction = parseSlackInteraction(body);
  if (!interaction.ok)
    return outcome({ status: 'refused', reason: 'bad-request', detail: interaction.detail });
  if (!approvers.has(interaction.userId)) {
    return outcome({
      status: 'refused',
      reason: 'not-allowed',
      detail: `Slack user ${interaction.userId} may not decide approvals`,
    });
  }
  const approver: Approver = { via: 'slack', id: interaction.userId };
  return outcome(await decideApproval(interaction.request, approver, deps.core));
}

const STATUS: Record<string, number> = {
  unauthenticated: 401,
  'not-allowed': 403,
  'bad-request': 400,
  'not-found': 404,
};

function outcome(result: DecisionOutcome): HttpResponse {
  if (result.status !== 'refused') return reply(200, result);
  return reply(STATUS[result.reason] ?? 409, result);
}

const reply = (statusCode: number, body: unknown): HttpResponse => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

const bodyOf = (event: HttpEvent) =>
  event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64').toString('utf8') : (event.body ?? '');

const lowerCased = (headers: HttpEvent['headers'] = {}) =>
  Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
