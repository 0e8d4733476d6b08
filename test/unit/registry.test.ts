/** Agent definitions are checked when a worker starts; overrides when a run starts. */
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { agentTool, defineAgent, defineTool, type AgentTool } from '../../agents/define.js';
import { AgentRegistry } from '../../agents/registry.js';
import { triageAgent } from '../../agents/triage/agent.js';

const tool = (name: string) => defineTool({ name, description: 'd', inputSchema: z.object({ a: z.string() }), run: () => 'ok' });
const agent = (tools: AgentTool<unknown>[] = [tool('t')], name = 'a') => defineAgent({ name, model: 'm', max_tokens: 10, tools });

describe('AgentRegistry', () => {
  it('agents as tools: the offered agent must be served too; the config records it; the API sees a plain tool', () => {
    const ask = agentTool({ name: 'ask_b', description: 'Ask b.', agent: 'b', timeout: '10m' });
    const a = defineAgent({ name: 'a', model: 'm', max_tokens: 10, tools: [ask] });
    expect(() => new AgentRegistry([a])).toThrow(
      'agent "a", tool "ask_b": offers agent "b", which this worker does not serve (serve it too)',
    );
    const b = defineAgent({ name: 'b', model: 'm', max_tokens: 10, tools: [] });
    const config = new AgentRegistry([a, b]).resolve('a');
    expect(config.tools.ask_b).toMatchObject({ agent: { name: 'b', timeout: '10m' } });
    expect(config.request.tools).toEqual([
      {
        name: 'ask_b',
        description: 'Ask b.',
        input_schema: {
          type: 'object',
          properties: { prompt: { type: 'string', description: expect.stringContaining('agent "b"') } },
          required: ['prompt'],
          additionalProperties: false,
        },
      },
    ]);
    const badTimeout = agentTool({ name: 'ask_c', description: 'c', agent: 'b', timeout: 'soon' });
    expect(() => new AgentRegistry([defineAgent({ ...a, tools: [badTimeout] }), b])).toThrow(
      `tool "ask_c": timeout must be a duration like '30m'`,
    );
  });

  it('refuses duplicate tool names', () => {
    expect(() => new AgentRegistry([agent([tool('x'), tool('x')])])).toThrow('agent "a", tool "x": duplicate tool name');
  });
  it('refuses duplicate agents and bad names', () => {
    expect(() => new AgentRegistry([agent(), agent()])).toThrow('agent "a" is defined twice');
    expect(() => new AgentRegistry([agent([tool('bad name')])])).toThrow('tool "bad name": name must match');
  });
  it('refuses an input schema that is not an object schema, or that does not compile', () => {
    const arr = defineTool({ name: 'arr', description: 'd', inputSchema: { type: 'array' } as never, run: () => 'x' });
    expect(() => new AgentRegistry([agent([arr])])).toThrow('tool "arr": input schema must have type "object"');
    expect(() =>
      defineTool({
        name: 'broken',
        description: 'd',
        inputSchema: { type: 'object', properties: { a: { type: 'nope' } } } as never,
        run: () => 'x',
      }),
    ).toThrow('tool "broken": invalid input schema');
  });

  it('resolves the triage agent into a request the API accepts', () => {
    const config = new AgentRegistry([triageAgent]).resolve('triage');
    expect(config.request.tools?.[0]).toEqual({
      name: 'get_order_status',
      description: expect.stringContaining('status of a customer order'),
      input_schema: {
        type: 'object',
        properties: { order_id: { type: 'string', minLength: 1, description: expect.stringContaining('order id') } },
        required: ['order_id'],
        additionalProperties: false,
      },
    });
    expect(config.request.tools?.map((t) => ('name' in t ? t.name : ''))).toEqual(['get_order_status', 'create_support_ticket']);
    expect(config.maxTurns).toBe(100);
    expect(config.tools.get_order_status?.timeout).toBe('10s');
  });

  it.each([
    [{ max_tokens: 0 }, 'override max_tokens must be a positive integer, got 0'],
    [{ maxTurns: 1.5 }, 'override maxTurns must be a positive integer, got 1.5'],
    [{ model: '' }, 'override model must be a non-empty string'],
    [{ tool_choice: { type: 'some' } }, 'override tool_choice.type must be one of auto, any, tool, none'],
    [{ tool_choice: { type: 'tool', name: 'nope' } }, 'override tool_choice names tool "nope", which agent "triage" does not offer'],
    [{ temperature: 1 }, 'unknown override "temperature"'],
  ])('refuses override %j', (overrides, message) => {
    expect(() => new AgentRegistry([triageAgent]).resolve('triage', overrides as never)).toThrow(message);
  });

  it('names the agents it serves when asked for an unknown one', () => {
    expect(() => new AgentRegistry([triageAgent]).resolve('nope')).toThrow('unknown agent "nope": this worker serves "triage"');
  });
});

describe('tool input validation', () => {
  it('zod and JSON Schema tools report problems by path', () => {
    expect(tool('t').validate({ a: 1 })).toMatchObject({ ok: false, problems: expect.stringMatching(/^a: .*string/) });
    const js = defineTool({
      name: 'j',
      description: 'd',
      inputSchema: { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] },
      run: () => 'x',
    });
    expect(js.validate({})).toMatchObject({ ok: false, problems: expect.stringContaining("must have required property 'n'") });
    expect(js.validate({ n: 2 })).toEqual({ ok: true, value: { n: 2 } });
  });
});
