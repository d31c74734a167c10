import { buildContext } from '../../functions/planner/core/context.js';
import { incidentKeyOf } from '../../functions/planner/core/correlate.js';
import type { PlanRequest } from '../../functions/planner/llm/provider.js';
import type {
  ActionName,
  EventAnomaly,
  FailureEvent,
  PodInventory,
  UsageAnomaly,
} from '../../functions/shared/contracts/index.js';
import { Anomaly } from '../../functions/shared/contracts/index.js';
import { createRedactor } from '../../functions/shared/redaction/redact.js';

/** Valid anomalies and inventory for the planner's tests, shaped like what the inference function sends. */
export const MIB = 1024 ** 2;

export function podInventory(
  pod = 'checkout-7d9f8b6c5-x2x4z',
  overrides: Partial<PodInventory> = {},
): PodInventory {
  return {
    namespace: 'shop',
    pod,
    owner: { kind: 'ReplicaSet', name: 'checkout-7d9f8b6c5' },
    node: 'node-a',
    phase: 'Running',
    labels: { app: 'checkout' },
    containers: [
      {
        name: 'app',
        image: 'registry.example.com/shop/checkout:1.4.2',
        requests: { memoryBytes: 256 * MIB, cpuCores: 0.5 },
        limits: { memoryBytes: 512 * MIB, cpuCores: 1 },
        restartCount: 0,
        state: { state: 'running' },
      },
    ],
    ...overrides,
  };
}

export function usageAnomaly(overrides: Partial<UsageAnomaly> = {}): UsageAnomaly {
  const inventory = overrides.inventory === undefined ? podInventory() : overrides.inventory;
  return Anomaly.parse({
    schemaVersion: 1,
    kind: 'anomaly',
    source: 'usage',
    clusterId: 'prod-eu-1',
    anomalyId: 'inc-a:opened',
    incidentId: 'inc-a',
    status: 'opened',
    detectedAt: '2026-11-21T10:00:00.000Z',
    target: {
      namespace: 'shop',
      pod: inventory?.pod ?? 'checkout-7d9f8b6c5-x2x4z',
      container: 'app',
      ...(inventory?.owner ? { owner: inventory.owner } : {}),
      ...(inventory?.node ? { node: inventory.node } : {}),
    },
    inventory,
    signal: 'memory',
    metric: 'memory_working_set_bytes',
    reasons: ['forecast-limit-breach'],
    score: 0.4,
    threshold: 0.8,
    forecast: { horizonsSeconds: [300, 900], values: [0.97, 1.08], lower: [0.93, 1.0], upper: [1.01, 1.16] },
    predictedSecondsToLimit: 540,
    predictedLimitAt: '2026-11-21T10:09:00.000Z',
    asOf: 1_795_255_200,
    normalisation: { basis: 'limit', denominator: 512 * MIB },
    window: {
      samples: 60,
      firstAt: 1_795_253_430,
      lastAt: 1_795_255_200,
      last: 0.95,
      mean: 0.8,
      min: 0.62,
      max: 0.95,
      slopePerMinute: 0.011,
    },
    modelVersion: 'test-1',
    ...overrides,
  }) as UsageAnomaly;
}

export function eventAnomaly(
  reason: FailureEvent['reason'],
  event: Partial<FailureEvent> = {},
  overrides: Partial<EventAnomaly> = {},
): EventAnomaly {
  const inventory = overrides.inventory === undefined ? podInventory() : overrides.inventory;
  const pod = event.pod ?? inventory?.pod ?? 'checkout-7d9f8b6c5-x2x4z';
  return Anomaly.parse({
    schemaVersion: 1,
    kind: 'anomaly',
    source: 'event',
    clusterId: 'prod-eu-1',
    anomalyId: `evt-${reason}-${pod}`,
    incidentId: `inc-${reason}`,
    status: 'opened',
    detectedAt: '2026-11-21T10:00:00.000Z',
    target: {
      namespace: 'shop',
      pod,
      container: 'app',
      ...(inventory?.owner ? { owner: inventory.owner } : {}),
      ...(inventory?.node ? { node: inventory.node } : {}),
    },
    inventory,
    event: {
      eventId: `e-${reason}-${pod}`,
      reason,
      observedAt: '2026-11-21T10:00:00.000Z',
      namespace: 'shop',
      pod,
      container: 'app',
      message: '',
      count: 1,
      ...event,
    },
    ...overrides,
  }) as EventAnomaly;
}

/** A password an OOM kill's log tail carries: the redactor must keep it out of every prompt. */
export const LOG_TAIL_SECRET = 'Sup3rS3cretPassw0rd';

const ACTION_DESCRIPTIONS: Partial<Record<ActionName, string>> = {
  'set-resources': 'Change a container’s requests or limits.',
  'rollout-restart': 'Restart a workload’s pods one by one.',
  scale: 'Change a workload’s replica count.',
};

/**
 * What the planner asks an LLM provider for one incident: the prompt its own context builder makes from a memory
 * forecast and an OOM kill whose log tail carries LOG_TAIL_SECRET, with `actions` allowed.
 */
export function leakPlanRequest(
  incidentFingerprint: string,
  actions: readonly ActionName[] = ['set-resources', 'rollout-restart'],
): PlanRequest {
  const anomalies = [
    usageAnomaly(),
    eventAnomaly('OOMKilled', {
      logTail: `DEBUG DATABASE_URL=postgres://checkout:${LOG_TAIL_SECRET}@db:5432/orders`,
    }),
  ];
  const { prompt } = buildContext({ key: incidentKeyOf(anomalies[0]!), anomalies }, createRedactor());
  return {
    incidentFingerprint,
    context: prompt,
    allowedActions: actions.map((name) => ({ name, description: ACTION_DESCRIPTIONS[name] ?? name })),
  };
}
