import type { RemediationAction, ResourceQuantities } from '../../shared/contracts/index.js';
import { DependencyUnavailableError, describeError } from '../../shared/errors.js';
import type { LoggerPort } from '../../shared/logger.js';
import { formatMemory } from '../../shared/quantity.js';
import type { UsageProbe } from '../core/ports.js';

/** Above this share of its new memory limit right after the change, a container has not been helped enough. */
const MAX_MEMORY_SHARE_OF_LIMIT = 0.9;

/**
 * UsageProbe over the Prometheus HTTP API (cAdvisor metrics). Names come from the signed plan and are DNS
 * names by schema, so they cannot break out of the label matchers. A Prometheus outage makes usage unknown (the
 * policy then refuses what needs it) rather than failing the plan.
 */
export function prometheusUsageProbe(baseUrl: string, logger: LoggerPort): UsageProbe {
  const query = async (promql: string): Promise<number | undefined> => {
    const url = new URL('/api/v1/query', baseUrl);
    url.searchParams.set('query', promql);
    const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
    if (!response.ok)
      throw new DependencyUnavailableError('prometheus', `HTTP ${response.status} for ${promql}`);
    const body = (await response.json()) as { data?: { result?: Array<{ value?: [number, string] }> } };
    const value = body.data?.result?.[0]?.value?.[1];
    return value === undefined ? undefined : Number(value);
  };
  const selector = (namespace: string, workload: string, container: string) =>
    `namespace="${namespace}",pod=~"${workload}-.*",container="${container}"`;
  const safely = async (promql: string) => {
    try {
      return await query(promql);
    } catch (error) {
      logger.warn('usage query failed; usage is unknown', { promql, error: describeError(error) });
      return undefined;
    }
  };
  return {
    async peakUsage(namespace, workload, container) {
      const labels = selector(namespace, workload.name, container);
      const [memoryBytes, cpuCores] = await Promise.all([
        safely(`max(max_over_time(container_memory_working_set_bytes{${labels}}[1h]))`),
        safely(`max(max_over_time(rate(container_cpu_usage_seconds_total{${labels}}[5m])[1h:1m]))`),
      ]);
      const peak: ResourceQuantities = {};
      if (memoryBytes !== undefined && Number.isFinite(memoryBytes)) peak.memoryBytes = memoryBytes;
      if (cpuCores !== undefined && Number.isFinite(cpuCores)) peak.cpuCores = cpuCores;
      return peak;
    },
    async check(action: RemediationAction) {
      if (action.action !== 'set-resources' || action.limits.memoryBytes === undefined) return undefined;
      const labels = selector(action.namespace, action.name, action.container);
      const usage = await safely(`max(container_memory_working_set_bytes{${labels}})`);
      if (usage === undefined) return undefined;
      const share = usage / action.limits.memoryBytes;
      return {
        healthy: share < MAX_MEMORY_SHARE_OF_LIMIT,
        detail: `memory ${formatMemory(usage)} bytes is ${(share * 100).toFixed(0)}% of the new limit`,
      };
    },
  };
}
