import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PLAN_JSON_SCHEMA } from '../../../functions/planner/llm/openai-schema.js';
import { toGrammarSchema } from './server.js';

const keysOf = (node: unknown): string[] =>
  typeof node !== 'object' || node === null
    ? []
    : Object.entries(node).flatMap(([key, child]) => [
        key,
        ...(key === 'properties'
          ? Object.values(child as object).flatMap(keysOf)
          : key === 'enum' || key === 'const'
            ? []
            : Array.isArray(child)
              ? child.flatMap(keysOf)
              : keysOf(child)),
      ]);

describe('the local model server turns a strict OpenAI schema into a grammar schema', () => {
  it('keeps every bound, turns anyOf into oneOf, and drops what a grammar cannot enforce', () => {
    const grammar = toGrammarSchema(PLAN_JSON_SCHEMA) as {
      properties: Record<string, { maxLength?: number; maxItems?: number; items?: { oneOf?: unknown[] } }>;
    };
    const keys = new Set(keysOf(grammar));
    for (const gone of ['anyOf', 'pattern', 'minimum', 'maximum', 'exclusiveMinimum']) {
      assert.ok(!keys.has(gone), gone);
    }
    assert.equal(grammar.properties.diagnosis?.maxLength, PLAN_JSON_SCHEMA.properties?.diagnosis?.maxLength);
    assert.equal(grammar.properties.actions?.maxItems, 5);
    assert.equal(grammar.properties.actions?.items?.oneOf?.length, 6);
  });

  it('refuses a schema node it cannot express, rather than letting the model write anything', () => {
    assert.throws(() => toGrammarSchema({ type: 'object', properties: { x: {} } }), /cannot express/);
  });
});
