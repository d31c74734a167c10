/**
 * Prometheus alerting-rule semantics with the rule evaluated at every sample (interval = step): the alert goes
 * pending at the first evaluation where its expression holds, fires once it has held for `forSeconds`
 * (`ts - activeAt >= for`, as Prometheus compares), and is dropped at the first evaluation where it does not
 * hold (no `keep_firing_for`). Each transition to firing is one incident.
 */
export function firingStarts(
  holds: ArrayLike<boolean>,
  times: ArrayLike<number>,
  forSeconds: number,
): number[] {
  const starts: number[] = [];
  let activeAt: number | null = null;
  let firing = false;
  for (let i = 0; i < holds.length; i++) {
    if (!holds[i]) {
      activeAt = null;
      firing = false;
      continue;
    }
    activeAt ??= times[i]!;
    if (!firing && times[i]! - activeAt >= forSeconds) {
      firing = true;
      starts.push(times[i]!);
    }
  }
  return starts;
}
