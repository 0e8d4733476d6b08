/** Structured output's schema check, normalizer and validator (contract/output-schema.ts). */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  normalizeOutputSchema,
  outputProblems,
  outputSchemaProblem,
  MAX_OUTPUT_SCHEMA_BYTES,
  type JsonSchema,
} from '../../contract/output-schema.js';

const order: JsonSchema = {
  type: 'object',
  properties: {
    order_id: { type: 'string', description: 'The order id' },
    status: { type: 'string', enum: ['processing', 'shipped', 'delivered'] },
    eta: { type: ['string', 'null'], format: 'date' },
    items: { type: 'array', minItems: 1, items: { $ref: '#/$defs/item' } },
    rush: { type: 'boolean' },
  },
  required: ['order_id', 'status', 'eta', 'items'],
  $defs: { item: { type: 'object', properties: { sku: { type: 'string' }, qty: { type: 'integer' } }, required: ['sku', 'qty'] } },
};

describe('outputSchemaProblem', () => {
  it('accepts what strict tool use accepts', () => {
    expect(outputSchemaProblem(order)).toBeNull();
    expect(outputSchemaProblem({ type: 'object', properties: {} })).toBeNull();
    expect(
      outputSchemaProblem({
        $schema: 'https://json-schema.org/draft/2020-12/schema',
        type: 'object',
        title: 'Answer',
        properties: {
          kind: { const: 'answer' },
          value: { anyOf: [{ type: 'number' }, { type: 'string', format: 'uuid' }] },
          both: { allOf: [{ type: 'object', properties: { a: { type: 'string' } }, additionalProperties: false }] },
        },
        additionalProperties: false,
      }),
    ).toBeNull();
  });

  it('accepts what zod emits for a plain object', () => {
    const schema = z.toJSONSchema(
      z.object({ name: z.string(), tags: z.array(z.string()), when: z.enum(['now', 'later']).optional(), n: z.number().nullable() }),
    );
    expect(outputSchemaProblem(schema)).toBeNull();
  });

  it.each([
    [null, 'output schema must be a JSON Schema object'],
    [[], 'output schema must be a JSON Schema object'],
    [{ type: 'array', items: { type: 'string' } }, 'must have "type": "object" at the root'],
    [{ properties: {} }, 'must have "type": "object" at the root'],
    [
      { type: 'object', properties: { age: { type: 'integer', minimum: 0 } } },
      'output schema: properties.age: "minimum" is not supported by strict tool use (supported: type, properties',
    ],
    [{ type: 'object', properties: { s: { type: 'string', maxLength: 3 } } }, 'properties.s: "maxLength" is not supported'],
    [{ type: 'object', properties: { s: { type: 'string', pattern: '^a+$' } } }, 'properties.s: "pattern" is not supported'],
    [{ type: 'object', properties: { s: { oneOf: [{ type: 'string' }] } } }, 'properties.s: "oneOf" is not supported'],
    [{ type: 'object', additionalProperties: true }, 'the root: additionalProperties must be false'],
    [{ type: 'object', additionalProperties: { type: 'string' } }, 'the root: additionalProperties must be false'],
    [{ type: 'object', properties: { a: { type: 'string' } }, required: ['b'] }, 'required names "b", which properties does not define'],
    [{ type: 'object', properties: { a: { type: 'strin' } } }, 'properties.a: unknown type "strin"'],
    [{ type: 'object', properties: { a: {} } }, 'properties.a: needs a type'],
    [{ type: 'object', properties: { a: { type: 'array' } } }, 'properties.a: an array needs items'],
    [{ type: 'object', properties: { a: { type: 'array', items: [{ type: 'string' }] } } }, 'items must be one schema'],
    [{ type: 'object', properties: { a: { type: 'array', items: { type: 'string' }, minItems: 2 } } }, 'minItems may only be 0 or 1'],
    [{ type: 'object', properties: { a: { type: 'array', items: { type: 'string' }, maxItems: 2 } } }, '"maxItems" is not supported'],
    [{ type: 'object', properties: { a: { enum: [{ x: 1 }] } } }, 'enum values must be strings, numbers, booleans or null'],
    [{ type: 'object', properties: { a: { type: 'string', format: 'phone' } } }, 'format "phone" is not supported'],
    [{ type: 'object', properties: { a: { $ref: 'https://example.com/s.json' } } }, 'external references are not supported'],
    [{ type: 'object', properties: { a: { $ref: '#/$defs/missing' } } }, "must point into this schema's $defs"],
    [
      {
        type: 'object',
        properties: { tree: { $ref: '#/$defs/node' } },
        $defs: { node: { type: 'object', properties: { kids: { type: 'array', items: { $ref: '#/$defs/node' } } } } },
      },
      'makes the schema recursive',
    ],
    [{ type: 'object', properties: { a: { type: 'object', $defs: {} } } }, '$defs belongs at the root'],
  ])('%j', (schema, problem) => {
    expect(outputSchemaProblem(schema)).toContain(problem);
  });

  it("keeps within the API's limits: size, optional properties, unions", () => {
    const big = { type: 'object', description: 'x'.repeat(MAX_OUTPUT_SCHEMA_BYTES), properties: {} };
    expect(outputSchemaProblem(big)).toMatch(/^output schema is \d+ bytes, over the 65536-byte limit$/);
    const props = (n: number, s: object) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`p${i}`, s]));
    expect(outputSchemaProblem({ type: 'object', properties: props(24, { type: 'string' }) })).toBeNull();
    expect(outputSchemaProblem({ type: 'object', properties: props(25, { type: 'string' }) })).toContain(
      'has 25 optional properties; strict tool use allows at most 24',
    );
    const unions = { type: 'object', properties: props(17, { type: ['string', 'null'] }), required: Object.keys(props(17, {})) };
    expect(outputSchemaProblem(unions)).toContain('uses anyOf or a list of types in 17 places');
    let deep: object = { type: 'string' };
    for (let i = 0; i < 40; i++) deep = { type: 'object', properties: { d: deep }, required: ['d'] };
    expect(outputSchemaProblem(deep)).toContain('nests deeper than 32 levels');
  });

  it("refuses a schema that expands past the validator's bound through $refs", () => {
    const $defs: Record<string, object> = { d0: { type: 'string' } };
    for (let i = 1; i <= 16; i++) $defs[`d${i}`] = { anyOf: [{ $ref: `#/$defs/d${i - 1}` }, { $ref: `#/$defs/d${i - 1}` }] };
    expect(outputSchemaProblem({ type: 'object', properties: { x: { $ref: '#/$defs/d16' } }, required: ['x'], $defs })).toContain(
      'expands to more than 10000 schemas',
    );
  });
});

describe('normalizeOutputSchema', () => {
  it('closes every object and drops $schema, leaving values alone', () => {
    const out = normalizeOutputSchema({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      properties: {
        enum: { type: 'object', properties: {} },
        nested: { type: ['object', 'null'], properties: { a: { type: 'string' } } },
        open: { type: 'string', default: { type: 'object' } },
      },
      $defs: { enum: { type: 'object', properties: {} } },
    });
    expect(out).toEqual({
      type: 'object',
      properties: {
        enum: { type: 'object', properties: {}, additionalProperties: false },
        nested: { type: ['object', 'null'], properties: { a: { type: 'string' } }, additionalProperties: false },
        open: { type: 'string', default: { type: 'object' } },
      },
      $defs: { enum: { type: 'object', properties: {}, additionalProperties: false } },
      additionalProperties: false,
    });
    expect(outputSchemaProblem(out)).toBeNull();
  });

  it('keeps an explicit additionalProperties: false as it is', () => {
    const s = { type: 'object', properties: {}, additionalProperties: false };
    expect(normalizeOutputSchema(s)).toEqual(s);
  });
});

describe('outputProblems', () => {
  const schema = normalizeOutputSchema(order);
  const good = { order_id: '48810', status: 'shipped', eta: '2026-05-24', items: [{ sku: 'shoe', qty: 1 }] };

  it('accepts a valid answer', () => {
    expect(outputProblems(schema, good)).toEqual([]);
    expect(outputProblems(schema, { ...good, eta: null, rush: true })).toEqual([]);
  });

  it('names every problem by path', () => {
    expect(
      outputProblems(schema, {
        order_id: 48810,
        status: 'lost',
        eta: '2026-02-30',
        items: [{ sku: 'shoe', qty: 1.5, color: 'red' }],
        x: 1,
      }),
    ).toEqual([
      'order_id: must be string, got integer',
      'status: must be one of "processing", "shipped", "delivered", got "lost"',
      'eta: must be a valid date, got "2026-02-30"',
      'items.0.qty: must be integer, got number',
      'items.0: property "color" is not in the schema',
      '(output): property "x" is not in the schema',
    ]);
    expect(outputProblems(schema, { order_id: '1', status: 'shipped', items: [] })).toEqual([
      '(output): missing required property "eta"',
      'items: must have at least 1 item(s)',
    ]);
    expect(outputProblems(schema, 'a string')).toEqual(['(output): must be object, got string']);
  });

  it('checks const, anyOf and allOf', () => {
    const s = normalizeOutputSchema({
      type: 'object',
      properties: {
        kind: { const: 'answer' },
        value: { anyOf: [{ type: 'number' }, { type: 'string', format: 'uuid' }] },
        both: { allOf: [{ type: 'object', properties: { a: { type: 'string' } }, required: ['a'] }] },
      },
    });
    expect(outputProblems(s, { kind: 'answer', value: 3, both: { a: 'x' } })).toEqual([]);
    expect(outputProblems(s, { kind: 'other', value: 'nope', both: {} })).toEqual([
      'kind: must be "answer", got "other"',
      'value: matches none of the anyOf choices (value: must be number, got string | value: must be a valid uuid, got "nope")',
      'both: missing required property "a"',
    ]);
  });

  it.each([
    ['date-time', '2026-05-24T10:20:30Z', '2026-05-24 10:20'],
    ['date-time', '2026-05-24T10:20:30.5+02:00', '2026-13-24T10:20:30Z'],
    ['time', '23:59:60Z', '24:00:00Z'],
    ['duration', 'P1Y2M3DT4H5M6.5S', 'P'],
    ['duration', 'PT36H', 'PT'],
    ['email', 'a.b@example.com', 'a@b'],
    ['hostname', 'api.example-1.com', '-bad.example.com'],
    ['uri', 'https://example.com/a?b=c', 'not a uri'],
    ['ipv4', '192.168.0.1', '256.1.1.1'],
    ['ipv6', '2001:db8::1', '2001:db8:::1'],
    ['ipv6', '::ffff:192.0.2.128', '1:2:3:4:5:6:7:8:9'],
    ['uuid', '123e4567-e89b-12d3-a456-426614174000', '123e4567e89b12d3a456426614174000'],
  ])('format %s: %s is valid, %s is not', (format, ok, notOk) => {
    const s = normalizeOutputSchema({ type: 'object', properties: { v: { type: 'string', format } }, required: ['v'] });
    expect(outputProblems(s, { v: ok })).toEqual([]);
    expect(outputProblems(s, { v: notOk })).toEqual([`v: must be a valid ${format}, got ${JSON.stringify(notOk)}`]);
  });

  it('reports at most ten problems, and bounds its work', () => {
    const s = normalizeOutputSchema({ type: 'object', properties: { xs: { type: 'array', items: { type: 'string' } } }, required: ['xs'] });
    expect(outputProblems(s, { xs: Array.from({ length: 50 }, (_, i) => i) })).toHaveLength(10);
    expect(outputProblems(s, { xs: Array.from({ length: 300_000 }, () => 'x') })).toEqual([
      '(output): too large to check against this schema: give a smaller answer',
    ]);
  });
});
