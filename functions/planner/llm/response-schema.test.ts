import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Schema, SchemaType } from '@google/generative-ai';
import { responseSchemaProblem } from '../../../local/standins/fake-gemini/schema-check.js';
import {
  type RemediationAction,
  RemediationAction as RemediationActionSchema,
} from '../../shared/contracts/index.js';
import { parseProposalText } from './answer-parser.js';
import { PLAN_RESPONSE_SCHEMA, toGeminiSchema } from './response-schema.js';

/** One valid example per action variant; the first test proves the list covers every variant. */
const EXAMPLES: RemediationAction[] = [
  { action: 'scale', namespace: 'shop', kind: 'Deployment', name: 'web', replicas: 3 },
  { action: 'rollout-restart', namespace: 'shop', kind: 'DaemonSet', name: 'agent' },
  {
    action: 'set-resources',
    namespace: 'shop',
    kind: 'StatefulSet',
    name: 'db',
    container: 'postgres',
    limits: { memoryBytes: 2 ** 30, cpuCores: 2 },
    requests: { cpuCores: 0.5 },
  },
  { action: 'delete-pod', namespace: 'shop', pod: 'web-7d4b9-x2k8p' },
  { action: 'cordon', node: 'node-1' },
  { action: 'uncordon', node: 'node-1' },
];

const proposalWith = (actions: unknown[]) => ({
  decision: 'act',
  diagnosis: 'memory is running out',
  rationale: 'raise the limit',
  confidence: 0.8,
  actions,
});

/** What Gemini may generate under a schema: declared properties only, required ones present, enums kept. */
function conforms(value: unknown, schema: Schema): boolean {
  if (value === null) return schema.nullable === true;
  switch (schema.type) {
    case SchemaType.OBJECT: {
      if (typeof value !== 'object' || Array.isArray(value)) return false;
      const record = value as Record<string, unknown>;
      return (
        (schema.required ?? []).every((name) => name in record) &&
        Object.entries(record).every(
          ([name, child]) =>
            schema.properties[name] !== undefined && conforms(child, schema.properties[name]),
        )
      );
    }
    case SchemaType.ARRAY:
      return Array.isArray(value) && value.every((item) => conforms(item, schema.items));
    case SchemaType.STRING:
      return typeof value === 'string' && (schema.enum === undefined || schema.enum.includes(value));
    case SchemaType.NUMBER:
      return typeof value === 'number';
    case SchemaType.INTEGER:
      return Number.isInteger(value);
    case SchemaType.BOOLEAN:
      return typeof value === 'boolean';
  }
}

describe('Gemini response schema generated from PlanProposal', () => {
  it('has an example for every action variant', () => {
    const variants = RemediationActionSchema.options.map((option) => option.shape.action.value).sort();
    assert.deepEqual(EXAMPLES.map((example) => example.action).sort(), variants);
  });

  it('flattens the action union into one object whose action enum names every variant', () => {
    assert.equal(PLAN_RESPONSE_SCHEMA.type, SchemaType.OBJECT);
    const actions = (PLAN_RESPONSE_SCHEMA as { properties: Record<string, Schema> }).properties.actions!;
    assert.equal(actions.type, SchemaType.ARRAY);
    const action = (actions as { items: Schema }).items;
    assert.equal(action.type, SchemaType.OBJECT);
    const properties = (action as { properties: Record<string, Schema> }).properties;
    assert.deepEqual(
      (properties.action as { enum: string[] }).enum.sort(),
      EXAMPLES.map((example) => example.action).sort(),
    );
    assert.deepEqual((action as { required: string[] }).required, ['action']);
    assert.match(action.description ?? '', /"scale" uses namespace, kind, name, replicas/);
  });

  it('is a schema the Gemini API accepts', () => {
    assert.equal(responseSchemaProblem(PLAN_RESPONSE_SCHEMA), undefined);
  });

  it('can express every action variant, and each goes back through the strict zod parse', () => {
    for (const example of EXAMPLES) {
      const proposal = proposalWith([example]);
      assert.ok(conforms(proposal, PLAN_RESPONSE_SCHEMA), example.action);
      const parsed = parseProposalText(JSON.stringify(proposal));
      assert.ok(parsed.ok, example.action);
      assert.deepEqual(parsed.proposal.actions, [example]);
    }
  });

  it('refuses an answer that mixes fields of different actions, which the flat schema allows', () => {
    const mixed = proposalWith([
      { action: 'rollout-restart', namespace: 'shop', kind: 'Deployment', name: 'web', replicas: 0 },
    ]);
    assert.ok(conforms(mixed, PLAN_RESPONSE_SCHEMA));

    const parsed = parseProposalText(JSON.stringify(mixed));

    assert.deepEqual(parsed, { ok: false, issues: ['actions.0.replicas: field not allowed here'] });
  });

  it('refuses an action kind the variant does not allow, though the merged enum has it', () => {
    const parsed = parseProposalText(
      JSON.stringify(
        proposalWith([{ action: 'scale', namespace: 'shop', kind: 'DaemonSet', name: 'x', replicas: 2 }]),
      ),
    );
    assert.equal(parsed.ok, false);
  });

  it('reports why an answer is not a proposal', () => {
    assert.match(
      (parseProposalText('Sure! Here is the plan') as { issues: string[] }).issues[0]!,
      /not JSON/,
    );
    const invalid = parseProposalText(JSON.stringify({ ...proposalWith([]), confidence: 7, extra: 1 }));
    assert.equal(invalid.ok, false);
    assert.match((invalid as { issues: string[] }).issues.join('\n'), /^confidence:/m);
  });

  it('refuses what it cannot express rather than sending a weaker schema', () => {
    assert.throws(
      () => toGeminiSchema({ oneOf: [{ type: 'string' }, { type: 'number' }] }),
      /cannot express/,
    );
    assert.throws(() => toGeminiSchema({ type: 'object', properties: {} }), /without properties/);
  });
});
