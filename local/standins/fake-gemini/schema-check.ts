/**
 * The checks Gemini makes on `generationConfig.responseSchema` before running the model, so a schema the
 * real API would refuse with 400 is refused here too: only the fields of its OpenAPI subset (as typed by
 * @google/generative-ai), known types, non-empty object properties, `required` naming real properties.
 */
const ALLOWED_FIELDS = new Set([
  'type',
  'format',
  'description',
  'nullable',
  'enum',
  'properties',
  'required',
  'items',
  'minItems',
  'maxItems',
]);
const TYPES = new Set(['STRING', 'NUMBER', 'INTEGER', 'BOOLEAN', 'ARRAY', 'OBJECT']);

export function responseSchemaProblem(
  schema: unknown,
  path = 'generation_config.response_schema',
): string | undefined {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
    return `Invalid value at '${path}': expected a Schema object`;
  }
  const node = schema as Record<string, unknown>;
  for (const field of Object.keys(node)) {
    if (!ALLOWED_FIELDS.has(field)) {
      return `Invalid JSON payload received. Unknown name "${field}" at '${path}': Cannot find field.`;
    }
  }
  const type = String(node.type ?? '').toUpperCase();
  if (!TYPES.has(type)) return `Invalid value at '${path}.type': "${String(node.type)}"`;
  if (node.enum !== undefined && (type !== 'STRING' || !Array.isArray(node.enum))) {
    return `* ${path}.enum: only allowed for STRING type`;
  }
  if (type === 'ARRAY') {
    if (node.items === undefined) return `* ${path}.items: missing field.`;
    return responseSchemaProblem(node.items, `${path}.items`);
  }
  if (type !== 'OBJECT') return undefined;
  const properties = node.properties as Record<string, unknown> | undefined;
  if (!properties || Object.keys(properties).length === 0) {
    return `* ${path}.properties: should be non-empty for OBJECT type`;
  }
  const required = (node.required as string[] | undefined) ?? [];
  const unknownRequired = required.find((name) => !(name in properties));
  if (unknownRequired) return `* ${path}.required[${unknownRequired}]: property is not defined`;
  for (const [name, child] of Object.entries(properties)) {
    const problem = responseSchemaProblem(child, `${path}.properties[${name}].value`);
    if (problem) return problem;
  }
  return undefined;
}
