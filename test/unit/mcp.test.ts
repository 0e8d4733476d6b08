/**
 * The pure parts of MCP support: result mapping, how listed tools join a run's configuration,
 * the definition checks at worker start, and how a call's errors are classified.
 */
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { defineAgent, type AgentDefinition } from '../../agents/define.js';
import { checkMcpServers, mcpApiToolName, withMcpTools, type McpListedTool } from '../../agents/mcp.js';
import { AgentRegistry } from '../../agents/registry.js';
import { mcpResultContent } from '../../activities/mcp/content.js';
import { Failures, InvalidRunInputError, mcpCallFailure, McpServerMisconfiguredError } from '../../contract/failures.js';

describe('mcpResultContent', () => {
  it('one text block is the plain string', () => {
    expect(mcpResultContent({ content: [{ type: 'text', text: 'hello' }] })).toBe('hello');
  });

  it('text and supported images are blocks; anything else is its JSON as text', () => {
    const audio = { type: 'audio', data: 'AAAA', mimeType: 'audio/wav' };
    const svg = { type: 'image', data: 'PHN2Zz4=', mimeType: 'image/svg+xml' };
    const link = { type: 'resource_link', uri: 'file:///a.txt', name: 'a.txt' };
    expect(
      mcpResultContent({
        content: [{ type: 'text', text: 'a' }, { type: 'image', data: 'iVBOR', mimeType: 'image/png' }, audio, svg, link],
      }),
    ).toEqual([
      { type: 'text', text: 'a' },
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBOR' } },
      { type: 'text', text: JSON.stringify(audio) },
      { type: 'text', text: JSON.stringify(svg) },
      { type: 'text', text: JSON.stringify(link) },
    ]);
  });

  it('no blocks: structured content (or an old server toolResult) as JSON, else empty', () => {
    expect(mcpResultContent({ content: [], structuredContent: { units: 7 } })).toBe('{"units":7}');
    expect(mcpResultContent({ toolResult: { ok: true } })).toBe('{"ok":true}');
    expect(mcpResultContent({ content: [] })).toBe('');
  });

  it('structured content beside blocks is left to the blocks (servers send both)', () => {
    expect(mcpResultContent({ content: [{ type: 'text', text: '{"units":7}' }], structuredContent: { units: 7 } })).toBe('{"units":7}');
  });
});

const listed = (...names: string[]): McpListedTool[] =>
  names.map((name) => ({
    name,
    description: `tool ${name}`,
    inputSchema: { type: 'object', properties: { x: { type: 'string' } }, $schema: 'http://json-schema.org/draft-07/schema#' },
  }));

function agent(mcpServers: AgentDefinition['mcpServers']): { def: AgentDefinition; registry: AgentRegistry } {
  const def = defineAgent({ name: 'a', model: 'm', max_tokens: 10, tools: [], mcpServers });
  return { def, registry: new AgentRegistry([def]) };
}

describe('withMcpTools', () => {
  it('adds the allowed tools with their origin, prefixed, names made API-safe, $schema left out', () => {
    const { def, registry } = agent([
      { name: 'orders', transport: 'stdio', command: 'x', tools: ['lookup', 'stock.check'], prefix: 'o_', policy: { timeout: '5s' } },
    ]);
    const config = withMcpTools(registry.resolve('a'), def, new Map([['orders', listed('lookup', 'stock.check', 'secret_admin')]]));
    expect(config.request.tools).toEqual([
      { name: 'o_lookup', description: 'tool lookup', input_schema: { type: 'object', properties: { x: { type: 'string' } } } },
      { name: 'o_stock_check', description: 'tool stock.check', input_schema: { type: 'object', properties: { x: { type: 'string' } } } },
    ]);
    expect(config.tools.o_stock_check).toMatchObject({ timeout: '5s', mcp: { server: 'orders', tool: 'stock.check' } });
    expect(config.tools.o_lookup?.retry.maximumAttempts).toBe(3);
    expect(Object.keys(config.tools)).toEqual(['o_lookup', 'o_stock_check']);
  });

  it('an allow-list naming a tool the server does not list fails, naming it', () => {
    const { def, registry } = agent([{ name: 'orders', transport: 'stdio', command: 'x', tools: ['lookup', 'gone'] }]);
    expect(() => withMcpTools(registry.resolve('a'), def, new Map([['orders', listed('lookup')]]))).toThrow(
      new McpServerMisconfiguredError('a', 'orders', 'its allow-list names tools the server does not list: gone'),
    );
  });

  it('a name clash with the agent tools or another server fails and suggests a prefix', () => {
    const { def, registry } = agent([
      { name: 'one', transport: 'stdio', command: 'x' },
      { name: 'two', transport: 'stdio', command: 'y' },
    ]);
    const lists = new Map([
      ['one', listed('find')],
      ['two', listed('find')],
    ]);
    expect(() => withMcpTools(registry.resolve('a'), def, lists)).toThrow(
      /tool "find" would be offered as "find", the name of tool "find" of MCP server "one": give the server a prefix/,
    );
  });

  it('a tool_choice override may name an MCP tool, and only a tool the run offers', () => {
    const { def, registry } = agent([{ name: 'orders', transport: 'stdio', command: 'x' }]);
    const lists = new Map([['orders', listed('lookup')]]);
    const ok = { tool_choice: { type: 'tool' as const, name: 'lookup' } };
    expect(withMcpTools(registry.resolve('a', ok), def, lists, ok).request.tool_choice).toEqual(ok.tool_choice);
    const bad = { tool_choice: { type: 'tool' as const, name: 'nope' } };
    expect(() => withMcpTools(registry.resolve('a', bad), def, lists, bad)).toThrow(InvalidRunInputError);
  });

  it('mcpApiToolName', () => {
    expect(mcpApiToolName({ prefix: 'crm_' }, 'customers.find')).toBe('crm_customers_find');
    expect(mcpApiToolName({}, 'plain-name_1')).toBe('plain-name_1');
  });
});

describe('checkMcpServers (worker start)', () => {
  const bad = (servers: unknown) => () => checkMcpServers('a', servers);
  it('refuses definitions that cannot work, naming the agent and server', () => {
    expect(bad([{ name: 'x', transport: 'http', url: 'http://u', headers: { Authorization: 'Bearer sk-literal' } }])).toThrow(
      /agent "a", MCP server "x": header Authorization must be \{ env: "VARIABLE_NAME" \}/,
    );
    expect(bad([{ name: 'x', transport: 'http', url: 'https://user:pw@host/mcp' }])).toThrow(/url must not carry credentials/);
    expect(bad([{ name: 'x', transport: 'stdio', command: 'c', env: ['A=b'] }])).toThrow(/env must list names of environment variables/);
    expect(bad([{ name: 'x', transport: 'stdio', command: '' }])).toThrow(/command is required/);
    expect(bad([{ name: 'x', transport: 'ws', url: 'ws://h' }])).toThrow(/transport must be "stdio" or "http"/);
    expect(bad([{ name: 'x', transport: 'stdio', command: 'c', tools: [] }])).toThrow(/allow-list/);
    expect(bad([{ name: 'x', transport: 'stdio', command: 'c', prefix: 'a.b' }])).toThrow(/prefix must match/);
    expect(
      bad([
        { name: 'x', transport: 'stdio', command: 'c' },
        { name: 'x', transport: 'stdio', command: 'd' },
      ]),
    ).toThrow(/MCP server "x": defined twice/);
    expect(bad('x')).toThrow(/mcpServers must be an array/);
  });

  it('accepts good ones, and the registry checks them', () => {
    expect(
      bad([
        { name: 'x', transport: 'stdio', command: 'c', args: ['--stdio'], env: ['DB_URL'] },
        { name: 'y', transport: 'http', url: 'https://h/mcp', headers: { Authorization: { env: 'TOKEN', prefix: 'Bearer ' } } },
      ]),
    ).not.toThrow();
    expect(() => agent([{ name: 'bad name', transport: 'stdio', command: 'c' }])).toThrow(/MCP server "bad name": name must match/);
  });
});

describe('mcpCallFailure', () => {
  const mcpError = (code: number, message: string) => Object.assign(new Error(`MCP error ${code}: ${message}`), { name: 'McpError', code });

  it('a JSON-RPC refusal (invalid params, unknown method) is an is_error text, not retried', () => {
    expect(mcpCallFailure('lookup', 'orders', mcpError(-32602, 'Invalid arguments'))).toEqual({
      isError: 'Tool lookup: MCP server "orders" refused the call: MCP error -32602: Invalid arguments',
    });
    expect(mcpCallFailure('lookup', 'orders', mcpError(-32601, 'Method not found'))).toHaveProperty('isError');
  });

  it('connection closed, timeouts, internal errors and transport errors are retried ToolFailed, redacted', () => {
    for (const err of [
      mcpError(-32000, 'Connection closed'),
      mcpError(-32001, 'Request timed out'),
      mcpError(-32603, 'boom'),
      new TypeError('fetch failed'),
    ]) {
      const f = mcpCallFailure('lookup', 'orders', err);
      expect(f).toBeInstanceOf(ApplicationFailure);
      expect((f as ApplicationFailure).type).toBe(Failures.toolFailed.type);
      expect((f as ApplicationFailure).nonRetryable).toBe(false);
      expect((f as ApplicationFailure).message).toContain('MCP server "orders": ');
    }
    const leaky = mcpCallFailure('lookup', 'orders', new Error('401 for token tok-123456'), (t) =>
      t.replaceAll('tok-123456', '[redacted]'),
    );
    expect((leaky as ApplicationFailure).message).toBe('lookup: MCP server "orders": 401 for token [redacted]');
    expect(JSON.stringify((leaky as ApplicationFailure).cause?.stack)).not.toContain('tok-123456');
  });
});
