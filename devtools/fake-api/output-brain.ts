/**
 * The scripted model with structured output, for the offline demo and the README: it plays any
 * brain, and when the request offers the runner's output tool and that brain would end its turn
 * with text, it calls the output tool instead, as Claude asked to would. Its input is built from
 * the tool's schema: values of the same name from the conversation's tool results (an array of
 * objects gets one element per result), the brain's text for a free-text property (summary,
 * answer, …), a placeholder of the right type for the rest. Asked again by the runner after a
 * turn that ended without the tool, it answers as that turn should have.
 */
import type { MessageParam, Tool } from '@anthropic-ai/sdk/resources/messages';
import { OUTPUT_NUDGE_START, OUTPUT_TOOL } from '../../contract/output-schema.js';
import { message, textBlock, toolUse } from './replies.js';
import type { FakeReply, RecordedRequest } from './server.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Names of properties that take the answer's text. */
const FREE_TEXT = /^(summary|answer|reply|text|message|explanation)$/i;

/** `brain`, answering with the output tool when the request offers it. */
export function withStructuredOutput(brain: (req: RecordedRequest) => FakeReply): (req: RecordedRequest) => FakeReply {
  return (req) => {
    // Asked again by the runner (a turn ended without the tool): answer as that turn should have.
    const messages = req.body.messages;
    const last = messages.at(-1);
    const lastText = typeof last?.content === 'string' ? last.content : last?.content[0]?.type === 'text' ? last.content[0].text : '';
    const nudged = last?.role === 'user' && lastText.startsWith(OUTPUT_NUDGE_START);
    const reply = brain(nudged ? { ...req, body: { ...req.body, messages: messages.slice(0, -2) } } : req);
    const tool = (req.body.tools ?? []).find((t): t is Tool => 'name' in t && t.name === OUTPUT_TOOL && 'input_schema' in t);
    if (!tool || reply.kind !== 'message' || reply.stop_reason !== 'end_turn') return reply;
    const text = reply.content.flatMap((b) => (b.type === 'text' ? [b.text] : [])).join('');
    const schema = tool.input_schema as Obj;
    const input = exampleOf(schema, '', { defs: defsOf(schema), results: toolResultObjects(req.body.messages), text }) as Obj;
    return message([textBlock('Here is the answer.'), toolUse(OUTPUT_TOOL, input)], 'tool_use', {
      ...(reply.model && { model: reply.model }),
    });
  };
}

interface Sources {
  defs: Map<string, unknown>;
  /** The JSON objects the tools returned, in order. */
  results: Obj[];
  text: string;
}

function defsOf(root: Obj): Map<string, unknown> {
  const defs = new Map<string, unknown>();
  for (const key of ['$defs', 'definitions'])
    if (isObj(root[key])) for (const [k, v] of Object.entries(root[key])) defs.set(`#/${key}/${k}`, v);
  return defs;
}

/** Every successful tool result that is a JSON object. */
function toolResultObjects(messages: MessageParam[]): Obj[] {
  const out: Obj[] = [];
  for (const m of messages) {
    if (typeof m.content === 'string') continue;
    for (const b of m.content) {
      if (b.type !== 'tool_result' || b.is_error) continue;
      const raw = typeof b.content === 'string' ? b.content : (b.content ?? []).map((c) => (c.type === 'text' ? c.text : '')).join('');
      try {
        const v: unknown = JSON.parse(raw);
        if (isObj(v)) out.push(v);
      } catch {
        // Not JSON: nothing to take from it.
      }
    }
  }
  return out;
}

/** A value for `schema` at property `name`, from the sources where they have one. */
function exampleOf(schema: unknown, name: string, src: Sources, from: Obj[] = src.results, depth = 0): unknown {
  if (!isObj(schema) || depth > 20) return null;
  if (typeof schema.$ref === 'string') return exampleOf(src.defs.get(schema.$ref), name, src, from, depth + 1);
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.anyOf)) return exampleOf(schema.anyOf[0], name, src, from, depth + 1);
  const types = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string];
  const known = from.find((r) => Object.hasOwn(r, name) && fits(r[name], schema, types))?.[name];
  if (known !== undefined && name) return known;
  if (Array.isArray(schema.enum)) return schema.enum[0];
  if (types.includes('object')) {
    const props = isObj(schema.properties) ? schema.properties : {};
    const required = Array.isArray(schema.required) ? (schema.required as string[]) : [];
    const out: Obj = {};
    for (const [k, s] of Object.entries(props)) {
      const v = exampleOf(s, k, src, from, depth + 1);
      if (required.includes(k) || from.some((r) => Object.hasOwn(r, k)) || (FREE_TEXT.test(k) && typeof v === 'string')) out[k] = v;
    }
    return out;
  }
  if (types.includes('array')) {
    const items = schema.items as Obj | undefined;
    // An array of objects: one element per tool result that has any of their properties.
    if (isObj(items) && (items.type === 'object' || typeof items.$ref === 'string')) {
      const resolved = typeof items.$ref === 'string' ? (src.defs.get(items.$ref) as Obj) : items;
      const keys = Object.keys(isObj(resolved?.properties) ? resolved.properties : {});
      const matching = src.results.filter((r) => keys.some((k) => Object.hasOwn(r, k)));
      if (matching.length > 0) return matching.map((r) => exampleOf(items, '', src, [r], depth + 1));
    }
    return schema.minItems === 1 ? [exampleOf(items, name, src, from, depth + 1)] : [];
  }
  if (types.includes('string')) {
    if (FREE_TEXT.test(name) && src.text) return src.text;
    if (schema.format === 'date') return '2026-01-01';
    if (schema.format === 'date-time') return '2026-01-01T00:00:00Z';
    return 'unknown';
  }
  if (types.includes('integer') || types.includes('number')) return 0;
  if (types.includes('boolean')) return false;
  return null;
}

function fits(v: unknown, schema: Obj, types: string[]): boolean {
  if (Array.isArray(schema.enum)) return schema.enum.includes(v);
  return types.some(
    (t) =>
      (t === 'string' && typeof v === 'string') ||
      (t === 'integer' && Number.isInteger(v)) ||
      (t === 'number' && typeof v === 'number') ||
      (t === 'boolean' && typeof v === 'boolean') ||
      (t === 'null' && v === null) ||
      (t === 'array' && Array.isArray(v)) ||
      (t === 'object' && isObj(v)),
  );
}
