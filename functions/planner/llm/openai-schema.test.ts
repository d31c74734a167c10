import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseProposalText } from './answer-parser.js';
import { retryAfterMsOf } from './openai-compatible.js';
import { MODEL_TEXT_MAX_CHARS, PLAN_JSON_SCHEMA, toStrictSchema, unboundedFields } from './openai-schema.js';

describe('the plan schema sent to OpenAI-compatible models', () => {
  it('bounds every string and array, and caps free text for the model', () => {
    assert.deepEqual(unboundedFields(PLAN_JSON_SCHEMA), []);
    assert.equal(PLAN_JSON_SCHEMA.properties?.diagnosis?.maxLength, MODEL_TEXT_MAX_CHARS);
    assert.equal(PLAN_JSON_SCHEMA.properties?.rationale?.maxLength, MODEL_TEXT_MAX_CHARS);
    assert.equal(PLAN_JSON_SCHEMA.properties?.actions?.maxItems, 5);
  });

  it('finds an unbounded string or array wherever it hides', () => {
    const schema = toStrictSchema({
      type: 'object',
      properties: {
        tags: { type: 'array', items: { type: 'string' } },
        kind: { type: 'string', enum: ['a', 'b'] },
      },
      required: ['tags', 'kind'],
    });
    // toStrictSchema caps the string; only the array is left unbounded.
    assert.deepEqual(unboundedFields(schema), ['(root).tags: array']);
    assert.deepEqual(
      unboundedFields({ anyOf: [{ type: 'object', properties: { note: { type: ['string', 'null'] } } }] }),
      ['(root)|0.note: string'],
    );
  });

  it('is strict: closed objects, every property required, optional ones nullable', () => {
    const variants = PLAN_JSON_SCHEMA.properties?.actions?.items?.anyOf ?? [];
    const scale = variants.find((variant) => variant.properties?.action?.const === 'scale');
    assert.equal(scale?.additionalProperties, false);
    assert.deepEqual(scale?.required, ['action', 'namespace', 'kind', 'name', 'replicas', 'fromReplicas']);
    assert.deepEqual(scale?.properties?.fromReplicas?.anyOf?.[1], { type: 'null' });
  });

  it('reads null as absent only when asked to', () => {
    const answer = JSON.stringify({
      decision: 'escalate',
      diagnosis: 'unknown',
      rationale: 'look',
      confidence: 0.5,
      actions: [
        { action: 'scale', namespace: 'a', kind: 'Deployment', name: 'b', replicas: 2, fromReplicas: null },
      ],
    });
    assert.equal(parseProposalText(answer, { nullMeansAbsent: true }).ok, true);
    assert.equal(parseProposalText(answer).ok, false);
  });
});

describe('retryAfterMsOf', () => {
  it('reads retry-after-ms, retry-after seconds and an HTTP date', () => {
    const now = Date.parse('2026-12-03T10:00:00Z');
    assert.equal(retryAfterMsOf(new Headers({ 'retry-after-ms': '250', 'retry-after': '9' }), now), 250);
    assert.equal(retryAfterMsOf(new Headers({ 'retry-after': '1.5' }), now), 1500);
    assert.equal(retryAfterMsOf(new Headers({ 'retry-after': 'Thu, 03 Dec 2026 10:00:02 GMT' }), now), 2000);
    assert.equal(retryAfterMsOf(new Headers({ 'retry-after': 'soon' }), now), undefined);
    assert.equal(retryAfterMsOf(new Headers(), now), undefined);
  });
});
