import { z } from 'zod';
import { NamespaceName, ResourceQuantities } from '../../../functions/shared/contracts/index.js';

/**
 * The fake reads the machine-readable block the planner's context builder (functions/planner/core/context.ts)
 * puts in every prompt: one JSON document (`<` escaped) between an `<incident-data>` line and an
 * `</incident-data>` line. Only the fields the fake's answers need are read; a test feeds it the builder's
 * real output, so the two cannot drift apart unnoticed.
 */
const OPEN_LINE = '\n<incident-data>\n';
const CLOSE_LINE = '\n</incident-data>';

export const IncidentData = z.object({
  clusterId: z.string(),
  namespace: NamespaceName,
  /** `Kind/name` of the owning workload (or node, or bare pod). */
  subject: z.string(),
  /** One of PROBLEM_CLASSES in core/correlate.ts. */
  problem: z.string(),
  /** Desired replicas of the subject, when the builder knows them. */
  replicas: z.number().int().nonnegative().optional(),
  nodes: z.array(z.string()),
  containers: z.array(
    z.object({
      pod: z.string(),
      container: z.string(),
      limits: ResourceQuantities,
      requests: ResourceQuantities,
    }),
  ),
  usage: z.array(z.object({ pod: z.string(), container: z.string().optional(), signal: z.string() })),
  events: z.array(z.object({ reason: z.string(), pod: z.string(), container: z.string().optional() })),
});
export type IncidentData = z.infer<typeof IncidentData>;

/** The block in a prompt, or undefined when there is none or it is not what the builder writes. */
export function extractIncidentData(promptText: string): IncidentData | undefined {
  const start = promptText.indexOf(OPEN_LINE);
  const end = promptText.indexOf(CLOSE_LINE, start + OPEN_LINE.length);
  if (start < 0 || end < 0) return undefined;
  try {
    const result = IncidentData.safeParse(JSON.parse(promptText.slice(start + OPEN_LINE.length, end)));
    return result.success ? result.data : undefined;
  } catch {
    return undefined;
  }
}
