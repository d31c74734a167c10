import { z } from 'zod';
import { ClusterId } from './contracts/index.js';
import { KubepulseError } from './errors.js';

/**
 * Isolation between clusters. Every cluster has its own samples, remediations, results and predictions queue, and
 * only that cluster's in-cluster principals may use them (infra/cloudformation.cjs). So the queue a record came from
 * (its `eventSourceARN`) says which cluster sent it; the `clusterId` in its body is only a claim, and a record whose
 * claim differs from its queue is refused, never believed.
 *
 * The functions learn each cluster's queues from `CLUSTER_QUEUES`, a JSON object keyed by cluster id that the
 * deployment generates from the one cluster list (serverless.yml param `clusters`):
 *   inference: {"prod-eu":{"samplesQueueArn":"arn:…","samplesDlqUrl":"https://…","predictionsQueueUrl":"https://…"}}
 *   planner:   {"prod-eu":{"remediationsQueueUrl":"https://…","resultsQueueArn":"arn:…","resultsDlqUrl":"https://…"}}
 */

/** A record whose body claims a cluster other than the one its queue belongs to. Never retried. */
export class ClusterMismatchError extends KubepulseError {
  readonly retryable = false;
  readonly code = 'cluster-mismatch';
}

/** A message for a cluster this deployment does not serve (no queues, no key): nothing is done for it. */
export class UnknownClusterError extends KubepulseError {
  readonly retryable = false;
  readonly code = 'unknown-cluster';
}

/**
 * A record from a queue that belongs to no configured cluster: the function's triggers and its CLUSTER_QUEUES
 * disagree (a deployment mistake). Retried, so SQS keeps the record and redrives it to that queue's own DLQ,
 * rather than processed under a guessed cluster.
 */
export class UnmappedQueueError extends KubepulseError {
  readonly retryable = true;
  readonly code = 'unmapped-queue';
}

const SqsArn = z.string().regex(/^arn:[a-z-]+:sqs:[^:]*:\d*:[^:]+$/, 'must be an SQS queue ARN');

/** `CLUSTER_QUEUES` parsed with `entry` as each cluster's shape; at least one cluster. */
export function clusterQueuesSchema<E extends z.ZodRawShape>(entry: E) {
  return z
    .string()
    .min(1, 'no clusters configured')
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be a JSON object keyed by cluster id' });
        return z.NEVER;
      }
    })
    .pipe(
      z
        .record(ClusterId, z.strictObject(entry))
        .refine((map) => Object.keys(map).length > 0, 'no clusters configured'),
    );
}

export const sqsArn = SqsArn;

/** Which cluster each source queue (by ARN) belongs to; one queue serving two clusters is a config error. */
export function clusterBySource(
  map: Readonly<Record<string, Record<string, unknown>>>,
  arnField: string,
): ReadonlyMap<string, string> {
  const bySource = new Map<string, string>();
  for (const [cluster, entry] of Object.entries(map)) {
    const arn = entry[arnField];
    if (typeof arn !== 'string') continue;
    const other = bySource.get(arn);
    if (other) throw new UnknownClusterError(`queue ${arn} is given for both ${other} and ${cluster}`);
    bySource.set(arn, cluster);
  }
  return bySource;
}
