import type { CoreV1Api, V1Deployment, V1Pod } from '@kubernetes/client-node';
import { SCENARIO_ANNOTATION } from './scenario.js';

/** A one-container Deployment whose pods the simulator runs with `scenario` (tests and the demo). */
export function simulatedDeployment(
  name: string,
  scenario: string,
  limits: Record<string, string>,
  replicas = 1,
): V1Deployment {
  return {
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name }, annotations: { [SCENARIO_ANNOTATION]: scenario } },
        spec: {
          containers: [
            { name: 'app', image: `example.com/${name}:1`, resources: { limits, requests: limits } },
          ],
        },
      },
    },
  };
}

/** The running (not terminating) pod of an `app=<app>` workload, if there is one. */
export async function runningPodOf(
  core: CoreV1Api,
  namespace: string,
  app: string,
): Promise<V1Pod | undefined> {
  const pods = await core.listNamespacedPod({ namespace, labelSelector: `app=${app}` });
  return pods.items.find((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp);
}
