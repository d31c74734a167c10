import { z } from 'zod';

/** Bumped when a message changes incompatibly; consumers refuse versions they do not know. */
export const SCHEMA_VERSION = 1 as const;
export const SchemaVersion = z.literal(SCHEMA_VERSION);

/** One cloud deployment serves many clusters; every message says which one it is about. */
export const ClusterId = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, 'cluster id must be a DNS label');

// Kubernetes naming rules: a namespace is a DNS label, most object names are DNS subdomains.
export const NamespaceName = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, 'namespace must be a DNS label');
export const ObjectName = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/, 'name must be a DNS subdomain');
export const ContainerName = NamespaceName;

export const IsoTimestamp = z.iso.datetime({ offset: true });
/** Unix time in whole seconds (what Prometheus query_range returns at a fixed step). */
export const UnixSeconds = z.number().int().min(0).max(4_102_444_800);

export const OwnerRef = z.object({
  kind: z.enum(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob', 'Pod', 'Node']),
  name: ObjectName,
});
export type OwnerRef = z.infer<typeof OwnerRef>;

/** A container (or, with container omitted, a pod) the system reasons about. */
export const WorkloadTarget = z.object({
  namespace: NamespaceName,
  pod: ObjectName,
  container: ContainerName.optional(),
  owner: OwnerRef.optional(),
  node: ObjectName.optional(),
});
export type WorkloadTarget = z.infer<typeof WorkloadTarget>;

/** The two usage signals the models score; others are carried as context only. */
export const ScoredSignal = z.enum(['memory', 'cpu']);
export type ScoredSignal = z.infer<typeof ScoredSignal>;
