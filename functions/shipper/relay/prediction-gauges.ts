import { Gauge, type Registry } from 'prom-client';
import type { PredictionDigest, SeriesPrediction } from '../../shared/contracts/index.js';

/**
 * The predictions the cloud side made, as gauges the cluster's Prometheus scrapes: what an HPA (through the
 * Prometheus Adapter) or a dashboard reads. A series the digests stop mentioning (pod gone, no samples) is removed
 * after `staleAfterSeconds`, so a deleted pod does not keep a frozen prediction alive.
 */
export class PredictionGauges {
  private readonly lastSeen = new Map<string, { labels: Record<string, string>; at: number }>();
  private readonly predictedRatio: Record<'memory' | 'cpu', Gauge>;
  private readonly usageRatio: Gauge;
  private readonly secondsToLimit: Gauge;
  private readonly anomaly: Gauge;
  private readonly anomalyScore: Gauge;
  private readonly surprise: Gauge;
  private readonly ignored: Gauge;

  constructor(
    registry: Registry,
    private readonly clusterId: string,
    private readonly staleAfterSeconds = 600,
  ) {
    const gauge = (name: string, help: string, labelNames: string[]) =>
      new Gauge({ name, help, labelNames, registers: [registry] });
    const podLabels = ['namespace', 'pod', 'container'];
    this.predictedRatio = {
      memory: gauge(
        'kubepulse_predicted_memory_ratio',
        'Highest forecast memory usage over the limit (or request, or observed max: see basis) within the horizon',
        [...podLabels, 'basis'],
      ),
      cpu: gauge(
        'kubepulse_predicted_cpu_ratio',
        'Highest forecast CPU usage over the limit (or request, or observed max: see basis) within the horizon',
        [...podLabels, 'basis'],
      ),
    };
    this.usageRatio = gauge('kubepulse_usage_ratio', 'Usage over the basis when last scored', [
      ...podLabels,
      'signal',
      'basis',
    ]);
    this.secondsToLimit = gauge(
      'kubepulse_predicted_seconds_to_limit',
      'Forecast seconds until usage reaches the limit; absent when it does not within the horizon',
      [...podLabels, 'signal'],
    );
    this.anomaly = gauge('kubepulse_anomaly', '1 while an incident is open for the series, else 0', [
      ...podLabels,
      'signal',
    ]);
    this.anomalyScore = gauge(
      'kubepulse_anomaly_score',
      'Classifier probability that the window is anomalous',
      [...podLabels, 'signal'],
    );
    this.surprise = gauge(
      'kubepulse_surprise',
      "How unusual the newest value is against the series' own history (0-1, log-scaled tail probability); informational, never remediated",
      [...podLabels, 'signal'],
    );
    this.ignored = gauge(
      'kubepulse_relay_foreign_digests',
      'Digests for another cluster seen by this relay (a routing mistake)',
      [],
    );
  }

  /** Applies a digest; returns false (and counts it) when it is about another cluster. */
  apply(digest: PredictionDigest, nowSeconds: number): boolean {
    if (digest.clusterId !== this.clusterId) {
      this.ignored.inc();
      return false;
    }
    for (const prediction of digest.predictions) this.set(prediction, nowSeconds);
    return true;
  }

  /** Removes series not refreshed within the stale period; returns how many. */
  expire(nowSeconds: number): number {
    let removed = 0;
    for (const [key, { labels, at }] of this.lastSeen) {
      if (nowSeconds - at <= this.staleAfterSeconds) continue;
      const { basis, ...seriesLabels } = labels;
      const signal = seriesLabels.signal as 'memory' | 'cpu';
      const podLabels = { namespace: labels.namespace!, pod: labels.pod!, container: labels.container! };
      this.predictedRatio[signal].remove({ ...podLabels, basis: basis! });
      this.usageRatio.remove({ ...podLabels, signal, basis: basis! });
      this.secondsToLimit.remove({ ...podLabels, signal });
      this.anomaly.remove({ ...podLabels, signal });
      this.anomalyScore.remove({ ...podLabels, signal });
      this.surprise.remove({ ...podLabels, signal });
      this.lastSeen.delete(key);
      removed++;
    }
    return removed;
  }

  private set(p: SeriesPrediction, nowSeconds: number): void {
    const podLabels = { namespace: p.namespace, pod: p.pod, container: p.container };
    const key = `${p.namespace}/${p.pod}/${p.container}/${p.signal}`;
    const previous = this.lastSeen.get(key);
    // A normalisation basis can change (a limit set later); drop the old labelled series rather than keep both.
    if (previous && previous.labels.basis !== p.basis) {
      this.predictedRatio[p.signal].remove({ ...podLabels, basis: previous.labels.basis! });
      this.usageRatio.remove({ ...podLabels, signal: p.signal, basis: previous.labels.basis! });
    }
    this.predictedRatio[p.signal].set({ ...podLabels, basis: p.basis }, p.predictedPeakRatio);
    this.usageRatio.set({ ...podLabels, signal: p.signal, basis: p.basis }, p.ratio);
    if (p.predictedSecondsToLimit === null) this.secondsToLimit.remove({ ...podLabels, signal: p.signal });
    else this.secondsToLimit.set({ ...podLabels, signal: p.signal }, p.predictedSecondsToLimit);
    this.anomaly.set({ ...podLabels, signal: p.signal }, p.incidentOpen ? 1 : 0);
    this.anomalyScore.set({ ...podLabels, signal: p.signal }, p.anomalyScore);
    if (p.surprise === undefined) this.surprise.remove({ ...podLabels, signal: p.signal });
    else this.surprise.set({ ...podLabels, signal: p.signal }, p.surprise);
    this.lastSeen.set(key, { labels: { ...podLabels, signal: p.signal, basis: p.basis }, at: nowSeconds });
  }
}
