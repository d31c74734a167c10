import type { V1Pod } from '@kubernetes/client-node';
import { type ActionOf, targetOf } from '../../../shared/actions/index.js';
import { type ControllerRef, topController } from '../controller.js';
import { TargetMismatchError } from '../errors.js';
import type { Applier, Progress, StepContext } from './applier.js';

type DeletePod = ActionOf<'delete-pod'>;

async function readPod(action: DeletePod, ctx: StepContext): Promise<V1Pod> {
  const pod = await ctx.cluster.read<V1Pod>(targetOf(action));
  if (!pod) throw new TargetMismatchError(`pod ${action.namespace}/${action.pod} does not exist`);
  return pod;
}

/** Ready replicas of the pod's controller, read fresh; a pod's replacement is ready when the count is whole. */
async function controllerReady(
  ctx: StepContext,
  namespace: string,
  controller: ControllerRef,
): Promise<Progress> {
  const workload = await ctx.cluster.read<{
    apiVersion: string;
    kind: string;
    spec?: { replicas?: number };
    status?: { readyReplicas?: number };
  }>({ ...controller, namespace });
  if (!workload)
    return { done: false, failed: true, detail: `${controller.kind} ${controller.name} is gone` };
  const desired = workload.spec?.replicas ?? 1;
  const ready = workload.status?.readyReplicas ?? 0;
  return ready >= desired
    ? {
        done: true,
        detail: `pod replaced; ${ready} of ${desired} replicas of ${controller.kind} ${controller.name} ready`,
      }
    : {
        done: false,
        detail: `${ready} of ${desired} replicas of ${controller.kind} ${controller.name} ready`,
      };
}

/**
 * Removes one pod so its controller replaces it, by eviction so that PodDisruptionBudgets are honoured (a budget
 * that allows no disruption refuses the plan, with its reason, before anything is written: the dry run evicts
 * too). The eviction is conditional on the pod's uid, so a redelivered plan can never remove the replacement (a
 * StatefulSet's has the same name). It cannot be rolled back.
 */
export const deletePodApplier: Applier<DeletePod> = {
  async dryRun(action, ctx) {
    const pod = await readPod(action, ctx);
    await ctx.cluster.evict(targetOf(action), { dryRun: true, uid: pod.metadata?.uid });
  },
  async apply(action, ctx, record) {
    const pod = await readPod(action, ctx);
    const uid = pod.metadata?.uid;
    const controller = await topController(ctx.cluster, pod);
    await ctx.cluster.evict(targetOf(action), { dryRun: true, uid });
    await record({ uid, controller: controller ?? null });
    const evicted = await ctx.cluster.evict(targetOf(action), { uid });
    return evicted ? `evicted pod ${action.pod} (uid ${uid})` : `pod ${action.pod} was already gone`;
  },
  async alreadyApplied(action, ctx, undo) {
    if (!undo?.uid) return false;
    const pod = await ctx.cluster.read<V1Pod>(targetOf(action));
    return pod?.metadata?.uid !== undo.uid || pod.metadata?.deletionTimestamp !== undefined;
  },
  async rollback() {
    return { restored: false, detail: 'a deleted pod cannot be restored; its controller replaces it' };
  },
  async progress(action, ctx, undo) {
    const pod = await ctx.cluster.read<V1Pod>(targetOf(action));
    if (pod?.metadata?.uid === undo.uid)
      return { done: false, detail: `pod ${action.pod} is still terminating` };
    const controller = undo.controller as ControllerRef | null;
    if (!controller) return { done: true, detail: `pod ${action.pod} is gone` };
    return controllerReady(ctx, action.namespace, controller);
  },
};
