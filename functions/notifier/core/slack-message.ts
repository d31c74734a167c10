import type { Alert } from '../../shared/contracts/index.js';
import { clipCodePoints } from '../../shared/text.js';
import { type Destination, JSON_HEADERS } from './destination.js';
import { shownToHumans, workloadLabel } from './text.js';

// Block Kit limits that Slack enforces by refusing the whole message (invalid_blocks).
const HEADER_MAX = 150;
const SECTION_TEXT_MAX = 3000;
const FIELD_MAX = 2000;
const BUTTON_TEXT_MAX = 75;
const BUTTON_URL_MAX = 3000;

const SEVERITY_ICON: Record<Alert['severity'], string> = {
  critical: ':red_circle:',
  warning: ':large_orange_circle:',
  info: ':large_blue_circle:',
};

/** mrkdwn treats &, < and > as control characters (links, mentions); anything from an alert is escaped. */
export function escapeMrkdwn(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

const mrkdwn = (text: string, max: number) => ({ type: 'mrkdwn', text: clipCodePoints(text, max) });

/**
 * An incoming-webhook message: `text` is what notifications and screen readers show, `blocks` what the channel
 * shows. A resolved alert reads as resolved in both.
 */
export function slackMessage(received: Alert) {
  const alert = shownToHumans(received);
  const resolved = alert.status === 'resolved';
  const workload = alert.target ? workloadLabel(alert.target) : undefined;
  const where = workload ? `${alert.clusterId} ${workload}` : alert.clusterId;
  const text = `${resolved ? 'RESOLVED' : alert.severity.toUpperCase()}: ${alert.title} (${where})`;
  const createdAtSeconds = Math.floor(Date.parse(alert.createdAt) / 1000);
  const references = [
    `alert \`${escapeMrkdwn(alert.alertId)}\``,
    ...(alert.incidentId ? [`incident \`${escapeMrkdwn(alert.incidentId)}\``] : []),
    ...(alert.planId ? [`plan \`${escapeMrkdwn(alert.planId)}\``] : []),
    `<!date^${createdAtSeconds}^{date_short_pretty} {time}|${alert.createdAt}>`,
  ];
  const buttons = alert.links
    .filter((link) => link.url.length <= BUTTON_URL_MAX)
    .map((link, index) => ({
      type: 'button',
      text: {
        type: 'plain_text',
        text: clipCodePoints(link.title || link.url, BUTTON_TEXT_MAX),
        emoji: true,
      },
      url: link.url,
      action_id: `kubepulse-link-${index}`,
    }));
  const blocks = [
    {
      type: 'header',
      text: {
        type: 'plain_text',
        text: clipCodePoints(
          resolved
            ? `:white_check_mark: Resolved: ${alert.title}`
            : `${SEVERITY_ICON[alert.severity]} ${alert.title}`,
          HEADER_MAX,
        ),
        emoji: true,
      },
    },
    {
      type: 'section',
      fields: [
        mrkdwn(`*Cluster*\n${escapeMrkdwn(alert.clusterId)}`, FIELD_MAX),
        mrkdwn(`*Workload*\n${workload ? escapeMrkdwn(workload) : '—'}`, FIELD_MAX),
        mrkdwn(`*Severity*\n${alert.severity}`, FIELD_MAX),
        mrkdwn(`*Status*\n${resolved ? 'resolved' : 'firing'}`, FIELD_MAX),
      ],
    },
    ...(alert.summary.trim()
      ? [{ type: 'section', text: mrkdwn(escapeMrkdwn(alert.summary), SECTION_TEXT_MAX) }]
      : []),
    { type: 'context', elements: [mrkdwn(references.join('  ·  '), SECTION_TEXT_MAX)] },
    ...(buttons.length > 0 ? [{ type: 'actions', elements: buttons }] : []),
  ];
  return { text: escapeMrkdwn(text), blocks };
}

export function slackDestination(webhookUrl: string): Destination {
  return {
    name: 'slack',
    request: (alert) => ({
      url: webhookUrl,
      headers: JSON_HEADERS,
      body: JSON.stringify(slackMessage(alert)),
    }),
  };
}
