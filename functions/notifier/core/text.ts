/** The namespace and owning workload (or the pod when no owner is known) an alert is about. */
export function workloadLabel(target: {
  namespace: string;
  pod: string;
  container?: string | undefined;
  owner?: { kind: string; name: string } | undefined;
}): string {
  const workload = target.owner
    ? `${target.owner.kind.toLowerCase()}/${target.owner.name}`
    : `pod/${target.pod}`;
  return `${target.namespace}/${workload}${target.container ? ` (container ${target.container})` : ''}`;
}
