import type { Alert } from '../../shared/contracts/index.js';
import { clipCodePoints } from '../../shared/text.js';
import { type Destination, JSON_HEADERS } from './destination.js';
import { shownToHumans, workloadLabel } from './text.js';

export const PAGERDUTY_EVENTS_URL = 'https://events.pagerduty.com/v2/enqueue';
const SUMMARY_MAX = 1024;

/**
 * An Events API v2 event. A firing alert triggers (or updates) the incident under its dedup key; a resolved alert
 * resolves it with the same key, which is all PagerDuty reads from a resolve event.
 */
export function pagerDutyEvent(received: Alert, routingKey: string) {
  const alert = shownToHumans(received);
  if (alert.status === 'resolved') {
    return { routing_key: routingKey, event_action: 'resolve' as const, dedup_key: alert.dedupKey };
  }
  const target = alert.target;
  return {
    routing_key: routingKey,
    event_action: 'trigger' as const,
    dedup_key: alert.dedupKey,
    payload: {
      summary: clipCodePoints(`[${alert.clusterId}] ${alert.title}`, SUMMARY_MAX),
      source: alert.clusterId,
      // kubepulse has no 'error' level; its three map onto PagerDuty's of the same name.
      severity: alert.severity,
      timestamp: alert.createdAt,
      ...(target
        ? { component: target.owner ? target.owner.name : target.pod, group: target.namespace }
        : {}),
      class: alert.title,
      custom_details: {
        summary: alert.summary,
        alert_id: alert.alertId,
        ...(target ? { workload: workloadLabel(target), target } : {}),
        ...(alert.incidentId ? { incident_id: alert.incidentId } : {}),
        ...(alert.planId ? { plan_id: alert.planId } : {}),
      },
    },
    links: alert.links.map((link) => ({ href: link.url, text: link.title })),
    client: 'kubepulse',
  };
}

export function pagerDutyDestination(routingKey: string, eventsUrl: string): Destination {
  return {
    name: 'pagerduty',
    request: (alert) => ({
      url: eventsUrl,
      headers: JSON_HEADERS,
      body: JSON.stringify(pagerDutyEvent(alert, routingKey)),
    }),
  };
}
