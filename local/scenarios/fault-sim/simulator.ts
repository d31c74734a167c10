import { CoreV1Api, type KubeConfig, makeInformer, type V1Pod } from '@kubernetes/client-node';
import { type Exporter, startExporter } from './exporter.js';
import { KubeletWriter } from './kubelet-writer.js';
import type { Scenario } from './scenario.js';
import { type ScenarioTarget, type StatusChange, UsageModel } from './usage-model.js';

export interface FaultSimulatorOptions {
  kubeConfig: KubeConfig;
  /** Simulated seconds per real second for the scenarios' dynamics (see UsageModel). */
  speed?: number;
  tickMs?: number;
  /** Only pods in these namespaces (default: all). Two simulators must never share a namespace. */
  namespaces?: readonly string[];
  exporter?: { host?: string; port?: number };
  log?: (message: string) => void;
}

/**
 * Plays the kubelet and cAdvisor for the fake nodes of the local control plane: watches pods, advances each
 * container's simulated usage every tick, serves it as a Prometheus exporter, and writes OOM kills, crash loops
 * and failed pulls into pod statuses and events.
 */
export class FaultSimulator {
  private readonly model: UsageModel;
  private readonly informer;
  private readonly writer: KubeletWriter;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private stopped = false;
  private readonly log: (message: string) => void;

  private constructor(
    private readonly options: FaultSimulatorOptions,
    readonly exporter: Exporter,
    model: UsageModel,
  ) {
    this.model = model;
    this.log = options.log ?? ((message) => console.error(`[fault-sim] ${message}`));
    const core = options.kubeConfig.makeApiClient(CoreV1Api);
    this.writer = new KubeletWriter(core);
    this.informer = makeInformer(options.kubeConfig, '/api/v1/pods', () => core.listPodForAllNamespaces());
    this.informer.on('error', (error) => {
      if (this.stopped) return;
      this.log(`pod watch failed (${(error as Error)?.message ?? error}); restarting in 1 s`);
      setTimeout(() => {
        if (!this.stopped) this.informer.start().catch(() => {});
      }, 1000);
    });
  }

  static async start(options: FaultSimulatorOptions): Promise<FaultSimulator> {
    const model = new UsageModel(options.speed ?? 1, (message) => options.log?.(message));
    let simulator: FaultSimulator | undefined;
    const exporter = await startExporter(() => simulator?.model.series() ?? [], options.exporter ?? {});
    simulator = new FaultSimulator(options, exporter, model);
    await simulator.informer.start();
    await simulator.tick();
    simulator.schedule();
    return simulator;
  }

  /** Overrides the annotation for a workload (Deployment name) or a pod; undefined goes back to the annotation. */
  setScenario(target: ScenarioTarget, scenario: Scenario | undefined): void {
    this.model.setScenario(target, scenario);
  }

  /** One step: advance usage to now and write the status changes it calls for. */
  tick(): Promise<void> {
    this.ticking ??= this.advance().finally(() => {
      this.ticking = undefined;
    });
    return this.ticking;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.ticking;
    await this.informer.stop();
    await this.exporter.close();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.tick().finally(() => this.schedule());
    }, this.options.tickMs ?? 1000);
  }

  private async advance(): Promise<void> {
    const namespaces = this.options.namespaces;
    const pods = this.informer
      .list()
      .filter((pod: V1Pod) => !namespaces || namespaces.includes(pod.metadata?.namespace ?? ''));
    const changes = this.model.advance(pods, Date.now());
    await Promise.all(changes.map((change) => this.write(change)));
  }

  private async write(change: StatusChange): Promise<void> {
    try {
      await this.writer.apply(change);
      this.log(
        `${change.kind}: ${change.pod.metadata?.namespace}/${change.pod.metadata?.name}/${change.container}`,
      );
    } catch (error) {
      this.model.retry(change);
      this.log(`writing ${change.kind} for ${change.pod.metadata?.name} failed: ${(error as Error).message}`);
    }
  }
}
