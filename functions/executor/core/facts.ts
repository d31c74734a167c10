import type {
  KubernetesObject,
  V1Container,
  V1LabelSelector,
  V1Namespace,
  V1Node,
  V1Pod,
} from '@kubernetes/client-node';
import type {
  IncidentScope,
  NodeFacts,
  PodFacts,
  TargetFacts,
  WorkloadFacts,
} from '../../shared/actions/facts.js';
import type { RemediationPlan, ResourceQuantities } from '../../shared/contracts/index.js';
import { parseQuantity } from '../../shared/quantity.js';
import { topController } from './controller.js';
import { KubernetesRequestError } from './errors.js';
import type { ClusterPort, UsageProbe } from './ports.js';
import type { Workload, WorkloadKind } from './rollout.js';

/** What the executor reads of a HorizontalPodAutoscaler: only whom it scales. */
interface Autoscaler extends KubernetesObject {
  spec?: { scaleTargetRef?: { apiVersion?: string; kind?: string; name?: string } };
}

/**
 * The facts the shared policy needs, read live from the API server just before acting, whatever the plan says.
 * The incident is the plan's signed `scope` (what the planner saw), never what its actions name, so an action
 * on anything else is refused as outside the incident. Live on top: the workload's replicas and resources, the
 * autoscaler that owns its replica count, the nodes its pods run on now. A target that cannot be read is left
 * out, and the policy refuses what it knows nothing about.
 */
export async function gatherFacts(
  plan: RemediationPlan,
  cluster: ClusterPort,
  usage: UsageProbe | undefined,
): Promise<TargetFacts> {
  const { namespace, workload: scoped, nodes: scopeNodes } = plan.scope;
  const incident: IncidentScope = { namespace, workload: scoped, nodes: scopeNodes };
  const pods = await podFacts(plan, cluster);
  const nodeNames = plan.actions.flatMap((a) => ('node' in a ? [a.node] : []));
  const known = scoped && isKnownKind(scoped.kind) ? { kind: scoped.kind, name: scoped.name } : undefined;
  const [namespaceObject, workload, nodes] = await Promise.all([
    cluster.read<V1Namespace>({ apiVersion: 'v1', kind: 'Namespace', name: namespace }),
    known
      ? workloadFacts(
          cluster,
          usage,
          namespace,
          known,
          plan.actions.some((a) => a.action === 'scale'),
          plan.actions.some((a) => a.action === 'set-resources'),
        )
      : undefined,
    nodeNames.length > 0 ? nodeFacts(cluster) : undefined,
  ]);
  // Only a plan that touches nodes needs to know where the workload runs; listing pods is not free.
  const workloadNodes =
    workload && nodeNames.length > 0 ? await nodesRunning(cluster, namespace, workload.selector) : undefined;
  return {
    incident,
    ...(namespaceObject
      ? {
          namespaceLabels: namespaceObject.metadata?.labels ?? {},
          namespaceAnnotations: namespaceObject.metadata?.annotations ?? {},
        }
      : {}),
    ...(workload ? { workload: workload.facts } : {}),
    pods,
    ...(nodes
      ? { nodes: nodes.all.filter((n) => nodeNames.includes(n.name)), schedulableNodes: nodes.schedulable }
      : {}),
    ...(workloadNodes ? { workloadNodes } : {}),
  };
}

const isKnownKind = (kind: string): kind is WorkloadKind =>
  kind === 'Deployment' || kind === 'StatefulSet' || kind === 'DaemonSet';

async function workloadFacts(
  cluster: ClusterPort,
  usage: UsageProbe | undefined,
  namespace: string,
  { kind, name }: { kind: WorkloadKind; name: string },
  /** Whether the plan scales: only then does it matter who else sets the replica count. */
  scales: boolean,
  /** Whether the plan sets resources: only then does it matter who else sets them. */
  setsResources: boolean,
): Promise<{ facts: WorkloadFacts; selector: V1LabelSelector | undefined } | undefined> {
  const [workload, autoscaler, resourcesAutoscaler] = await Promise.all([
    cluster.read<Workload>({ apiVersion: 'apps/v1', kind, name, namespace }),
    scales && kind !== 'DaemonSet' ? autoscalerOf(cluster, namespace, kind, name) : undefined,
    setsResources ? verticalAutoscalerOf(cluster, namespace, kind, name) : undefined,
  ]);
  if (!workload) return undefined;
  const containers = workload.spec?.template.spec?.containers ?? [];
  const replicas =
    kind === 'DaemonSet' ? undefined : ((workload.spec as { replicas?: number }).replicas ?? 1);
  const status = workload.status as { readyReplicas?: number; numberReady?: number } | undefined;
  const facts: WorkloadFacts = {
    kind,
    name,
    namespace,
    ...(replicas !== undefined ? { replicas } : {}),
    ...(autoscaler ? { autoscaler } : {}),
    ...(resourcesAutoscaler ? { resourcesAutoscaler } : {}),
    readyReplicas: status?.readyReplicas ?? status?.numberReady ?? 0,
    labels: workload.metadata?.labels ?? {},
    annotations: workload.metadata?.annotations ?? {},
    containers: await Promise.all(
      containers.map(async (container) => ({
        name: container.name,
        limits: quantities(container, 'limits'),
        requests: quantities(container, 'requests'),
        peakUsage: usage ? await usage.peakUsage(namespace, { kind, name }, container.name) : {},
      })),
    ),
  };
  return { facts, selector: workload.spec?.selector };
}

/** The HorizontalPodAutoscaler (autoscaling/v2) in the namespace whose scale target is the workload, if any. */
async function autoscalerOf(
  cluster: ClusterPort,
  namespace: string,
  kind: WorkloadKind,
  name: string,
): Promise<string | undefined> {
  const autoscalers = await cluster.list<Autoscaler>('autoscaling/v2', 'HorizontalPodAutoscaler', {
    namespace,
  });
  const owner = autoscalers.find(({ spec }) => {
    const ref = spec?.scaleTargetRef;
    return ref?.kind === kind && ref.name === name && (ref.apiVersion ?? 'apps/v1').startsWith('apps/');
  });
  return owner ? (owner.metadata?.name ?? '(unnamed)') : undefined;
}

/** What the executor reads of a VerticalPodAutoscaler: whom it targets and whether it writes resources. */
interface VerticalAutoscaler extends KubernetesObject {
  spec?: {
    targetRef?: { apiVersion?: string; kind?: string; name?: string };
    updatePolicy?: { updateMode?: string };
  };
}

/**
 * The VerticalPodAutoscaler (autoscaling.k8s.io/v1) that sets the workload's container resources, if any: one
 * targeting it in any mode but `Off` (`Initial` too rewrites every new pod's resources). A cluster that does not
 * serve the VPA API (404 on its discovery) has none; any other failure to read is not taken as "none".
 */
async function verticalAutoscalerOf(
  cluster: ClusterPort,
  namespace: string,
  kind: WorkloadKind,
  name: string,
): Promise<string | undefined> {
  let autoscalers: VerticalAutoscaler[];
  try {
    autoscalers = await cluster.list<VerticalAutoscaler>('autoscaling.k8s.io/v1', 'VerticalPodAutoscaler', {
      namespace,
    });
  } catch (error) {
    if (error instanceof KubernetesRequestError && error.status === 404) return undefined;
    throw error;
  }
  const owner = autoscalers.find(({ spec }) => {
    const ref = spec?.targetRef;
    const mode = spec?.updatePolicy?.updateMode ?? 'Auto';
    return ref?.kind === kind && ref.name === name && mode !== 'Off';
  });
  return owner ? (owner.metadata?.name ?? '(unnamed)') : undefined;
}

/**
 * The nodes the workload's pods run on now, found by its own selector. Only `matchLabels` is used: a selector
 * with expressions matches a subset of these pods, so the answer can only be too wide for it, and the cordon
 * check is then as strict as the planner's scope.
 */
async function nodesRunning(
  cluster: ClusterPort,
  namespace: string,
  selector: V1LabelSelector | undefined,
): Promise<string[] | undefined> {
  const labels = Object.entries(selector?.matchLabels ?? {});
  // No selector to go by: an empty list, so every cordon is refused rather than every pod counted.
  if (labels.length === 0) return [];
  const pods = await cluster.list<V1Pod>('v1', 'Pod', {
    namespace,
    labelSelector: labels.map(([key, value]) => `${key}=${value}`).join(','),
  });
  return [...new Set(pods.flatMap((pod) => (pod.spec?.nodeName ? [pod.spec.nodeName] : [])))];
}

function quantities(container: V1Container, section: 'limits' | 'requests'): ResourceQuantities {
  const memoryBytes = parseQuantity(container.resources?.[section]?.memory);
  const cpuCores = parseQuantity(container.resources?.[section]?.cpu);
  return {
    ...(memoryBytes !== undefined ? { memoryBytes } : {}),
    ...(cpuCores !== undefined ? { cpuCores } : {}),
  };
}

async function podFacts(plan: RemediationPlan, cluster: ClusterPort): Promise<PodFacts[]> {
  const facts: PodFacts[] = [];
  for (const action of plan.actions) {
    if (action.action !== 'delete-pod') continue;
    const pod = await cluster.read<V1Pod>({
      apiVersion: 'v1',
      kind: 'Pod',
      name: action.pod,
      namespace: action.namespace,
    });
    if (!pod) continue;
    const controller = await topController(cluster, pod);
    facts.push({
      namespace: action.namespace,
      name: action.pod,
      controller: controller ? { kind: controller.kind, name: controller.name } : null,
      labels: pod.metadata?.labels ?? {},
      annotations: pod.metadata?.annotations ?? {},
    });
  }
  return facts;
}

/** Every node (a cordon must know how many would stay schedulable) and how many accept pods now. */
async function nodeFacts(cluster: ClusterPort): Promise<{ all: NodeFacts[]; schedulable: number }> {
  const nodes = await cluster.list<V1Node>('v1', 'Node');
  const ready = (node: V1Node) =>
    node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
  return {
    all: nodes.map((node) => ({
      name: node.metadata?.name ?? '',
      labels: node.metadata?.labels ?? {},
      annotations: node.metadata?.annotations ?? {},
      unschedulable: node.spec?.unschedulable === true,
    })),
    schedulable: nodes.filter((node) => node.spec?.unschedulable !== true && ready(node)).length,
  };
}
