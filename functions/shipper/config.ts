import { z } from 'zod';
import { env, readConfig } from '../shared/config.js';
import { ClusterId, MetricName } from '../shared/contracts/index.js';

const metricList = z
  .string()
  .default(MetricName.options.join(','))
  .transform((raw) =>
    raw
      .split(',')
      .map((name) => name.trim())
      .filter(Boolean),
  )
  .pipe(z.array(MetricName).min(1));

const optionalQuery = z.string().min(1).optional();

/** Comma-separated namespace names or `*` globs, as the remediation policy writes them. */
const namespaceList = (defaultValue: string) =>
  z
    .string()
    .default(defaultValue)
    .transform((raw) =>
      raw
        .split(',')
        .map((name) => name.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.string().regex(/^[a-z0-9*][a-z0-9*-]{0,62}$/, 'namespace names or * globs')));

export const ShipperConfigSchema = z
  .object({
    CLUSTER_ID: ClusterId,
    SAMPLES_QUEUE_URL: env.url(),
    /** Optional: the predictions queue; set, the shipper also relays predictions into its /metrics. */
    PREDICTIONS_QUEUE_URL: env.optionalUrl(),
    /** A relayed series nobody mentions for this long is dropped from /metrics. */
    PREDICTIONS_STALE_SECONDS: env.integer(600, 30, 24 * 3600),
    PROMETHEUS_URL: env.url(),
    PROMETHEUS_TIMEOUT_MS: env.integer(15_000, 100),
    /** Bounds each checkpoint and log request to the API server (watches have their own restarts). */
    KUBE_REQUEST_TIMEOUT_MS: env.integer(15_000, 500, 120_000),
    /** The shipper's own namespace (downward API), where its checkpoint ConfigMap lives. */
    POD_NAMESPACE: env.text('kubepulse'),
    CHECKPOINT_CONFIGMAP: env.text('kubepulse-shipper-checkpoint'),
    CHECKPOINT_INTERVAL_SECONDS: env.integer(15, 1, 3600),
    STEP_SECONDS: env.integer(30, 1, 3600),
    /** How far behind now the newest read step is: a scrape interval plus ingestion, so its data has landed. */
    SCRAPE_LAG_SECONDS: env.integer(60, 0, 3600),
    MAX_BACKFILL_SECONDS: env.integer(6 * 3600, 0, 14 * 24 * 3600),
    /** With no checkpoint, how much history the first read covers. */
    INITIAL_LOOKBACK_SECONDS: env.integer(30 * 60, 0, 24 * 3600),
    MAX_STEPS_PER_QUERY: env.integer(120, 1, 10_000),
    /** Substituted for $rate_window in the queries; at least four scrape intervals. */
    RATE_WINDOW: z
      .string()
      .regex(/^\d+(ms|s|m|h)$/, 'a PromQL duration such as 2m')
      .default('2m'),
    METRICS: metricList,
    QUERY_MEMORY_WORKING_SET_BYTES: optionalQuery,
    QUERY_CPU_USAGE_CORES: optionalQuery,
    QUERY_CPU_THROTTLED_RATIO: optionalQuery,
    QUERY_CONTAINER_RESTARTS_TOTAL: optionalQuery,
    OUTBOX_MAX_MESSAGES: env.integer(5000, 10),
    OUTBOX_MAX_BYTES: env.integer(64 * 1024 * 1024, 1024 * 1024),
    INVENTORY_INTERVAL_SECONDS: env.integer(300, 5),
    INVENTORY_CHANGES_INTERVAL_SECONDS: env.integer(10, 1),
    PODS_PER_SNAPSHOT: env.integer(200, 1, 5000),
    /** Lines of log attached to a failure event; 0 attaches none. */
    LOG_TAIL_LINES: env.integer(40, 0, 1000),
    /**
     * Namespaces whose pods' logs may leave the cluster with a failure event (comma-separated, `*` globs), and
     * those whose never do, whatever the first list says. Keep the second in step with the remediation policy's
     * denied namespaces: nobody acts there, so nothing from their logs needs to reach the planner or a human.
     */
    LOG_TAIL_NAMESPACES: namespaceList('*'),
    LOG_TAIL_EXCLUDED_NAMESPACES: namespaceList('kube-*,kubepulse'),
    BACKOFF_INITIAL_MS: env.integer(500, 10),
    BACKOFF_MAX_MS: env.integer(30_000, 100),
    SHUTDOWN_FLUSH_MS: env.integer(10_000, 0, 120_000),
    HTTP_HOST: env.text('0.0.0.0'),
    HTTP_PORT: env.integer(8080, 0, 65535),
    KUBEPULSE_STAGE: env.text('dev'),
  })
  .transform((raw) => ({
    clusterId: raw.CLUSTER_ID,
    samplesQueueUrl: raw.SAMPLES_QUEUE_URL,
    predictions: raw.PREDICTIONS_QUEUE_URL
      ? { queueUrl: raw.PREDICTIONS_QUEUE_URL, staleAfterSeconds: raw.PREDICTIONS_STALE_SECONDS }
      : undefined,
    prometheus: { url: raw.PROMETHEUS_URL, timeoutMs: raw.PROMETHEUS_TIMEOUT_MS },
    checkpoint: {
      namespace: raw.POD_NAMESPACE,
      configMap: raw.CHECKPOINT_CONFIGMAP,
      intervalMs: raw.CHECKPOINT_INTERVAL_SECONDS * 1000,
    },
    kubeRequestTimeoutMs: raw.KUBE_REQUEST_TIMEOUT_MS,
    window: {
      stepSeconds: raw.STEP_SECONDS,
      lagSeconds: raw.SCRAPE_LAG_SECONDS,
      maxBackfillSeconds: raw.MAX_BACKFILL_SECONDS,
      maxStepsPerQuery: raw.MAX_STEPS_PER_QUERY,
    },
    initialLookbackSeconds: raw.INITIAL_LOOKBACK_SECONDS,
    rateWindow: raw.RATE_WINDOW,
    metrics: raw.METRICS,
    queryOverrides: {
      ...(raw.QUERY_MEMORY_WORKING_SET_BYTES
        ? { memory_working_set_bytes: raw.QUERY_MEMORY_WORKING_SET_BYTES }
        : {}),
      ...(raw.QUERY_CPU_USAGE_CORES ? { cpu_usage_cores: raw.QUERY_CPU_USAGE_CORES } : {}),
      ...(raw.QUERY_CPU_THROTTLED_RATIO ? { cpu_throttled_ratio: raw.QUERY_CPU_THROTTLED_RATIO } : {}),
      ...(raw.QUERY_CONTAINER_RESTARTS_TOTAL
        ? { container_restarts_total: raw.QUERY_CONTAINER_RESTARTS_TOTAL }
        : {}),
    },
    outbox: { maxMessages: raw.OUTBOX_MAX_MESSAGES, maxBytes: raw.OUTBOX_MAX_BYTES },
    inventory: {
      intervalMs: raw.INVENTORY_INTERVAL_SECONDS * 1000,
      changesIntervalMs: raw.INVENTORY_CHANGES_INTERVAL_SECONDS * 1000,
      podsPerSnapshot: raw.PODS_PER_SNAPSHOT,
    },
    logTailLines: raw.LOG_TAIL_LINES,
    logTailScope: { allow: raw.LOG_TAIL_NAMESPACES, deny: raw.LOG_TAIL_EXCLUDED_NAMESPACES },
    backoff: { initialMs: raw.BACKOFF_INITIAL_MS, maxMs: raw.BACKOFF_MAX_MS },
    shutdownFlushMs: raw.SHUTDOWN_FLUSH_MS,
    http: { host: raw.HTTP_HOST, port: raw.HTTP_PORT },
    stage: raw.KUBEPULSE_STAGE,
  }));

export type ShipperConfig = z.infer<typeof ShipperConfigSchema>;

export const readShipperConfig = (source: Record<string, string | undefined> = process.env) =>
  readConfig(ShipperConfigSchema, source);
