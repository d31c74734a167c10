import { SQSClient } from '@aws-sdk/client-sqs';
import type { DecisionRequest } from '../functions/approver/core/ports.js';
import { signRequest } from './sigv4.js';

/** What the approver answered: its decision, a refusal with the reason, or an error. */
export interface ApproverReply {
  httpStatus: number;
  status: 'approved' | 'rejected' | 'refused' | 'error';
  reason?: string;
  detail?: string;
  planId?: string;
  actions?: number;
  dryRun?: boolean;
  expiresAt?: string;
}

/** How the CLI reaches the approver; tests pass one that runs the handler in-process. */
export type ApproverClient = (request: DecisionRequest) => Promise<ApproverReply>;

/**
 * The approver's Function URL, called as the operator's IAM identity (SigV4, service `lambda`): the approver
 * records that identity as who decided. Credentials come from the usual AWS chain (env, profile, SSO, role).
 */
export function functionUrlApprover(url: string, region: string): ApproverClient {
  return async (request) => {
    // The SQS client's default credential chain is the SDK's: the same identity any AWS tool would use.
    const sqs = new SQSClient({ region });
    let credentials: Awaited<ReturnType<typeof sqs.config.credentials>>;
    try {
      credentials = await sqs.config.credentials();
    } finally {
      sqs.destroy();
    }
    const body = JSON.stringify(request);
    const target = new URL(url);
    const headers = signRequest(
      { method: 'POST', url: target, headers: { 'content-type': 'application/json' }, body },
      {
        accessKeyId: credentials.accessKeyId,
        secretAccessKey: credentials.secretAccessKey,
        ...(credentials.sessionToken ? { sessionToken: credentials.sessionToken } : {}),
      },
      { region, service: 'lambda', now: new Date() },
    );
    const { host: _host, ...sent } = headers;
    const response = await fetch(target, {
      method: 'POST',
      headers: sent,
      body,
      signal: AbortSignal.timeout(30_000),
    });
    const text = await response.text();
    let reply: Partial<ApproverReply> = {};
    try {
      reply = JSON.parse(text);
    } catch {
      // Lambda's own refusals (a 403 from IAM) are not the approver's JSON.
      reply = { status: 'error', detail: text.slice(0, 300) || response.statusText };
    }
    return { ...reply, httpStatus: response.status, status: reply.status ?? 'error' } as ApproverReply;
  };
}
