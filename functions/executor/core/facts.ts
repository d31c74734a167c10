import type { V1Container, V1Namespace, V1Node, V1Pod } from '@kubernetes/client-node';
import type {
  IncidentScope,
  NodeFacts,
  PodFacts,
  TargetFacts,
  WorkloadFacts,
} from '../../shared/actions/facts.js';
import type { RemediationAction, RemediationPlan, ResourceQuantities } from '../../shared/contracts/index.js';
import { parseQuantity } from '../../shared/quantity.js';
import { topController } from './controller.js';
import type { ClusterPort, UsageProbe } from './ports.js';
import type { Workload, WorkloadKind } from './rollout.js';

type WorkloadAction = Extract<RemediationAction, { kind: WorkloadKind }>;
const isWorkloadAction = (action: RemediationAction): action is WorkloadAction => 'kind' in action;

/**
 * The facts the shared policy needs, read live from the API server just before acting, whatever the plan says.
 * The incident's scope comes from the plan itself (it is signed): its namespace and workload are those its
 * actions name, a pod's being its controller's, and the nodes are the ones it names. A target that cannot be
 * read is left out, and the policy refuses what it knows nothing about.
 */
export async function gatherFacts(
  plan: RemediationPlan,
  cluster: ClusterPort,
  usage: UsageProbe | undefined,
): Promise<TargetFacts> {
  const namespaced = plan.actions.find(
    (a): a is Extract<RemediationAction, { namespace: string }> => 'namespace' in a,
  );
  // A plan that only touches nodes belongs to no namespace: it passes namespace policy only where every one does.
  const namespace = namespaced?.namespace ?? '';
  const pods = await podFacts(plan, cluster);
  const workloadAction = plan.actions.find(isWorkloadAction);
  const incidentWorkload = workloadAction
    ? { kind: workloadAction.kind, name: workloadAction.name }
    : (pods.find((p) => p.controller)?.controller ?? null);
  const nodeNames = plan.actions.flatMap((a) => ('node' in a ? [a.node] : []));
  const incident: IncidentScope = { namespace, workload: incidentWorkload, nodes: nodeNames };

  const [namespaceObject, workload, nodes] = await Promise.all([
    namespace
      ? cluster.read<V1Namespace>({ apiVersion: 'v1', kind: 'Namespace', name: namespace })
      : undefined,
    incidentWorkload && isKnownKind(incidentWorkload.kind)
      ? workloadFacts(cluster, usage, namespace, incidentWorkload.kind, incidentWorkload.name)
      : undefined,
    nodeNames.length > 0 ? nodeFacts(cluster) : undefined,
  ]);
  return {
    incident,
    ...(namespaceObject ? { namespaceLabels: namespaceObject.metadata?.labels ?? {} } : {}),
    ...(workload ? { workload } : {}),
    pods,
    ...(nodes
      ? { nodes: nodes.all.filter((n) => nodeNames.includes(n.name)), schedulableNodes: nodes.schedulable }
      : {}),
  };
}

const isKnownKind = (kind: string): kind is WorkloadKind =>
  kind === 'Deployment' || kind === 'StatefulSet' || kind === 'DaemonSet';

async function workloadFacts(
  cluster: ClusterPort,
  usage: UsageProbe | undefined,
  namespace: string,
  kind: WorkloadKind,
  name: string,
): Promise<WorkloadFacts | undefined> {
  const workload = await cluster.read<Workload>({ apiVersion: 'apps/v1', kind, name, namespace });
  if (!workload) return undefined;
  const containers = workload.spec?.template.spec?.containers ?? [];
  const replicas =
    kind === 'DaemonSet' ? undefined : ((workload.spec as { replicas?: number }).replicas ?? 1);
  const status = workload.status as { readyReplicas?: number; numberReady?: number } | undefined;
  return {
    kind,
    name,
    namespace,
    ...(replicas !== undefined ? { replicas } : {}),
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
