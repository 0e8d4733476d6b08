/**
 * `strict: true` tools, checked as the real Messages API checks them (strict tool use compiles
 * every strict schema of a request into one decoding grammar, and refuses what it cannot
 * compile). Written from the API's documentation and its real error messages, independently of
 * the runner's own check (contract/output-schema.ts), so a test against the fake fails where
 * production would.
 *
 * Real wording (seen in public reports): `tools.N.custom: For 'object' type, 'additionalProperties'
 * must be explicitly set to false`; `tools.N.custom: For 'integer' type, property 'minimum' is not
 * supported` (and `properties maximum, minimum are not supported` for several); `The compiled
 * grammar is too large, which would cause performance issues. Simplify your tool schemas or reduce
 * the number of strict tools.` (past 24 optional parameters). The wording for too many strict
 * tools, `minItems` above 1 and recursion is this fake's own.
 */

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Keywords strict mode refuses, by the type they constrain. */
const UNSUPPORTED: Record<string, string[]> = {
  integer: ['exclusiveMaximum', 'exclusiveMinimum', 'maximum', 'minimum', 'multipleOf'],
  number: ['exclusiveMaximum', 'exclusiveMinimum', 'maximum', 'minimum', 'multipleOf'],
  string: ['maxLength', 'minLength'],
  array: ['contains', 'maxContains', 'maxItems', 'minContains', 'prefixItems', 'uniqueItems'],
  object: ['maxProperties', 'minProperties', 'patternProperties', 'propertyNames', 'unevaluatedProperties'],
};

export const MAX_STRICT_TOOLS = 20;
const MAX_OPTIONAL = 24;
const MAX_UNIONS = 16;
const GRAMMAR_TOO_LARGE =
  'The compiled grammar is too large, which would cause performance issues. Simplify your tool schemas or reduce the number of strict tools.';

/** The first problem with the request's strict tools, as the API words it, or null. */
export function checkStrictTools(tools: unknown[]): string | null {
  let strict = 0;
  const counts = { optional: 0, unions: 0 };
  for (const [n, tool] of tools.entries()) {
    if (!isObj(tool) || tool.strict === undefined) continue;
    const custom = tool.type === undefined || tool.type === null || tool.type === 'custom';
    const at = `tools.${n}.${custom ? 'custom' : String(tool.type)}`;
    if (typeof tool.strict !== 'boolean') return `${at}.strict: Input should be a valid boolean`;
    if (!tool.strict || !custom) continue;
    strict++;
    const schema = tool.input_schema as Obj;
    const problem = schemaProblem(schema, at, defsOf(schema), counts, []);
    if (problem) return problem;
  }
  if (strict > MAX_STRICT_TOOLS) return `Too many strict tools (${strict}): at most ${MAX_STRICT_TOOLS} tools may set strict: true.`;
  if (counts.optional > MAX_OPTIONAL || counts.unions > MAX_UNIONS) return GRAMMAR_TOO_LARGE;
  return null;
}

function defsOf(root: Obj): Map<string, unknown> {
  const defs = new Map<string, unknown>();
  for (const key of ['$defs', 'definitions'])
    if (isObj(root[key])) for (const [k, v] of Object.entries(root[key])) defs.set(`#/${key}/${k}`, v);
  return defs;
}

function schemaProblem(
  node: unknown,
  at: string,
  defs: Map<string, unknown>,
  counts: { optional: number; unions: number },
  refs: string[],
): string | null {
  if (!isObj(node)) return null;
  const types = (Array.isArray(node.type) ? node.type : [node.type]).filter((t): t is string => typeof t === 'string');
  if (Array.isArray(node.type) || Array.isArray(node.anyOf)) counts.unions++;
  for (const t of types) {
    if (t === 'object' && node.additionalProperties !== false)
      return `${at}: For 'object' type, 'additionalProperties' must be explicitly set to false`;
    const bad = (UNSUPPORTED[t] ?? []).filter((k) => k in node).sort();
    if (bad.length === 1) return `${at}: For '${t}' type, property '${bad[0]}' is not supported`;
    if (bad.length > 1) return `${at}: For '${t}' type, properties ${bad.join(', ')} are not supported`;
    if (t === 'array' && 'minItems' in node && node.minItems !== 0 && node.minItems !== 1)
      return `${at}: For 'array' type, 'minItems' values other than 0 and 1 are not supported`;
  }
  const children: unknown[] = [];
  if (isObj(node.properties)) {
    children.push(...Object.values(node.properties));
    const required = Array.isArray(node.required) ? node.required : [];
    counts.optional += Object.keys(node.properties).filter((k) => !required.includes(k)).length;
  }
  if (isObj(node.items)) children.push(node.items);
  for (const k of ['anyOf', 'allOf']) if (Array.isArray(node[k])) children.push(...(node[k] as unknown[]));
  if (refs.length === 0) for (const d of defs.values()) children.push(d);
  if (typeof node.$ref === 'string' && defs.has(node.$ref)) {
    if (refs.includes(node.$ref)) return `${at}: Recursive schemas are not supported`;
    const p = schemaProblem(defs.get(node.$ref), at, defs, { optional: 0, unions: 0 }, [...refs, node.$ref]);
    if (p) return p;
  }
  for (const c of children) {
    const p = schemaProblem(c, at, defs, counts, refs.length === 0 ? ['#'] : refs);
    if (p) return p;
  }
  return null;
}
