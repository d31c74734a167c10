// The Helm chart installed into the real local API server (helm install, then helm uninstall): every object the
// chart renders exists, the API server's authorizer answers for the executor's and shipper's ServiceAccounts as
// the manifests intend (SubjectAccessReviews: what `kubectl auth can-i --as` asks), and the chart's admission
// policies refuse a write RBAC allows. The control plane is shared with other suites, which apply
// infra/kubernetes under its names: this release uses its own name prefix and namespaces, and removes them.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  ApiException,
  AppsV1Api,
  AuthorizationV1Api,
  CoreV1Api,
  type KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import {
  controlPlaneBlocker,
  deleteIfPresent,
  ensureControlPlane,
  serviceAccountKubeConfig,
} from '../../local/harness/support/control-plane.js';
import { CHART_DIR, helm, helmBlocker, helmTemplate } from '../../local/harness/support/helm.js';
import { eventually } from '../support/eventually.js';

const blocker = (await controlPlaneBlocker()) ?? (await helmBlocker());
const skip =
  blocker && process.env.CI !== 'true' ? `local control plane or helm unavailable: ${blocker}` : false;

const RUN = randomBytes(3).toString('hex');
const PREFIX = `kph${RUN}`;
const NAMESPACE = `kph-${RUN}`;
const ACT = `kph-${RUN}-act`;
const OTHER = `kph-${RUN}-other`;
const RELEASE = `kph-${RUN}`;
const RELEASE_NAMESPACE = 'default';
const EXECUTOR = `${PREFIX}-executor`;
const SHIPPER = `${PREFIX}-shipper`;
const VALUES = [
  '--set',
  `namePrefix=${PREFIX},namespace.name=${NAMESPACE},clusterId=helm-${RUN}`,
  '--set-json',
  `executor.namespaces=["${ACT}"]`,
];

const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

describe('Helm chart installed into the local API server', { skip }, () => {
  let admin: KubeConfig;
  let kubeconfigPath: string;
  let core: CoreV1Api;
  let installed = false;

  const helmAt = (args: string[]) => helm([...args, '--kubeconfig', kubeconfigPath]);

  /** What the authorizer says to `verb resource` by a ServiceAccount of this release. */
  async function can(
    account: string,
    verb: string,
    resource: string,
    namespace?: string,
    group = resource.match(/^(deployments|statefulsets|daemonsets|replicasets)$/) ? 'apps' : '',
    name?: string,
  ): Promise<boolean> {
    const review = await admin.makeApiClient(AuthorizationV1Api).createSubjectAccessReview({
      body: {
        spec: {
          user: `system:serviceaccount:${NAMESPACE}:${account}`,
          groups: ['system:serviceaccounts', `system:serviceaccounts:${NAMESPACE}`, 'system:authenticated'],
          resourceAttributes: { verb, resource, group, namespace, name },
        },
      },
    });
    return review.status?.allowed === true;
  }

  before(async () => {
    assert.equal(blocker, undefined, `CI=true needs the local control plane and helm: ${blocker}`);
    ({ kubeConfig: admin, kubeconfigPath } = await ensureControlPlane());
    core = admin.makeApiClient(CoreV1Api);
    // The namespaces the executor may act in exist before the install (the chart binds in them, never creates).
    for (const name of [ACT, OTHER]) await core.createNamespace({ body: { metadata: { name } } });
  });

  after(async () => {
    if (installed) {
      await helmAt(['uninstall', RELEASE, '--namespace', RELEASE_NAMESPACE]).catch(() => undefined);
    }
    for (const name of [ACT, OTHER, NAMESPACE]) await deleteIfPresent(() => core.deleteNamespace({ name }));
  });

  it('installs, and every object the chart renders exists', async () => {
    await helmAt(['install', RELEASE, CHART_DIR, '--namespace', RELEASE_NAMESPACE, ...VALUES]);
    installed = true;
    const { stdout } = await helmAt(['status', RELEASE, '--namespace', RELEASE_NAMESPACE]);
    assert.match(stdout, /STATUS: deployed/);
    const objects = await api().then(async (objectApi) => {
      const rendered = await helmTemplate(VALUES, RELEASE);
      for (const object of rendered) await objectApi.read(object as never);
      return rendered;
    });
    const kinds = new Set(objects.map((o) => o.kind));
    for (const kind of [
      'Namespace',
      'Deployment',
      'NetworkPolicy',
      'ValidatingAdmissionPolicy',
      'ClusterRole',
    ]) {
      assert.ok(kinds.has(kind), `no ${kind} rendered`);
    }
  });

  it("the executor's ServiceAccount may patch workloads in its namespaces only, and never widely", async () => {
    await eventually('RBAC in effect', async () =>
      (await can(EXECUTOR, 'patch', 'deployments', ACT)) ? true : undefined,
    );
    assert.equal(await can(EXECUTOR, 'patch', 'deployments', OTHER), false);
    assert.equal(await can(EXECUTOR, 'patch', 'deployments', 'kube-system'), false);
    assert.equal(await can(EXECUTOR, 'patch', 'deployments'), false, 'cluster-wide');
    assert.equal(await can(EXECUTOR, 'create', 'deployments', ACT), false);
    assert.equal(await can(EXECUTOR, 'delete', 'deployments', ACT), false);
    assert.equal(await can(EXECUTOR, 'get', 'secrets', ACT), false);
    assert.equal(await can(EXECUTOR, 'list', 'secrets'), false);
    assert.equal(await can(EXECUTOR, 'delete', 'pods', ACT), true);
    assert.equal(await can(EXECUTOR, 'delete', 'pods', OTHER), false);
    // cordon is enabled by default: nodes may be patched (admission narrows the fields), never deleted.
    assert.equal(await can(EXECUTOR, 'patch', 'nodes'), true);
    assert.equal(await can(EXECUTOR, 'delete', 'nodes'), false);
    // Its ledger and safety Lease in its own namespace; the Lease never deleted.
    assert.equal(await can(EXECUTOR, 'create', 'configmaps', NAMESPACE), true);
    assert.equal(
      await can(EXECUTOR, 'update', 'leases', NAMESPACE, 'coordination.k8s.io', 'kubepulse-executor-safety'),
      true,
    );
    assert.equal(
      await can(EXECUTOR, 'delete', 'leases', NAMESPACE, 'coordination.k8s.io', 'kubepulse-executor-safety'),
      false,
    );
  });

  it("the shipper's ServiceAccount reads the cluster and writes nothing but its checkpoint", async () => {
    await eventually('RBAC in effect', async () => ((await can(SHIPPER, 'list', 'pods')) ? true : undefined));
    assert.equal(await can(SHIPPER, 'watch', 'nodes'), true);
    assert.equal(await can(SHIPPER, 'patch', 'deployments', ACT), false);
    assert.equal(await can(SHIPPER, 'get', 'secrets', ACT), false);
    assert.equal(await can(SHIPPER, 'create', 'configmaps', NAMESPACE), true);
    assert.equal(
      await can(SHIPPER, 'update', 'configmaps', NAMESPACE, '', 'kubepulse-shipper-checkpoint'),
      true,
    );
    assert.equal(await can(SHIPPER, 'update', 'configmaps', NAMESPACE, '', 'other'), false);
    assert.equal(await can(SHIPPER, 'create', 'configmaps', ACT), false);
  });

  it("the chart's admission policy refuses what RBAC allows: an image change by the executor", async () => {
    const labels = { app: 'web' };
    await admin.makeApiClient(AppsV1Api).createNamespacedDeployment({
      namespace: ACT,
      body: {
        metadata: { name: 'web', labels },
        spec: {
          replicas: 1,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: { containers: [{ name: 'app', image: 'registry.invalid/web:1' }] },
          },
        },
      },
    });
    const asExecutor = (await serviceAccountKubeConfig(admin, NAMESPACE, EXECUTOR, 600)).makeApiClient(
      AppsV1Api,
    );
    const patch = (body: object) =>
      asExecutor.patchNamespacedDeployment({ namespace: ACT, name: 'web', body, dryRun: 'All' }, merge);
    const imageChange = {
      spec: { template: { spec: { containers: [{ name: 'app', image: 'evil.invalid/x:1' }] } } },
    };
    const refusal = await eventually('admission policy in effect', async () => {
      try {
        await patch(imageChange);
        return undefined;
      } catch (error) {
        const body = error instanceof ApiException ? String(error.body) : '';
        return body.includes(`${EXECUTOR}-workload-fields`) ? body : undefined;
      }
    });
    assert.match(refusal, /of a container only resources may change/);
    // A scale is an allowed change (dry run: nothing written).
    await patch({ spec: { replicas: 2 } });
  });

  it('a policy change by helm upgrade: refused while the immutable ConfigMap exists, applied once it is deleted', async () => {
    const upgrade = () =>
      helmAt([
        'upgrade',
        RELEASE,
        CHART_DIR,
        '--namespace',
        RELEASE_NAMESPACE,
        ...VALUES,
        '--set',
        'executor.policy.dryRun=false',
      ]);
    // The pod template's config checksum: a new one rolls the executor onto the new policy.
    const checksum = async () =>
      (
        await admin
          .makeApiClient(AppsV1Api)
          .readNamespacedDeployment({ namespace: NAMESPACE, name: EXECUTOR })
      ).spec?.template.metadata?.annotations?.['checksum/config'];
    const before = await checksum();
    await assert.rejects(upgrade(), /field is immutable/);
    await core.deleteNamespacedConfigMap({ namespace: NAMESPACE, name: EXECUTOR });
    await upgrade();
    const config = await core.readNamespacedConfigMap({ namespace: NAMESPACE, name: EXECUTOR });
    assert.equal(JSON.parse(config.data?.EXECUTOR_POLICY ?? '{}').dryRun, false);
    assert.match(before ?? '', /^[0-9a-f]{64}$/);
    assert.notEqual(await checksum(), before);
  });

  it('uninstalls: the cluster-wide objects are gone', async () => {
    await helmAt(['uninstall', RELEASE, '--namespace', RELEASE_NAMESPACE]);
    installed = false;
    const objectApi = await api();
    for (const [kind, apiVersion, name] of [
      ['ClusterRole', 'rbac.authorization.k8s.io/v1', EXECUTOR],
      ['ClusterRole', 'rbac.authorization.k8s.io/v1', `${EXECUTOR}-workloads`],
      ['ClusterRoleBinding', 'rbac.authorization.k8s.io/v1', `${EXECUTOR}-cordon`],
      ['ValidatingAdmissionPolicy', 'admissionregistration.k8s.io/v1', `${EXECUTOR}-namespaces`],
    ] as const) {
      await assert.rejects(
        objectApi.read({ apiVersion, kind, metadata: { name } }),
        (error: unknown) => error instanceof ApiException && error.code === 404,
        `${kind} ${name} left behind`,
      );
    }
    await assert.rejects(
      objectApi.read({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: EXECUTOR, namespace: ACT },
      }),
      (error: unknown) => error instanceof ApiException && error.code === 404,
    );
  });

  async function api() {
    return KubernetesObjectApi.makeApiClient(admin);
  }
});
