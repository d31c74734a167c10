import {
  ContainerName,
  NamespaceName,
  ObjectName,
  type SampleBatch,
  SCHEMA_VERSION,
  type SeriesSamples,
} from '../../shared/contracts/index.js';
import { isRetryable } from '../../shared/errors.js';
import type { LoggerPort } from '../../shared/logger.js';
import type { ShipperMetrics } from '../metrics.js';
import type { Outbox } from './outbox.js';
import type { PrometheusPort } from './ports.js';
import type { Signal } from './signals.js';
import { nextWindow, type SampleWindow, type WindowPolicy } from './time-window.js';

export interface SampleReaderDeps {
  clusterId: string;
  prometheus: PrometheusPort;
  outbox: Pick<Outbox, 'enqueue' | 'markSamplesRead'>;
  signals: readonly Signal[];
  policy: WindowPolicy;
  metrics: ShipperMetrics;
  logger: LoggerPort;
  nowSeconds: () => number;
}

export type ReadOutcome = { kind: 'read'; window: SampleWindow; samples: number } | { kind: 'idle' };

const MAX_SAMPLES_PER_SERIES = 10_000;

/**
 * Reads every signal for the next settled window after its cursor and queues one sample batch for it. The cursor
 * moves only once every signal of a window was read, so a Prometheus outage (a retryable error) leaves it where
 * it was and the same window is read again once Prometheus is back: no gap, and no step twice.
 */
export class SampleReader {
  constructor(
    private readonly deps: SampleReaderDeps,
    private cursor: number,
  ) {}

  /** The last step read (queued for sending). */
  get position(): number {
    return this.cursor;
  }

  async readNext(): Promise<ReadOutcome> {
    const { policy, metrics, logger } = this.deps;
    const next = nextWindow(this.cursor, this.deps.nowSeconds(), policy);
    if (!next) return { kind: 'idle' };
    const { window, skippedSeconds } = next;
    if (skippedSeconds > 0) {
      metrics.backfillSkippedSeconds.inc(skippedSeconds);
      logger.warn('history older than the maximum backfill will not be read', {
        fromCursor: this.cursor,
        resumingAfter: window.after,
        skippedSeconds,
      });
    }
    const series: SeriesSamples[] = [];
    for (const signal of this.deps.signals) series.push(...(await this.readSignal(signal, window)));
    const samples = series.reduce((total, s) => total + s.samples.length, 0);
    if (series.length > 0) {
      const batch: SampleBatch = {
        schemaVersion: SCHEMA_VERSION,
        kind: 'sample-batch',
        clusterId: this.deps.clusterId,
        batchId: `samples-${window.after + policy.stepSeconds}-${window.through}`,
        sentAt: new Date(this.deps.nowSeconds() * 1000).toISOString(),
        stepSeconds: policy.stepSeconds,
        series,
      };
      this.deps.outbox.enqueue(batch, window);
    } else {
      this.deps.outbox.markSamplesRead(window.through);
    }
    this.cursor = window.through;
    return { kind: 'read', window, samples };
  }

  private async readSignal(signal: Signal, window: SampleWindow): Promise<SeriesSamples[]> {
    const { prometheus, policy, metrics, logger } = this.deps;
    const start = window.after + policy.stepSeconds;
    const stopTimer = metrics.prometheusQuerySeconds.startTimer({ metric: signal.metric });
    let result: Awaited<ReturnType<PrometheusPort['queryRange']>>;
    try {
      result = await prometheus.queryRange(signal.query, start, window.through, policy.stepSeconds);
      stopTimer({ outcome: 'ok' });
    } catch (error) {
      stopTimer({ outcome: 'error' });
      if (isRetryable(error)) throw error;
      // A query Prometheus calls invalid would block every other signal forever if it held the cursor.
      logger.error('query refused by Prometheus; this signal is skipped for the window', {
        metric: signal.metric,
        window,
        error: (error as Error).message,
      });
      return [];
    }
    const series: SeriesSamples[] = [];
    for (const { labels, points } of result) {
      const target = targetOf(labels);
      const samples = points.filter(
        ([at, value]) => Number.isFinite(value) && at > window.after && at <= window.through,
      );
      if (!target) {
        metrics.seriesSkipped.inc({ metric: signal.metric });
        continue;
      }
      if (samples.length === 0) continue;
      for (let i = 0; i < samples.length; i += MAX_SAMPLES_PER_SERIES) {
        series.push({
          metric: signal.metric,
          ...target,
          samples: samples.slice(i, i + MAX_SAMPLES_PER_SERIES),
        });
      }
      metrics.samplesRead.inc({ metric: signal.metric }, samples.length);
    }
    return series;
  }
}

function targetOf(labels: Record<string, string>) {
  const namespace = NamespaceName.safeParse(labels.namespace);
  const pod = ObjectName.safeParse(labels.pod);
  const container = ContainerName.safeParse(labels.container);
  if (!namespace.success || !pod.success || !container.success) return undefined;
  return { namespace: namespace.data, pod: pod.data, container: container.data };
}
