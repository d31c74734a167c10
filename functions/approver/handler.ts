import { createLogger } from '../shared/logger.js';
import { loadApproverConfig } from './config.js';
import { type HttpEvent, handleApproverEvent } from './handle-http-event.js';
import { type ApproverRuntime, createApproverRuntime } from './runtime.js';

// Read once per container, secrets fetched from their stores: a bad key, policy or allowlist fails the cold start.
const config = await loadApproverConfig();
const logger = createLogger('kubepulse-approver', { stage: config.stage });
let runtime: Promise<ApproverRuntime> | undefined;

/** Both doors (the IAM Function URL and the Slack route) land here; handleApproverEvent tells them apart. */
export async function handler(event: HttpEvent) {
  // A failed start is not cached: the next request tries again.
  runtime ??= createApproverRuntime(config, logger).catch((error) => {
    runtime = undefined;
    throw error;
  });
  return handleApproverEvent(event, await runtime);
}
