import { z } from 'zod';
import { ClusterId, IsoTimestamp, SchemaVersion, WorkloadTarget } from './common.js';

export const Alert = z.object({
  schemaVersion: SchemaVersion,
  kind: z.literal('alert'),
  clusterId: ClusterId,
  alertId: z.string().min(1).max(128),
  /** Receivers group repeats of the same problem under this key (PagerDuty's dedup_key). */
  dedupKey: z.string().min(1).max(255),
  severity: z.enum(['info', 'warning', 'critical']),
  status: z.enum(['firing', 'resolved']),
  title: z.string().min(1).max(300),
  summary: z.string().max(4000),
  createdAt: IsoTimestamp,
  incidentId: z.string().max(128).optional(),
  planId: z.string().max(128).optional(),
  target: WorkloadTarget.optional(),
  links: z
    .array(z.object({ title: z.string().max(100), url: z.url() }))
    .max(5)
    .default([]),
});
export type Alert = z.infer<typeof Alert>;
