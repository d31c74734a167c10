import { PlanProposal } from '../../shared/contracts/index.js';

export interface ParseOptions {
  /**
   * OpenAI's strict structured output makes every field required, so an optional field arrives as `null`; such a
   * field is dropped before the parse (no field of the contract is nullable, so nothing else can mean null).
   */
  nullMeansAbsent?: boolean;
}

export type ParsedAnswer = { ok: true; proposal: PlanProposal } | { ok: false; issues: string[] };

/**
 * The model's text back into a `PlanProposal`, strictly: valid JSON, valid per the zod contract, and no field
 * the contract does not know. zod drops unknown keys silently, and the flattened response schema lets the
 * model put, say, `replicas` on a rollout-restart; dropping it would change what the model meant, so any
 * dropped key is an issue to repair instead.
 */
export function parseProposalText(text: string, options: ParseOptions = {}): ParsedAnswer {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    return { ok: false, issues: [`the answer is not JSON (${(error as Error).message})`] };
  }
  if (options.nullMeansAbsent) raw = withoutNulls(raw);
  const result = PlanProposal.safeParse(raw);
  if (!result.success) {
    return {
      ok: false,
      issues: result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`),
    };
  }
  const unknownFields = droppedKeys(raw, result.data, '');
  if (unknownFields.length > 0) {
    return { ok: false, issues: unknownFields.map((path) => `${path}: field not allowed here`) };
  }
  return { ok: true, proposal: result.data };
}

function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (!isRecord(value)) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, child]) => child !== null)
      .map(([key, child]) => [key, withoutNulls(child)]),
  );
}

function droppedKeys(raw: unknown, parsed: unknown, path: string): string[] {
  if (Array.isArray(raw) && Array.isArray(parsed)) {
    return raw.flatMap((item, index) => droppedKeys(item, parsed[index], join(path, String(index))));
  }
  if (isRecord(raw) && isRecord(parsed)) {
    return Object.keys(raw).flatMap((key) =>
      key in parsed ? droppedKeys(raw[key], parsed[key], join(path, key)) : [join(path, key)],
    );
  }
  return [];
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const join = (path: string, key: string) => (path ? `${path}.${key}` : key);
