// Local stand-ins for the notifier's destinations, for tests and the demo:
//   const receivers = await startAlertReceivers({ webhookSecret }); Object.assign(env, receivers.notifierEnv); …
import { randomBytes } from 'node:crypto';
import type { Receiver } from './http-receiver.js';
import { PAGERDUTY_ENQUEUE_PATH, startPagerDutyReceiver } from './pagerduty.js';
import { startSlackReceiver } from './slack.js';
import { startWebhookReceiver } from './webhook.js';

export { type LiveContent, liveIn } from './clickable.js';
export type { ReceivedRequest, Receiver } from './http-receiver.js';

export interface AlertReceivers {
  slack: Receiver;
  pagerDuty: Receiver;
  webhook: Receiver;
  /** The notifier's destination variables, pointed at these receivers. */
  notifierEnv: Record<string, string>;
  routingKey: string;
  reset(): void;
  close(): Promise<void>;
}

export async function startAlertReceivers(
  options: { webhookSecret?: string; ports?: { slack?: number; pagerDuty?: number; webhook?: number } } = {},
): Promise<AlertReceivers> {
  const webhookSecret = options.webhookSecret ?? randomBytes(24).toString('hex');
  const [slack, pagerDuty, webhook] = await Promise.all([
    startSlackReceiver({ port: options.ports?.slack }),
    startPagerDutyReceiver({ port: options.ports?.pagerDuty }),
    startWebhookReceiver({ secret: webhookSecret, port: options.ports?.webhook }),
  ]);
  const routingKey = randomBytes(16).toString('hex');
  const all = [slack, pagerDuty, webhook];
  return {
    slack,
    pagerDuty,
    webhook,
    routingKey,
    notifierEnv: {
      SLACK_WEBHOOK_URL: `${slack.url}/services/T0LOCAL/B0LOCAL/local-webhook-token`,
      PAGERDUTY_ROUTING_KEY: routingKey,
      PAGERDUTY_EVENTS_URL: `${pagerDuty.url}${PAGERDUTY_ENQUEUE_PATH}`,
      WEBHOOK_URL: `${webhook.url}/kubepulse/alerts`,
      WEBHOOK_SECRET: webhookSecret,
    },
    reset: () => {
      for (const receiver of all) receiver.reset();
    },
    close: async () => {
      await Promise.all(all.map((receiver) => receiver.close()));
    },
  };
}
