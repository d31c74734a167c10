// When each plan's first change landed, seen from the API server: a watch on a namespace's Deployments records the
// moment an object first carries a plan's id in `kubepulse.io/last-remediation`, which the executor writes in the
// same patch as the change itself (functions/executor/core/appliers/applier.ts). bench:e2e measures detection →
// action applied to that moment, without adding a timestamp to the execution result's wire contract.
import { type KubeConfig, type V1Deployment, Watch } from '@kubernetes/client-node';
import { ANNOTATIONS } from '../../../functions/executor/core/appliers/applier.js';

export interface RemediationWatch {
  /** planId → epoch ms of the first watch event that showed the plan's change. */
  readonly appliedAt: ReadonlyMap<string, number>;
  stop(): void;
}

export async function watchRemediations(
  kubeConfig: KubeConfig,
  namespace: string,
): Promise<RemediationWatch> {
  const appliedAt = new Map<string, number>();
  const watch = new Watch(kubeConfig);
  let stopped = false;
  let current: AbortController | undefined;
  const onEvent = (phase: string, deployment: V1Deployment) => {
    if (phase !== 'ADDED' && phase !== 'MODIFIED') return;
    const planId = deployment.metadata?.annotations?.[ANNOTATIONS.lastRemediation];
    if (planId && !appliedAt.has(planId)) appliedAt.set(planId, Date.now());
  };
  const start = async (): Promise<void> => {
    if (stopped) return;
    current = await watch.watch(
      `/apis/apps/v1/namespaces/${namespace}/deployments`,
      { allowWatchBookmarks: false },
      onEvent,
      // The API server ends watches after a while: start another (its ADDED events find nothing new).
      () => {
        if (!stopped) setTimeout(() => void start().catch(() => undefined), 200);
      },
    );
  };
  await start();
  return {
    appliedAt,
    stop: () => {
      stopped = true;
      current?.abort();
    },
  };
}
