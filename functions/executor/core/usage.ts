import type { RemediationAction, ResourceQuantities } from '../../shared/contracts/index.js';

/**
 * Where the executor learns actual usage, when the cluster has somewhere to ask (Prometheus). Optional: without
 * it, peak usage is unknown to the policy and verification stops at "the rollout completed and pods are ready".
 */
export interface UsageProbe {
  /** The highest recent usage of one container of a workload; fields it cannot tell are left out. */
  peakUsage(
    namespace: string,
    workload: { kind: string; name: string },
    container: string,
  ): Promise<ResourceQuantities>;
  /** After an action settled: does usage look healthy? Undefined when the probe has no opinion on this action. */
  check(action: RemediationAction): Promise<{ healthy: boolean; detail: string } | undefined>;
}
