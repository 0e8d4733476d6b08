/**
 * Structured output: a run's answer as JSON valid against a caller's JSON Schema.
 *
 * The runner offers the model one more tool, {@link OUTPUT_TOOL}, with `strict: true` and the
 * schema as its `input_schema`, and tells it (in the system prompt) to finish by calling it. The
 * call's input is the run's `output`. Here, pure and workflow-safe (no Node, no packages):
 *
 * - {@link outputSchemaProblem}: whether a schema is one strict tool use accepts — the subset the
 *   Messages API documents (types, properties, required, `additionalProperties: false`, items,
 *   `minItems` 0 or 1, enum, const, anyOf, allOf, local `$ref`, string formats, annotations) and
 *   its size limits. Checked by the client (nothing starts) and by the workflow's run-input check
 *   (a bad schema from any other client fails the run at once, with the same line).
 * - {@link normalizeOutputSchema}: what strict mode requires that a caller may leave out:
 *   `additionalProperties: false` on every object.
 * - {@link outputProblems}: the validator the workflow runs on the model's answer (the API's
 *   strict mode already constrains it; the runner checks anyway, deterministically, since a proxy,
 *   another endpoint or a model without strict support may not).
 *
 * `pattern` is refused on purpose: checking it means running the caller's regular expression
 * inside the workflow, where a catastrophic one would stall the run's workflow task.
 */

/** The runner's terminal tool: the model gives its structured answer by calling it. */
export const OUTPUT_TOOL = 'agent_runner_output';

/** How many times the model may try to give a valid structured output, by default. */
export const DEFAULT_OUTPUT_ATTEMPTS = 3;
/** The most attempts a run may allow. */
export const MAX_OUTPUT_ATTEMPTS = 10;
/** The largest output schema accepted, in bytes of JSON (it goes with every model call). */
export const MAX_OUTPUT_SCHEMA_BYTES = 64 * 1024;
/** How deep schemas may nest. */
export const MAX_OUTPUT_SCHEMA_DEPTH = 32;
/** The Messages API's limits on strict schemas: optional properties, and properties using anyOf or a list of types. */
export const MAX_STRICT_OPTIONAL_PROPERTIES = 24;
export const MAX_STRICT_UNION_PROPERTIES = 16;

/** A JSON Schema, as a plain object. */
export type JsonSchema = Record<string, unknown>;

const TYPES = ['object', 'array', 'string', 'number', 'integer', 'boolean', 'null'];
/** The string formats strict tool use supports. */
export const OUTPUT_FORMATS = ['date-time', 'time', 'date', 'duration', 'email', 'hostname', 'uri', 'ipv4', 'ipv6', 'uuid'] as const;
/** Keywords that only describe: kept, never checked. */
const ANNOTATIONS = new Set(['title', 'description', 'default', 'examples', '$comment']);
const SUPPORTED = new Set([
  'type',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'minItems',
  'enum',
  'const',
  'anyOf',
  'allOf',
  '$ref',
  'format',
]);
const SUPPORTED_LIST =
  'type, properties, required, additionalProperties: false, items, minItems (0 or 1), enum, const, anyOf, allOf, $ref, format';

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isPrimitive = (v: unknown) => v === null || ['string', 'number', 'boolean'].includes(typeof v);
const show = (v: unknown) => JSON.stringify(v) ?? String(v);

/** `properties.address.items` → the place in the schema a problem is at. */
function at(path: string): string {
  return path === '' ? 'the root' : path;
}

/** The definitions a `$ref` may point at: `#/$defs/<name>` or `#/definitions/<name>`. */
function defsOf(root: JsonSchema): Map<string, unknown> {
  const defs = new Map<string, unknown>();
  for (const key of ['$defs', 'definitions']) {
    const d = root[key];
    if (isObj(d)) for (const [name, s] of Object.entries(d)) defs.set(`#/${key}/${name}`, s);
  }
  return defs;
}

/**
 * The first problem with an output schema, as one line (starting "output schema"), or null when
 * strict tool use accepts it.
 */
export function outputSchemaProblem(schema: unknown): string | null {
  if (!isObj(schema)) return 'output schema must be a JSON Schema object, e.g. {"type": "object", "properties": {…}}';
  let bytes: number;
  try {
    bytes = new TextEncoder().encode(JSON.stringify(schema)).length;
  } catch {
    return 'output schema must be JSON';
  }
  if (bytes > MAX_OUTPUT_SCHEMA_BYTES) return `output schema is ${bytes} bytes, over the ${MAX_OUTPUT_SCHEMA_BYTES}-byte limit`;
  if (schema.type !== 'object')
    return 'output schema must have "type": "object" at the root (the answer is a tool input, which the Messages API requires to be an object)';
  const defs = defsOf(schema);
  const counts = { optional: 0, union: 0 };
  const problem = nodeProblem(schema, '', { defs, counts, depth: 0, root: true });
  if (problem) return `output schema: ${problem}`;
  for (const [ref, def] of defs) {
    const p = nodeProblem(def, ref.slice(2).replace('/', '.'), { defs, counts, depth: 1, root: false });
    if (p) return `output schema: ${p}`;
  }
  const size = expandedSize(schema, defs);
  if (typeof size === 'string') return `output schema: ${size}`;
  if (counts.optional > MAX_STRICT_OPTIONAL_PROPERTIES)
    return (
      `output schema has ${counts.optional} optional properties; strict tool use allows at most ${MAX_STRICT_OPTIONAL_PROPERTIES} ` +
      'in a request: list more of them in "required"'
    );
  if (counts.union > MAX_STRICT_UNION_PROPERTIES)
    return `output schema uses anyOf or a list of types in ${counts.union} places; strict tool use allows at most ${MAX_STRICT_UNION_PROPERTIES} in a request`;
  return null;
}

interface Walk {
  defs: Map<string, unknown>;
  counts: { optional: number; union: number };
  depth: number;
  root: boolean;
}

/** The most schema nodes a schema may stand for once every `$ref` is expanded (bounds the validator's work). */
const MAX_EXPANDED_NODES = 10_000;

/** The schemas directly inside a (checked) schema node. */
function subschemas(node: Record<string, unknown>): unknown[] {
  const out: unknown[] = [];
  if (isObj(node.properties)) out.push(...Object.values(node.properties));
  if (isObj(node.items)) out.push(node.items);
  for (const k of ['anyOf', 'allOf']) if (Array.isArray(node[k])) out.push(...(node[k] as unknown[]));
  return out;
}

/**
 * How many schema nodes the schema stands for with every `$ref` expanded, or the problem: a
 * recursive `$ref`, or more than {@link MAX_EXPANDED_NODES} nodes.
 */
function expandedSize(root: JsonSchema, defs: Map<string, unknown>): number | string {
  const memo = new Map<string, number>();
  const stack: string[] = [];
  const tooBig = `expands to more than ${MAX_EXPANDED_NODES} schemas once every $ref is followed: simplify it`;
  const size = (node: unknown): number | string => {
    if (!isObj(node)) return 1;
    let n = 1;
    const ref = node.$ref;
    if (typeof ref === 'string' && defs.has(ref)) {
      if (stack.includes(ref)) return `$ref ${ref} makes the schema recursive, which strict tool use does not support`;
      let m = memo.get(ref);
      if (m === undefined) {
        stack.push(ref);
        const r = size(defs.get(ref));
        stack.pop();
        if (typeof r === 'string') return r;
        memo.set(ref, (m = r));
      }
      n += m;
    }
    for (const s of subschemas(node)) {
      const r = size(s);
      if (typeof r === 'string') return r;
      n += r;
      if (n > MAX_EXPANDED_NODES) return tooBig;
    }
    return n > MAX_EXPANDED_NODES ? tooBig : n;
  };
  const total = size(root);
  if (typeof total === 'string') return total;
  for (const [ref, def] of defs) {
    stack.push(ref);
    const r = size(def);
    stack.pop();
    if (typeof r === 'string') return r;
  }
  return total;
}

function nodeProblem(node: unknown, path: string, w: Walk): string | null {
  const where = at(path);
  if (w.depth > MAX_OUTPUT_SCHEMA_DEPTH) return `${where}: nests deeper than ${MAX_OUTPUT_SCHEMA_DEPTH} levels`;
  if (!isObj(node)) return `${where}: must be a schema object, got ${show(node)}`;
  for (const key of Object.keys(node)) {
    if (SUPPORTED.has(key) || ANNOTATIONS.has(key)) continue;
    if (w.root && (key === '$defs' || key === 'definitions' || key === '$schema')) continue;
    if (key === '$defs' || key === 'definitions') return `${where}: ${key} belongs at the root`;
    return `${where}: "${key}" is not supported by strict tool use (supported: ${SUPPORTED_LIST})`;
  }
  const child = (n: unknown, p: string) => nodeProblem(n, p, { ...w, depth: w.depth + 1, root: false });
  const sub = (suffix: string) => (path === '' ? suffix : `${path}.${suffix}`);

  const type = node.type;
  const types = type === undefined ? [] : Array.isArray(type) ? type : [type];
  if (Array.isArray(type)) {
    if (type.length === 0) return `${where}: type must name at least one type`;
    w.counts.union++;
  }
  for (const t of types)
    if (typeof t !== 'string' || !TYPES.includes(t)) return `${where}: unknown type ${show(t)} (use ${TYPES.join(', ')})`;
  if (new Set(types).size !== types.length) return `${where}: type lists a type twice`;
  if (type === undefined && !['enum', 'const', 'anyOf', 'allOf', '$ref'].some((k) => k in node))
    return `${where}: needs a type (or enum, const, anyOf, allOf or $ref): strict tool use has no "any value"`;

  if ('$ref' in node) {
    const ref = node.$ref;
    if (typeof ref !== 'string' || !w.defs.has(ref))
      return `${where}: $ref ${show(ref)} must point into this schema's $defs ("#/$defs/<name>"); external references are not supported`;
  }

  if ('properties' in node || 'required' in node || 'additionalProperties' in node) {
    if (!types.includes('object')) return `${where}: properties, required and additionalProperties need "type": "object"`;
  }
  const props = node.properties;
  if (props !== undefined && !isObj(props)) return `${where}: properties must be an object of schemas`;
  const required = node.required;
  if (required !== undefined) {
    if (!Array.isArray(required) || !required.every((r) => typeof r === 'string'))
      return `${where}: required must be a list of property names`;
    if (new Set(required).size !== required.length) return `${where}: required names a property twice`;
    const missing = required.find((r) => !isObj(props) || !Object.hasOwn(props, r));
    if (missing !== undefined)
      return `${where}: required names "${missing}", which properties does not define (no other property is allowed)`;
  }
  if ('additionalProperties' in node && node.additionalProperties !== false)
    return `${where}: additionalProperties must be false (strict tool use allows only the properties the schema names)`;
  if (isObj(props)) {
    for (const [name, s] of Object.entries(props)) {
      const p = child(s, sub(`properties.${name}`));
      if (p) return p;
    }
    w.counts.optional += Object.keys(props).filter((k) => !(required as string[] | undefined)?.includes(k)).length;
  }

  if ('items' in node || 'minItems' in node) {
    if (!types.includes('array')) return `${where}: items and minItems need "type": "array"`;
  }
  if (types.includes('array')) {
    if (!('items' in node)) return `${where}: an array needs items (the schema of its elements)`;
    if (!isObj(node.items)) return `${where}: items must be one schema (tuples are not supported)`;
    const p = child(node.items, sub('items'));
    if (p) return p;
  }
  if ('minItems' in node && node.minItems !== 0 && node.minItems !== 1)
    return `${where}: minItems may only be 0 or 1 in strict tool use, got ${show(node.minItems)}`;

  if ('enum' in node) {
    const e = node.enum;
    if (!Array.isArray(e) || e.length === 0) return `${where}: enum must be a non-empty list`;
    if (!e.every(isPrimitive)) return `${where}: enum values must be strings, numbers, booleans or null`;
  }
  if ('const' in node && !isPrimitive(node.const)) return `${where}: const must be a string, number, boolean or null`;
  if ('format' in node) {
    if (!types.includes('string')) return `${where}: format needs "type": "string"`;
    if (!(OUTPUT_FORMATS as readonly unknown[]).includes(node.format))
      return `${where}: format ${show(node.format)} is not supported (use ${OUTPUT_FORMATS.join(', ')})`;
  }
  for (const key of ['anyOf', 'allOf'] as const) {
    if (!(key in node)) continue;
    const list = node[key];
    if (!Array.isArray(list) || list.length === 0) return `${where}: ${key} must be a non-empty list of schemas`;
    if (key === 'anyOf') w.counts.union++;
    for (const [i, s] of list.entries()) {
      const p = child(s, sub(`${key}.${i}`));
      if (p) return p;
    }
  }
  return null;
}

/**
 * The schema as the output tool sends it: `additionalProperties: false` on every object that
 * does not say so (strict tool use requires it), and no `$schema` (a tool's input schema has
 * none). Expects a schema {@link outputSchemaProblem} accepts.
 */
export function normalizeOutputSchema(schema: JsonSchema): JsonSchema {
  const close = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(close);
    if (!isObj(node)) return node;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) {
      // enum, const, default and examples are values, not schemas: copied as they are.
      out[k] =
        k === 'enum' || k === 'const' || k === 'default' || k === 'examples' ? v : k === 'properties' ? mapValues(v, close) : close(v);
    }
    const types = Array.isArray(out.type) ? out.type : [out.type];
    if (types.includes('object') && !('additionalProperties' in out)) out.additionalProperties = false;
    return out;
  };
  const { $schema: _ignored, ...rest } = schema;
  const out = close(rest) as JsonSchema;
  for (const key of ['$defs', 'definitions']) if (isObj(rest[key])) out[key] = mapValues(rest[key], close);
  return out;
}

function mapValues(v: unknown, f: (x: unknown) => unknown): unknown {
  return isObj(v) ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, f(x)])) : v;
}

/** At most this many problems are reported for one answer. */
const MAX_PROBLEMS = 10;

/**
 * Where a value breaks the schema, one line each (`items.2.sku: must be a string, got number`);
 * empty when it is valid. Deterministic and bounded: safe to run in a workflow.
 */
export function outputProblems(schema: JsonSchema, value: unknown): string[] {
  const ctx: Check = { defs: defsOf(schema), steps: 0 };
  const out: string[] = [];
  check(schema, value, '', ctx, out, 0);
  if (ctx.steps > MAX_CHECK_STEPS) return ['(output): too large to check against this schema: give a smaller answer'];
  return out.slice(0, MAX_PROBLEMS);
}

/** The validator's budget of schema-node visits: a bound on the workflow task's work whatever the answer. */
const MAX_CHECK_STEPS = 200_000;

interface Check {
  defs: Map<string, unknown>;
  steps: number;
}

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function hasType(v: unknown, t: string): boolean {
  switch (t) {
    case 'object':
      return isObj(v);
    case 'array':
      return Array.isArray(v);
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v);
    case 'number':
      return typeof v === 'number' && Number.isFinite(v);
    case 'null':
      return v === null;
    default:
      return typeof v === t;
  }
}

function check(node: unknown, v: unknown, path: string, ctx: Check, out: string[], depth: number): void {
  if (out.length >= MAX_PROBLEMS || !isObj(node) || ++ctx.steps > MAX_CHECK_STEPS) return;
  const where = path === '' ? '(output)' : path;
  const bad = (what: string) => out.push(`${where}: ${what}`);
  // A schema the check accepted has no cycles and bounded depth; this guards the validator anyway.
  if (depth > 2 * MAX_OUTPUT_SCHEMA_DEPTH + 8) return void bad('the schema nests too deep to check');
  const sub = (k: string | number) => (path === '' ? String(k) : `${path}.${k}`);

  if (typeof node.$ref === 'string') {
    const target = ctx.defs.get(node.$ref);
    if (target !== undefined) check(target, v, path, ctx, out, depth + 1);
  }
  if (node.type !== undefined) {
    const types = (Array.isArray(node.type) ? node.type : [node.type]) as string[];
    if (!types.some((t) => hasType(v, t))) return void bad(`must be ${types.join(' or ')}, got ${typeOf(v)}`);
  }
  if (Array.isArray(node.enum) && !node.enum.some((e) => e === v))
    return void bad(`must be one of ${node.enum.map(show).join(', ')}, got ${clipValue(v)}`);
  if ('const' in node && node.const !== v) return void bad(`must be ${show(node.const)}, got ${clipValue(v)}`);
  if (typeof node.format === 'string' && typeof v === 'string' && !formatOk(node.format, v))
    bad(`must be a valid ${node.format}, got ${clipValue(v)}`);

  if (isObj(v) && (isObj(node.properties) || node.additionalProperties === false || Array.isArray(node.required))) {
    const props = isObj(node.properties) ? node.properties : {};
    for (const r of Array.isArray(node.required) ? node.required : []) {
      if (typeof r === 'string' && !Object.hasOwn(v, r)) bad(`missing required property "${r}"`);
    }
    for (const [k, x] of Object.entries(v)) {
      if (Object.hasOwn(props, k)) check(props[k], x, sub(k), ctx, out, depth + 1);
      else if (node.additionalProperties === false) bad(`property "${clipKey(k)}" is not in the schema`);
    }
  }
  if (Array.isArray(v)) {
    if (typeof node.minItems === 'number' && v.length < node.minItems) bad(`must have at least ${node.minItems} item(s)`);
    if (isObj(node.items)) for (const [i, x] of v.entries()) check(node.items, x, sub(i), ctx, out, depth + 1);
  }
  if (Array.isArray(node.allOf)) for (const s of node.allOf) check(s, v, path, ctx, out, depth + 1);
  if (Array.isArray(node.anyOf)) {
    const tries = node.anyOf.map((s) => {
      const o: string[] = [];
      check(s, v, path, ctx, o, depth + 1);
      return o;
    });
    if (!tries.some((o) => o.length === 0)) bad(`matches none of the anyOf choices (${tries.map((o) => o[0]).join(' | ')})`);
  }
}

function clipValue(v: unknown): string {
  const s = show(v);
  return s.length > 60 ? `${s.slice(0, 59)}…` : s;
}

function clipKey(k: string): string {
  return k.length > 60 ? `${k.slice(0, 59)}…` : k;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIME = /^(\d{2}):(\d{2}):(\d{2})(\.\d+)?(z|[+-]\d{2}:\d{2})$/i;
const DURATION = /^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const URI = /^[a-z][a-z0-9+.-]*:[^\s]*$/i;
const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;

function dateOk(s: string): boolean {
  const m = DATE.exec(s);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const days = [31, y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  return mo >= 1 && mo <= 12 && d >= 1 && d <= days[mo - 1]!;
}

function timeOk(s: string): boolean {
  const m = TIME.exec(s);
  return !!m && Number(m[1]) <= 23 && Number(m[2]) <= 59 && Number(m[3]) <= 60;
}

function ipv4Ok(s: string): boolean {
  const parts = s.split('.');
  return parts.length === 4 && parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255);
}

function ipv6Ok(s: string): boolean {
  if (s.length > 45) return false;
  let head = s;
  let groupsWanted = 8;
  const lastColon = s.lastIndexOf(':');
  if (s.includes('.')) {
    if (!ipv4Ok(s.slice(lastColon + 1))) return false;
    head = s.slice(0, lastColon + 1) + '0'; // the IPv4 tail stands for two groups: count it as one, want seven
    groupsWanted = 7;
  }
  const halves = head.split('::');
  if (halves.length > 2) return false;
  const groups = (h: string) => (h === '' ? [] : h.split(':'));
  const all = halves.flatMap(groups);
  if (!all.every((g) => /^[0-9a-f]{1,4}$/i.test(g))) return false;
  return halves.length === 2 ? all.length < groupsWanted : all.length === groupsWanted;
}

function formatOk(format: string, s: string): boolean {
  switch (format) {
    case 'date':
      return dateOk(s);
    case 'time':
      return timeOk(s);
    case 'date-time': {
      const i = s.search(/t/i);
      return i === 10 && dateOk(s.slice(0, 10)) && timeOk(s.slice(11));
    }
    case 'duration':
      return DURATION.test(s);
    case 'email': {
      const i = s.lastIndexOf('@');
      const local = s.slice(0, i);
      const domain = s.slice(i + 1);
      return i > 0 && !/\s/.test(s) && !local.includes('@') && domain.includes('.') && !domain.startsWith('.') && !domain.endsWith('.');
    }
    case 'hostname':
      return s.length <= 253 && s.split('.').every((l) => LABEL.test(l));
    case 'uri':
      return URI.test(s);
    case 'ipv4':
      return ipv4Ok(s);
    case 'ipv6':
      return ipv6Ok(s);
    case 'uuid':
      return UUID.test(s);
    default:
      return true;
  }
}

// ── What the model reads ─────────────────────────────────────────────────────────────────────

/** The system-prompt paragraph that asks for the output tool. */
export function outputInstruction(tool: string): string {
  return (
    `When you have your final answer, give it by calling the ${tool} tool, with the answer as the tool's input ` +
    "(it must match the tool's schema). This ends your work: do not end your turn without calling it."
  );
}

/** The output tool's description. */
export const OUTPUT_TOOL_DESCRIPTION =
  'Give your final answer as structured output: call this once, when you are done, with the answer as the input. The run ends when it is accepted.';

/** The result of a call the runner accepted. */
export const OUTPUT_ACCEPTED = 'Structured output accepted.';

/** The `is_error` result of a call whose input breaks the schema. */
export function outputRejected(tool: string, problems: readonly string[], attempt: number, attempts: number): string {
  return (
    `Your output does not match the schema: ${problems.join('; ')}. ` +
    `Call ${tool} again with input that matches it (attempt ${attempt} of ${attempts} failed).`
  );
}

/** How the runner's reminder starts, after a turn that ended without the output tool. */
export const OUTPUT_NUDGE_START = 'You ended your turn without giving your final answer as structured output.';

/** The user message that asks again after a turn that ended without the output tool. */
export function outputNudge(tool: string, attempt: number, attempts: number): string {
  return `${OUTPUT_NUDGE_START} Call the ${tool} tool now, with your final answer as its input (attempt ${attempt} of ${attempts} failed).`;
}
