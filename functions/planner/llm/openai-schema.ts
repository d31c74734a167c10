import { z } from 'zod';
import { PlanProposal } from '../../shared/contracts/index.js';
import type { JsonSchema } from './response-schema.js';

/**
 * The plan proposal as an OpenAI strict structured-output schema (`response_format.json_schema`), generated from
 * the zod `PlanProposal` so the two cannot drift apart. Strict mode wants every object closed and every property
 * required, so an optional field becomes "its type or null" (the parser drops the nulls: answer-parser.ts), and
 * the union of actions is an `anyOf`. Patterns and numeric ranges stay in: servers that cannot enforce them
 * ignore them, and the zod parse of the answer enforces them anyway.
 *
 * Every free-text field is capped at MODEL_TEXT_MAX_CHARS, tighter than the contract allows (a shorter answer is
 * still a valid one): a model constrained by a grammar writes until a string's bound, and a small one given an
 * unbounded string never stops. `unboundedFields` is checked when this module loads.
 */
export const MODEL_TEXT_MAX_CHARS = 400;

export interface StrictJsonSchema {
  type?: string | string[];
  description?: string;
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, StrictJsonSchema>;
  required?: string[];
  additionalProperties?: false;
  items?: StrictJsonSchema;
  anyOf?: StrictJsonSchema[];
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
}

export function toStrictSchema(node: JsonSchema, maxTextChars = MODEL_TEXT_MAX_CHARS): StrictJsonSchema {
  const variants = node.oneOf ?? node.anyOf;
  if (variants) return { anyOf: variants.map((variant) => toStrictSchema(variant, maxTextChars)) };
  const {
    $schema: _drop,
    oneOf: _oneOf,
    nullable: _nullable,
    ...rest
  } = node as JsonSchema & { $schema?: string };
  if (node.type === 'object') {
    const properties = Object.entries(node.properties ?? {});
    const required = new Set(node.required ?? []);
    return {
      ...(node.description ? { description: node.description } : {}),
      type: 'object',
      properties: Object.fromEntries(
        properties.map(([name, child]) => {
          const strict = toStrictSchema(child, maxTextChars);
          return [name, required.has(name) ? strict : { anyOf: [strict, { type: 'null' }] }];
        }),
      ),
      required: properties.map(([name]) => name),
      additionalProperties: false,
    };
  }
  if (node.type === 'array') {
    if (!node.items) throw new Error(`an array without items: ${JSON.stringify(node)}`);
    return { ...(rest as StrictJsonSchema), items: toStrictSchema(node.items, maxTextChars) };
  }
  if (node.type === 'string' && node.enum === undefined && node.const === undefined) {
    return {
      ...(rest as StrictJsonSchema),
      maxLength: Math.min(node.maxLength ?? maxTextChars, maxTextChars),
    };
  }
  return rest as StrictJsonSchema;
}

/** Paths of strings without maxLength (enums and constants excepted) and arrays without maxItems. */
export function unboundedFields(node: StrictJsonSchema, path = '(root)'): string[] {
  const found: string[] = [];
  const types = Array.isArray(node.type) ? node.type : node.type ? [node.type] : [];
  const isFixed = node.enum !== undefined || node.const !== undefined;
  if (types.includes('string') && !isFixed && node.maxLength === undefined) found.push(`${path}: string`);
  if (types.includes('array') && node.maxItems === undefined) found.push(`${path}: array`);
  for (const [name, child] of Object.entries(node.properties ?? {})) {
    found.push(...unboundedFields(child, `${path}.${name}`));
  }
  if (node.items) found.push(...unboundedFields(node.items, `${path}[]`));
  (node.anyOf ?? []).forEach((variant, index) => {
    found.push(...unboundedFields(variant, `${path}|${index}`));
  });
  return found;
}

export const PLAN_JSON_SCHEMA: StrictJsonSchema = toStrictSchema(
  z.toJSONSchema(PlanProposal, { io: 'output', target: 'draft-7' }) as JsonSchema,
);

const unbounded = unboundedFields(PLAN_JSON_SCHEMA);
if (unbounded.length > 0) {
  throw new Error(`the plan schema sent to models has unbounded fields: ${unbounded.join(', ')}`);
}
