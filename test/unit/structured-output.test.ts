/**
 * Structured output outside the loop: the run-input check, resolution into the output tool
 * (agents/output.ts), the registry's checks at worker start, and the fake API's strict-tool
 * checks (which must refuse what the real API refuses).
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineAgent, defineTool, type AgentDefinition } from '../../agents/define.js';
import { agentOutputSchema, withStructuredOutput } from '../../agents/output.js';
import { AgentRegistry } from '../../agents/registry.js';
import { triageAgent } from '../../agents/triage/agent.js';
import { InvalidRunInputError } from '../../contract/failures.js';
import { OUTPUT_TOOL, outputInstruction } from '../../contract/output-schema.js';
import { runInputProblem } from '../../contract/run-input.js';
import { checkStrictTools } from '../../devtools/fake-api/strict.js';
import { validateMessagesRequest } from '../../devtools/fake-api/validate.js';

const schema = { type: 'object' as const, properties: { answer: { type: 'string' }, n: { type: 'integer' } }, required: ['answer'] };
const tool = defineTool({ name: 'echo', description: 'd', inputSchema: z.object({ a: z.string() }), run: () => 'ok' });
const agent: AgentDefinition = defineAgent({ name: 'a', model: 'm', max_tokens: 10, system: 'Be brief.', tools: [tool] });
const resolve = (def = agent, request: Parameters<typeof withStructuredOutput>[2] = { output: { schema } }) =>
  withStructuredOutput(new AgentRegistry([def]).resolve(def.name), def, request);

describe('runInputProblem: structured output', () => {
  it('accepts a schema and attempts', () => {
    expect(runInputProblem({ agent: 'a', prompt: 'x', outputSchema: schema, outputAttempts: 5 })).toBeNull();
    expect(runInputProblem({ agent: 'a', prompt: 'x', outputAttempts: 1 })).toBeNull();
  });
  it.each([
    [{ outputSchema: 'nope' }, 'output schema must be a JSON Schema object'],
    [{ outputSchema: { type: 'object', properties: { n: { type: 'number', maximum: 3 } } } }, 'properties.n: "maximum" is not supported'],
    [{ outputAttempts: 0 }, 'outputAttempts must be an integer from 1 to 10, got 0'],
    [{ outputAttempts: 11 }, 'outputAttempts must be an integer from 1 to 10, got 11'],
    [{ outputAttempts: '3' }, 'outputAttempts must be an integer from 1 to 10, got "3"'],
    [{ outputSchema: schema, session: {} }, 'outputSchema is for one-shot runs'],
  ])('%j', (extra, problem) => {
    expect(runInputProblem({ agent: 'a', prompt: 'x', ...extra })).toContain(problem);
  });
});

describe('withStructuredOutput', () => {
  it('adds the strict output tool last, the instruction to the system prompt, and records the output', () => {
    const config = resolve();
    expect(config.request.tools?.map((t) => ('name' in t ? t.name : ''))).toEqual(['echo', OUTPUT_TOOL]);
    expect(config.request.tools?.at(-1)).toEqual({
      name: OUTPUT_TOOL,
      description: expect.stringContaining('final answer'),
      input_schema: { ...schema, additionalProperties: false },
      strict: true,
    });
    expect(config.request.system).toBe(`Be brief.\n\n${outputInstruction(OUTPUT_TOOL)}`);
    expect(config.output).toEqual({ tool: OUTPUT_TOOL, schema: { ...schema, additionalProperties: false }, maxAttempts: 3 });
  });

  it('appends a text block to a system prompt of blocks, and is the system prompt when there is none', () => {
    const blocks = defineAgent({ ...agent, system: [{ type: 'text', text: 'Rules.', cache_control: { type: 'ephemeral' } }] });
    expect(resolve(blocks).request.system).toEqual([
      { type: 'text', text: 'Rules.', cache_control: { type: 'ephemeral' } },
      { type: 'text', text: outputInstruction(OUTPUT_TOOL) },
    ]);
    expect(resolve(defineAgent({ ...agent, system: undefined })).request.system).toBe(outputInstruction(OUTPUT_TOOL));
  });

  it("uses the agent's default (zod too), replaced by the run's; sessions ignore it", () => {
    const byDefault = defineAgent({
      ...agent,
      name: 'd',
      outputSchema: z.object({ city: z.string(), on: z.iso.date() }),
      outputAttempts: 5,
    });
    const config = resolve(byDefault, {});
    expect(config.output?.schema).toEqual({
      type: 'object',
      properties: { city: { type: 'string' }, on: { type: 'string', format: 'date' } },
      required: ['city', 'on'],
      additionalProperties: false,
    });
    expect(config.output?.maxAttempts).toBe(5);
    expect(resolve(byDefault, { output: { schema, maxAttempts: 2 } }).output).toMatchObject({
      maxAttempts: 2,
      schema: { required: ['answer'] },
    });
    expect(resolve(byDefault, { session: true }).output).toBeUndefined();
    expect(agentOutputSchema(agent)).toBeUndefined();
  });

  it('leaves a run that asks nothing as it was', () => {
    const plain = new AgentRegistry([agent]).resolve('a');
    expect(withStructuredOutput(plain, agent, {})).toBe(plain);
  });

  it.each([
    [
      'attempts without a schema',
      agent,
      { output: { maxAttempts: 2 } },
      'outputAttempts was given, but neither the run nor agent "a" has an output schema',
    ],
    ['tool_choice none', defineAgent({ ...agent, tool_choice: { type: 'none' } }), undefined, 'tool_choice "none" forbids every tool call'],
    [
      'tool_choice forcing another tool',
      defineAgent({ ...agent, tool_choice: { type: 'tool', name: 'echo' } }),
      undefined,
      'tool_choice forces tool "echo" on every call',
    ],
  ])('refuses %s', (_what, def, request, problem) => {
    expect(() => resolve(def, request)).toThrow(InvalidRunInputError);
    expect(() => resolve(def, request)).toThrow(problem);
  });

  it('refuses a tool of the same name from elsewhere (an MCP server)', () => {
    const config = new AgentRegistry([agent]).resolve('a');
    const withMcp = {
      ...config,
      request: { ...config.request, tools: [...config.request.tools!, { name: OUTPUT_TOOL, input_schema: { type: 'object' as const } }] },
    };
    expect(() => withStructuredOutput(withMcp, agent, { output: { schema } })).toThrow(
      `agent "a" offers a tool named "${OUTPUT_TOOL}", the name of the runner's structured-output tool`,
    );
  });

  it('allows tool_choice any', () => {
    expect(resolve(defineAgent({ ...agent, tool_choice: { type: 'any' } })).request.tool_choice).toEqual({ type: 'any' });
  });
});

describe('AgentRegistry: structured output', () => {
  it("reserves the output tool's name", () => {
    const clash = defineTool({ name: OUTPUT_TOOL, description: 'd', inputSchema: z.object({}), run: () => 'x' });
    expect(() => new AgentRegistry([defineAgent({ ...agent, tools: [clash] })])).toThrow(
      `agent "a", tool "${OUTPUT_TOOL}": the name is reserved for the runner's structured-output tool`,
    );
  });
  it("checks the agent's default schema and attempts when the worker starts", () => {
    expect(
      () =>
        new AgentRegistry([
          defineAgent({ ...agent, outputSchema: { type: 'object', properties: { s: { type: 'string', minLength: 1 } } } }),
        ]),
    ).toThrow('agent "a": output schema: properties.s: "minLength" is not supported');
    expect(() => new AgentRegistry([defineAgent({ ...agent, outputSchema: z.object({ s: z.string().min(1) }) })])).toThrow(
      '"minLength" is not supported',
    );
    expect(() => new AgentRegistry([defineAgent({ ...agent, outputSchema: schema, outputAttempts: 0 })])).toThrow(
      'agent "a": outputAttempts must be an integer from 1 to 10',
    );
  });
});

describe('the fake API refuses strict tools the real API refuses', () => {
  const body = (tools: unknown[]) => ({ model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }], tools });
  const strict = (input_schema: object, name = 't') => ({ name, input_schema, strict: true });

  it('accepts the resolved output tool and the agents’ strict tools', () => {
    const config = resolve(defineAgent({ ...triageAgent, outputSchema: schema }), {});
    expect(validateMessagesRequest({ ...body(config.request.tools!), system: config.request.system })).toBeNull();
    expect(validateMessagesRequest(body([strict({ type: 'object', properties: {}, additionalProperties: false })]))).toBeNull();
  });

  it.each([
    [
      strict({ type: 'object', properties: {} }),
      "tools.0.custom: For 'object' type, 'additionalProperties' must be explicitly set to false",
    ],
    [
      strict({ type: 'object', properties: { a: { type: 'object', properties: {} } }, additionalProperties: false }),
      "tools.0.custom: For 'object' type, 'additionalProperties' must be explicitly set to false",
    ],
    [
      strict({ type: 'object', properties: { n: { type: 'integer', minimum: 0 } }, additionalProperties: false }),
      "tools.0.custom: For 'integer' type, property 'minimum' is not supported",
    ],
    [
      strict({ type: 'object', properties: { n: { type: 'integer', minimum: 0, maximum: 9 } }, additionalProperties: false }),
      "tools.0.custom: For 'integer' type, properties maximum, minimum are not supported",
    ],
    [{ name: 't', input_schema: { type: 'object' }, strict: 'yes' }, 'tools.0.custom.strict: Input should be a valid boolean'],
  ])('%j', (t, problem) => {
    expect(validateMessagesRequest(body([t]))).toBe(problem);
  });

  it('refuses more than 20 strict tools, and more than 24 optional parameters across them', () => {
    const closed = { type: 'object', properties: {}, additionalProperties: false };
    expect(checkStrictTools(Array.from({ length: 21 }, (_, i) => strict(closed, `t${i}`)))).toContain('Too many strict tools (21)');
    const optional = (n: number) => ({
      type: 'object',
      properties: Object.fromEntries(Array.from({ length: n }, (_, i) => [`p${i}`, { type: 'string' }])),
      additionalProperties: false,
    });
    expect(checkStrictTools([strict(optional(12), 'a'), strict(optional(12), 'b')])).toBeNull();
    expect(checkStrictTools([strict(optional(12), 'a'), strict(optional(13), 'b')])).toBe(
      'The compiled grammar is too large, which would cause performance issues. Simplify your tool schemas or reduce the number of strict tools.',
    );
  });
});
