import { type ResponseSchema, type Schema, SchemaType } from '@google/generative-ai';
import { z } from 'zod';
import { PlanProposal } from '../../shared/contracts/index.js';

/**
 * Gemini's `responseSchema`, generated from the zod `PlanProposal` so the two cannot drift apart.
 *
 * Gemini accepts an OpenAPI subset (in this client: type, properties, required, enum, items, min/maxItems,
 * nullable, description) without oneOf/anyOf. So:
 * - the discriminated union of actions is flattened into ONE object: its discriminator (`action`) becomes an
 *   enum of every variant's value, the other properties are the union of all variants' properties, and only
 *   the fields every variant requires stay required. The description tells the model which fields belong to
 *   which action; the strict parse afterwards (answer-parser.ts) rejects any mix, so nothing is lost;
 * - bounds Gemini cannot express (pattern, min/max, lengths) move into descriptions, as hints for the model.
 *   They are still enforced by the zod parse of the answer.
 */
export const PLAN_RESPONSE_SCHEMA: ResponseSchema = toGeminiSchema(
  z.toJSONSchema(PlanProposal, { io: 'output', target: 'openapi-3.0' }) as JsonSchema,
);

/** The part of JSON Schema (OpenAPI 3.0 flavour) zod emits for our contracts. */
export interface JsonSchema {
  type?: string;
  description?: string;
  nullable?: boolean;
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: unknown;
  items?: JsonSchema;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean | number;
  exclusiveMaximum?: boolean | number;
}

export function toGeminiSchema(node: JsonSchema): Schema {
  const variants = node.oneOf ?? node.anyOf;
  if (variants) return toGeminiSchema(flattenObjectUnion(variants));
  const base = {
    ...(describe(node) ? { description: describe(node) } : {}),
    ...(node.nullable ? { nullable: true } : {}),
  };
  const values = enumValues(node);
  switch (node.type) {
    case 'object': {
      const properties = Object.fromEntries(
        Object.entries(node.properties ?? {}).map(([name, child]) => [name, toGeminiSchema(child)]),
      );
      if (Object.keys(properties).length === 0) throw unsupported(node, 'an object without properties');
      return { ...base, type: SchemaType.OBJECT, properties, required: node.required ?? [] };
    }
    case 'array':
      if (!node.items) throw unsupported(node, 'an array without items');
      return {
        ...base,
        type: SchemaType.ARRAY,
        items: toGeminiSchema(node.items),
        ...(node.minItems !== undefined ? { minItems: node.minItems } : {}),
        ...(node.maxItems !== undefined ? { maxItems: node.maxItems } : {}),
      };
    case 'string':
      if (values) return { ...base, type: SchemaType.STRING, format: 'enum', enum: values };
      return { ...base, type: SchemaType.STRING };
    case 'number':
      return { ...base, type: SchemaType.NUMBER };
    case 'integer':
      return { ...base, type: SchemaType.INTEGER };
    case 'boolean':
      return { ...base, type: SchemaType.BOOLEAN };
    default:
      throw unsupported(node, `type ${String(node.type)}`);
  }
}

function flattenObjectUnion(variants: JsonSchema[]): JsonSchema {
  if (variants.some((variant) => variant.type !== 'object' || !variant.properties)) {
    throw unsupported({ oneOf: variants }, 'a union of anything but objects');
  }
  const discriminator = Object.keys(variants[0]!.properties!).find((name) =>
    variants.every((variant) => enumValues(variant.properties![name] ?? {})?.length === 1),
  );
  if (!discriminator) throw unsupported({ oneOf: variants }, 'a union without a discriminator');

  const properties: Record<string, JsonSchema> = {};
  for (const variant of variants) {
    for (const [name, schema] of Object.entries(variant.properties!)) {
      properties[name] = properties[name] ? mergeProperty(name, properties[name], schema) : schema;
    }
  }
  const required = variants
    .map((variant) => variant.required ?? [])
    .reduce((common, next) => common.filter((name) => next.includes(name)));
  const fieldsByValue = variants.map((variant) => {
    const value = enumValues(variant.properties![discriminator]!)![0];
    const fields = Object.keys(variant.properties!).filter((name) => name !== discriminator);
    const optional = fields.filter((name) => !(variant.required ?? []).includes(name));
    const optionalNote = optional.length > 0 ? `; optional: ${optional.join(', ')}` : '';
    return `"${value}" uses ${fields.join(', ')}${optionalNote}`;
  });
  return {
    type: 'object',
    description:
      `One action. Set "${discriminator}" and only the fields that action uses: ${fieldsByValue.join('. ')}. ` +
      'Any other field makes the answer invalid.',
    properties,
    required,
  };
}

/** Two variants' schemas for one field name: enums are united; anything else must be identical. */
function mergeProperty(name: string, left: JsonSchema, right: JsonSchema): JsonSchema {
  const leftValues = enumValues(left);
  const rightValues = enumValues(right);
  if (leftValues && rightValues && left.type === right.type) {
    const { const: _const, ...rest } = left;
    return { ...rest, enum: [...new Set([...leftValues, ...rightValues])] };
  }
  if (JSON.stringify(left) !== JSON.stringify(right)) {
    throw unsupported(left, `field "${name}" with different schemas in different variants`);
  }
  return left;
}

function enumValues(node: JsonSchema): string[] | undefined {
  const values = node.const !== undefined ? [node.const] : node.enum;
  if (!values) return undefined;
  if (!values.every((value): value is string => typeof value === 'string')) {
    throw unsupported(node, 'a non-string enum');
  }
  return values;
}

/** Bounds Gemini's schema cannot carry, phrased for the model. */
function describe(node: JsonSchema): string | undefined {
  const hints: string[] = [];
  if (node.minLength !== undefined) hints.push(`at least ${node.minLength} characters`);
  if (node.maxLength !== undefined) hints.push(`at most ${node.maxLength} characters`);
  if (node.pattern !== undefined) hints.push(`must match ${node.pattern}`);
  if (node.minimum !== undefined) {
    hints.push(`${node.exclusiveMinimum === true ? 'greater than' : 'at least'} ${node.minimum}`);
  }
  if (node.maximum !== undefined) {
    hints.push(`${node.exclusiveMaximum === true ? 'less than' : 'at most'} ${node.maximum}`);
  }
  const text = [node.description, hints.join(', ')].filter(Boolean).join('. ');
  return text.length > 0 ? text : undefined;
}

function unsupported(node: JsonSchema, what: string): Error {
  return new Error(`cannot express ${what} in Gemini's response schema: ${JSON.stringify(node)}`);
}
