// Alerts as the planner raises them, for tests and the demo: one firing, its resolution, and worst cases.
import { type Alert, SCHEMA_VERSION } from '../../../functions/shared/contracts/index.js';

export function firingAlert(overrides: Partial<Alert> = {}): Alert {
  return {
    schemaVersion: SCHEMA_VERSION,
    kind: 'alert',
    clusterId: 'dev',
    alertId: 'alert-cart-leak-1',
    dedupKey: 'dev/shop/cart/memory-leak',
    severity: 'critical',
    status: 'firing',
    title: 'Memory of shop/cart predicted to reach its limit in 12 minutes',
    summary: 'Working set grows 41 MiB/min; the 1 GiB limit is reached at 10:52 UTC. Plan: restart the pod.',
    createdAt: '2026-11-21T10:40:00.000Z',
    incidentId: 'inc-7f3a',
    planId: 'plan-19c2',
    target: {
      namespace: 'shop',
      pod: 'cart-6f7d9-a1',
      container: 'app',
      owner: { kind: 'Deployment', name: 'cart' },
    },
    links: [
      { title: 'Grafana: cart memory', url: 'https://grafana.example.com/d/cart?var-ns=shop' },
      { title: 'Runbook', url: 'https://runbooks.example.com/memory-leak' },
    ],
    ...overrides,
  };
}

export function resolvedAlert(overrides: Partial<Alert> = {}): Alert {
  return firingAlert({
    alertId: 'alert-cart-leak-1-resolved',
    status: 'resolved',
    title: 'Memory of shop/cart back to normal',
    summary: 'Working set flat for 10 minutes after the restart.',
    createdAt: '2026-11-21T10:55:00.000Z',
    ...overrides,
  });
}

/** Every field at its contract's limit, with characters that mean something to mrkdwn and emoji. */
export function largestAlert(): Alert {
  return firingAlert({
    alertId: 'a'.repeat(128),
    dedupKey: 'd'.repeat(255),
    severity: 'warning',
    title: `<!channel> & 🚨 ${'t'.repeat(286)}`.slice(0, 300),
    summary: `<@U123> <https://evil.example|click> & ${'💥 s'.repeat(990)}`.padEnd(4000, 'x'),
    incidentId: 'i'.repeat(128),
    planId: 'p'.repeat(128),
    links: Array.from({ length: 5 }, (_, i) => ({
      title: `Link ${i} ${'x'.repeat(90)}`.slice(0, 100),
      url: `https://example.com/${i}`,
    })),
  });
}

/** The least an alert can say: no target, no links, no summary. */
export function barestAlert(): Alert {
  const { target: _target, incidentId: _incident, planId: _plan, ...rest } = firingAlert();
  return { ...rest, alertId: 'alert-bare', severity: 'info', summary: '', links: [] };
}
