import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ContainerSeries } from './usage-model.js';

interface Family {
  name: string;
  type: 'gauge' | 'counter';
  help: string;
  lines: string[];
}

const escapeLabelValue = (value: string) =>
  value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

function labels(pairs: Record<string, string | undefined>): string {
  const parts = Object.entries(pairs)
    .filter(([, value]) => value !== undefined)
    .map(([name, value]) => `${name}="${escapeLabelValue(value!)}"`);
  return `{${parts.join(',')}}`;
}

/**
 * Prometheus text exposition with cAdvisor's and kube-state-metrics' names and labels, so the shipper's default
 * PromQL reads the simulator exactly as it reads a real cluster. No timestamps: Prometheus stamps each sample
 * with its own scrape time, as it does for cAdvisor.
 */
export function renderExposition(series: readonly ContainerSeries[]): string {
  const family = (name: string, type: Family['type'], help: string): Family => ({
    name,
    type,
    help,
    lines: [],
  });
  const workingSet = family('container_memory_working_set_bytes', 'gauge', 'Current working set in bytes.');
  const cpu = family(
    'container_cpu_usage_seconds_total',
    'counter',
    'Cumulative cpu time consumed in seconds.',
  );
  const periods = family(
    'container_cpu_cfs_periods_total',
    'counter',
    'Number of elapsed enforcement period intervals.',
  );
  const throttled = family(
    'container_cpu_cfs_throttled_periods_total',
    'counter',
    'Number of throttled period intervals.',
  );
  const limits = family(
    'kube_pod_container_resource_limits',
    'gauge',
    'The number of requested limit resource by a container.',
  );
  const restarts = family(
    'kube_pod_container_status_restarts_total',
    'counter',
    'The number of container restarts per container.',
  );
  for (const s of series) {
    const id = { namespace: s.namespace, pod: s.pod, container: s.container };
    if (s.running) {
      workingSet.lines.push(`${workingSet.name}${labels(id)} ${s.memoryWorkingSetBytes}`);
      cpu.lines.push(`${cpu.name}${labels(id)} ${s.cpuUsageSecondsTotal}`);
      if (s.cfs) {
        periods.lines.push(`${periods.name}${labels(id)} ${s.cfs.periodsTotal}`);
        throttled.lines.push(`${throttled.name}${labels(id)} ${s.cfs.throttledPeriodsTotal}`);
      }
    }
    if (s.limits.memoryBytes !== undefined) {
      limits.lines.push(
        `${limits.name}${labels({ ...id, node: s.node, resource: 'memory', unit: 'byte' })} ${s.limits.memoryBytes}`,
      );
    }
    if (s.limits.cpuCores !== undefined) {
      limits.lines.push(
        `${limits.name}${labels({ ...id, node: s.node, resource: 'cpu', unit: 'core' })} ${s.limits.cpuCores}`,
      );
    }
    restarts.lines.push(`${restarts.name}${labels(id)} ${s.restarts}`);
  }
  return [workingSet, cpu, periods, throttled, limits, restarts]
    .filter((f) => f.lines.length > 0)
    .map((f) => [`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`, ...f.lines].join('\n'))
    .join('\n')
    .concat('\n');
}

export interface Exporter {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Serves /metrics on loopback (port 0 picks a free one). */
export function startExporter(
  collect: () => readonly ContainerSeries[],
  options: { host?: string; port?: number } = {},
): Promise<Exporter> {
  const host = options.host ?? '127.0.0.1';
  const server: Server = createServer((request, response) => {
    if ((request.url ?? '/').split('?')[0] !== '/metrics') {
      response.writeHead(404);
      response.end();
      return;
    }
    response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
    response.end(renderExposition(collect()));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://${host}:${port}`,
        port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
