/**
 * A JSON Schema validator for the subset tool descriptors use (draft 7: type, properties, required,
 * additionalProperties, items, enum, const, string and number bounds, pattern). A schema using any other keyword is
 * refused when its source registers, so nothing is silently left unchecked.
 */

const KEYWORDS = new Set([
  'type', 'properties', 'required', 'additionalProperties', 'items', 'enum', 'const', 'minLength', 'maxLength',
  'pattern', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'minItems', 'maxItems',
  'description', 'title', 'default', 'examples', '$schema',
]);

type Schema = Readonly<Record<string, unknown>>;

/** The keywords of `schema` (at any depth) this validator does not know; empty when it can check all of it. */
export function unsupportedKeywords(schema: unknown, path = '#'): string[] {
  if (!schema || typeof schema !== 'object' || Array.isArray(schema)) return [`${path} (not a schema object)`];
  const found: string[] = [];
  for (const [key, value] of Object.entries(schema)) {
    if (!KEYWORDS.has(key)) found.push(`${path}/${key}`);
    if (key === 'properties' && value && typeof value === 'object') {
      for (const [name, child] of Object.entries(value)) found.push(...unsupportedKeywords(child, `${path}/properties/${name}`));
    }
    if (key === 'items') found.push(...unsupportedKeywords(value, `${path}/items`));
    if (key === 'additionalProperties' && typeof value !== 'boolean') found.push(`${path}/additionalProperties (only true or false)`);
  }
  return found;
}

/** The problems of `value` against `schema`, each naming where it is; empty when it is valid. */
export function validateJson(schema: Schema, value: unknown, path = 'input'): string[] {
  const problems: string[] = [];
  const type = schema.type as string | readonly string[] | undefined;
  if (type !== undefined) {
    const types = typeof type === 'string' ? [type] : type;
    if (!types.some((name) => isType(value, name))) return [`${path}: expected ${types.join(' or ')}`];
  }
  if (Array.isArray(schema.enum) && !schema.enum.some((item) => item === value)) problems.push(`${path}: must be one of ${schema.enum.map((item) => JSON.stringify(item)).join(', ')}`);
  if ('const' in schema && schema.const !== value) problems.push(`${path}: must be ${JSON.stringify(schema.const)}`);
  if (typeof value === 'string') {
    if (typeof schema.minLength === 'number' && [...value].length < schema.minLength) problems.push(`${path}: at least ${schema.minLength} characters`);
    if (typeof schema.maxLength === 'number' && [...value].length > schema.maxLength) problems.push(`${path}: at most ${schema.maxLength} characters`);
    if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern, 'u').test(value)) problems.push(`${path}: must match ${schema.pattern}`);
  }
  if (typeof value === 'number') {
    if (typeof schema.minimum === 'number' && value < schema.minimum) problems.push(`${path}: at least ${schema.minimum}`);
    if (typeof schema.maximum === 'number' && value > schema.maximum) problems.push(`${path}: at most ${schema.maximum}`);
    if (typeof schema.exclusiveMinimum === 'number' && value <= schema.exclusiveMinimum) problems.push(`${path}: more than ${schema.exclusiveMinimum}`);
    if (typeof schema.exclusiveMaximum === 'number' && value >= schema.exclusiveMaximum) problems.push(`${path}: less than ${schema.exclusiveMaximum}`);
  }
  if (Array.isArray(value)) {
    if (typeof schema.minItems === 'number' && value.length < schema.minItems) problems.push(`${path}: at least ${schema.minItems} items`);
    if (typeof schema.maxItems === 'number' && value.length > schema.maxItems) problems.push(`${path}: at most ${schema.maxItems} items`);
    const items = schema.items as Schema | undefined;
    if (items) value.forEach((item, index) => problems.push(...validateJson(items, item, `${path}.${index}`)));
  }
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const object = value as Record<string, unknown>;
    const properties = (schema.properties ?? {}) as Record<string, Schema>;
    for (const name of (schema.required ?? []) as string[]) if (object[name] === undefined) problems.push(`${path}.${name}: required`);
    for (const [name, item] of Object.entries(object)) {
      const child = properties[name];
      if (child) problems.push(...validateJson(child, item, `${path}.${name}`));
      else if (schema.additionalProperties === false) problems.push(`${path}.${name}: not an argument of this tool`);
    }
  }
  return problems;
}

function isType(value: unknown, type: string): boolean {
  switch (type) {
    case 'object':
      return value !== null && typeof value === 'object' && !Array.isArray(value);
    case 'array':
      return Array.isArray(value);
    case 'string':
      return typeof value === 'string';
    case 'integer':
      return Number.isInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'null':
      return value === null;
    default:
      return false;
  }
}
