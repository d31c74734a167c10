import { z } from 'zod';
import {
  ClusterId,
  ContainerName,
  IsoTimestamp,
  NamespaceName,
  ObjectName,
  OwnerRef,
  SchemaVersion,
  UnixSeconds,
} from './common.js';

/**
 * Metric names the shipper reads from Prometheus. `memory_working_set_bytes` and `cpu_usage_cores`
 * are scored; the rest travel as context for the planner.
 */
export const MetricName = z.enum([
  'memory_working_set_bytes',
  'cpu_usage_cores',
  'cpu_throttled_ratio',
  'container_restarts_total',
]);
export type MetricName = z.infer<typeof MetricName>;

const MAX_UNIX_SECONDS = UnixSeconds.maxValue!;

/**
 * `[unix seconds, value]`, the shape Prometheus uses, to keep batches small. Checked by hand rather than with
 * `z.tuple([UnixSeconds, z.number()])`: the inference Lambda validates tens of thousands per invocation and the
 * tuple schema, which copies every pair, was a third of that cost. It accepts exactly what the tuple accepted
 * (contracts.test.ts compares the two).
 */
export const Sample = z.custom<[number, number]>(
  (pair) =>
    Array.isArray(pair) &&
    pair.length === 2 &&
    Number.isInteger(pair[0]) &&
    pair[0] >= 0 &&
    pair[0] <= MAX_UNIX_SECONDS &&
    Number.isFinite(pair[1]),
  { message: `a sample is [unix seconds, an integer in 0..${MAX_UNIX_SECONDS}; a finite number]` },
);
export type Sample = z.infer<typeof Sample>;

export const SeriesSamples = z.object({
  metric: MetricName,
  namespace: NamespaceName,
  pod: ObjectName,
  container: ContainerName,
  samples: z.array(Sample).min(1).max(10_000),
  /**
   * The range the series is known to stay in, when the sender knows one (a benchmark's convention: NAB tells each
   * detector its file's minimum and maximum). Without it the unusual-behaviour detector learns the range from
   * what it has seen.
   */
  valueRange: z
    .object({ min: z.number().finite(), max: z.number().finite() })
    .refine((r) => r.max > r.min, { message: 'valueRange.max must exceed valueRange.min' })
    .optional(),
});
export type SeriesSamples = z.infer<typeof SeriesSamples>;

export const SampleBatch = z.object({
  schemaVersion: SchemaVersion,
  kind: z.literal('sample-batch'),
  clusterId: ClusterId,
  batchId: z.string().min(1).max(128),
  sentAt: IsoTimestamp,
  stepSeconds: z.number().int().min(1).max(3600),
  series: z.array(SeriesSamples).min(1),
});
export type SampleBatch = z.infer<typeof SampleBatch>;

export const ResourceQuantities = z.object({
  memoryBytes: z.number().nonnegative().optional(),
  cpuCores: z.number().nonnegative().optional(),
});
export type ResourceQuantities = z.infer<typeof ResourceQuantities>;

export const ContainerState = z.object({
  state: z.enum(['running', 'waiting', 'terminated', 'unknown']),
  reason: z.string().max(128).optional(),
  exitCode: z.number().int().optional(),
  lastTerminationReason: z.string().max(128).optional(),
});

export const ContainerInventory = z.object({
  name: ContainerName,
  image: z.string().max(512).optional(),
  requests: ResourceQuantities.default({}),
  limits: ResourceQuantities.default({}),
  restartCount: z.number().int().nonnegative().default(0),
  state: ContainerState.optional(),
});
export type ContainerInventory = z.infer<typeof ContainerInventory>;

export const PodInventory = z.object({
  namespace: NamespaceName,
  pod: ObjectName,
  uid: z.string().max(64).optional(),
  owner: OwnerRef.optional(),
  /** The owning workload's replica counts when it has any (Deployment, StatefulSet): what scaling starts from. */
  ownerReplicas: z
    .object({ desired: z.number().int().nonnegative(), ready: z.number().int().nonnegative() })
    .optional(),
  node: ObjectName.optional(),
  phase: z.enum(['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown']).optional(),
  labels: z.record(z.string(), z.string()).default({}),
  containers: z.array(ContainerInventory).min(1),
});
export type PodInventory = z.infer<typeof PodInventory>;

export const NodeInventory = z.object({
  name: ObjectName,
  allocatable: ResourceQuantities.default({}),
  unschedulable: z.boolean().default(false),
  conditions: z
    .array(z.object({ type: z.string().max(64), status: z.enum(['True', 'False', 'Unknown']) }))
    .default([]),
});
export type NodeInventory = z.infer<typeof NodeInventory>;

/** Full or partial picture of the cluster; `complete` snapshots replace, partial ones upsert. */
export const InventorySnapshot = z.object({
  schemaVersion: SchemaVersion,
  kind: z.literal('inventory-snapshot'),
  clusterId: ClusterId,
  snapshotId: z.string().min(1).max(128),
  takenAt: IsoTimestamp,
  complete: z.boolean(),
  pods: z.array(PodInventory).default([]),
  nodes: z.array(NodeInventory).default([]),
});
export type InventorySnapshot = z.infer<typeof InventorySnapshot>;

export const FailureReason = z.enum([
  'OOMKilled',
  'CrashLoopBackOff',
  'ImagePullBackOff',
  'Evicted',
  'Pending',
]);
export type FailureReason = z.infer<typeof FailureReason>;

/** Log tails are bounded so one event can never blow the SQS message limit. */
export const MAX_LOG_TAIL_BYTES = 4096;

export const FailureEvent = z.object({
  eventId: z.string().min(1).max(128),
  reason: FailureReason,
  observedAt: IsoTimestamp,
  namespace: NamespaceName,
  pod: ObjectName,
  container: ContainerName.optional(),
  owner: OwnerRef.optional(),
  node: ObjectName.optional(),
  message: z.string().max(1024).default(''),
  count: z.number().int().positive().default(1),
  logTail: z.string().max(MAX_LOG_TAIL_BYTES).optional(),
});
export type FailureEvent = z.infer<typeof FailureEvent>;

export const FailureEventBatch = z.object({
  schemaVersion: SchemaVersion,
  kind: z.literal('failure-events'),
  clusterId: ClusterId,
  batchId: z.string().min(1).max(128),
  sentAt: IsoTimestamp,
  events: z.array(FailureEvent).min(1),
});
export type FailureEventBatch = z.infer<typeof FailureEventBatch>;

/** Everything the shipper puts on the samples queue. */
export const ShipperMessage = z.discriminatedUnion('kind', [
  SampleBatch,
  InventorySnapshot,
  FailureEventBatch,
]);
export type ShipperMessage = z.infer<typeof ShipperMessage>;
