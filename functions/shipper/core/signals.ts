import type { MetricName } from '../../shared/contracts/index.js';

/** One signal the shipper reads: a PromQL expression whose result series carry namespace, pod and container. */
export interface Signal {
  metric: MetricName;
  query: string;
}

/** Written where a query needs a rate window; replaced by the configured window (e.g. `2m`). */
export const RATE_WINDOW_PLACEHOLDER = '$rate_window';

// cAdvisor (kubelet) and kube-state-metrics names. `container!=""` drops the pod-level cgroup and
// `container!="POD"` the pause container; `max by` collapses duplicate scrapes of the same container.
const CONTAINERS = 'container!="", container!="POD"';
const BY = 'by (namespace, pod, container)';

export const DEFAULT_QUERIES: Record<MetricName, string> = {
  memory_working_set_bytes: `max ${BY} (container_memory_working_set_bytes{${CONTAINERS}})`,
  cpu_usage_cores: `sum ${BY} (rate(container_cpu_usage_seconds_total{${CONTAINERS}}[${RATE_WINDOW_PLACEHOLDER}]))`,
  cpu_throttled_ratio:
    `sum ${BY} (rate(container_cpu_cfs_throttled_periods_total{${CONTAINERS}}[${RATE_WINDOW_PLACEHOLDER}]))` +
    ` / sum ${BY} (rate(container_cpu_cfs_periods_total{${CONTAINERS}}[${RATE_WINDOW_PLACEHOLDER}]))`,
  container_restarts_total: `max ${BY} (kube_pod_container_status_restarts_total)`,
};

export function buildSignals(
  metrics: readonly MetricName[],
  overrides: Partial<Record<MetricName, string>>,
  rateWindow: string,
): Signal[] {
  return metrics.map((metric) => ({
    metric,
    query: (overrides[metric] ?? DEFAULT_QUERIES[metric]).replaceAll(RATE_WINDOW_PLACEHOLDER, rateWindow),
  }));
}
