import { SQSClient } from '@aws-sdk/client-sqs';
import { KubeConfig } from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import type { LoggerPort } from '../shared/logger.js';
import { createRegistry } from '../shared/metrics.js';
import { LoopHealth } from './adapters/http-server.js';
import { kubeCluster } from './adapters/kube-cluster.js';
import { prometheusUsageProbe } from './adapters/prometheus-usage.js';
import type { ExecutorConfig } from './config.js';
import { kubernetesAuditTrail } from './core/audit.js';
import type { ExecutorDeps } from './core/execute-plan.js';
import { PlanLedger } from './core/ledger.js';
import { SafetyLedger } from './core/safety.js';
import { createExecutorMetrics } from './metrics.js';
import type { PollerDeps } from './poller.js';

export interface ExecutorRuntime {
  poller: PollerDeps;
  ledger: PlanLedger;
  registry: Registry;
  health: LoopHealth;
  close(): void;
}

/** In a pod: the mounted ServiceAccount token. Elsewhere: the kubeconfig file named in the configuration. */
export function loadKubeConfig(path: string | undefined): KubeConfig {
  const kubeConfig = new KubeConfig();
  if (path) kubeConfig.loadFromFile(path);
  else kubeConfig.loadFromCluster();
  return kubeConfig;
}

/** Everything the loop needs, built once from the configuration. Tests pass their own KubeConfig and SQS client. */
export function createExecutorRuntime(
  config: ExecutorConfig,
  logger: LoggerPort,
  options: { kubeConfig?: KubeConfig; sqs?: SQSClient } = {},
): ExecutorRuntime {
  const cluster = kubeCluster(options.kubeConfig ?? loadKubeConfig(config.kubeconfigPath), {
    requestTimeoutMs: config.kubeRequestTimeoutMs,
  });
  const sqs =
    options.sqs ??
    new SQSClient({ region: config.region, ...(config.sqsEndpoint ? { endpoint: config.sqsEndpoint } : {}) });
  const registry = createRegistry('executor');
  const metrics = createExecutorMetrics(registry);
  const health = new LoopHealth((config.polling.waitTimeSeconds + 60) * 1000);
  const ledger = new PlanLedger(cluster, config.namespace, config.instance, config.leaseSeconds);
  const now = () => new Date();
  const executor: ExecutorDeps = {
    cluster,
    ledger,
    keyring: config.keyring,
    policy: config.policy,
    safety: new SafetyLedger(cluster, config.namespace, config.limits),
    audit: kubernetesAuditTrail(cluster, logger, config.instance, now),
    logger,
    ...(config.prometheusUrl ? { usage: prometheusUsageProbe(config.prometheusUrl, logger) } : {}),
    settings: config.settings,
    now,
    sleep: (milliseconds) => new Promise((resolve) => setTimeout(resolve, milliseconds)),
  };
  return {
    poller: {
      sqs,
      queues: config.queues,
      polling: config.polling,
      sweep: config.sweep,
      executor,
      logger,
      metrics,
      health,
    },
    ledger,
    registry,
    health,
    close: () => {
      if (!options.sqs) sqs.destroy();
    },
  };
}
