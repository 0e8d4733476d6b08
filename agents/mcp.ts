/**
 * MCP servers in agent definitions: the definition type, its checks at worker start, and how the
 * tools a server lists become part of a run's configuration.
 *
 * ```ts
 * defineAgent({ …, mcpServers: [
 *   { name: 'orders', transport: 'stdio', command: 'node', args: ['orders-mcp.js'], env: ['ORDERS_DB_URL'] },
 *   { name: 'crm', transport: 'http', url: 'https://crm.example.com/mcp', prefix: 'crm_',
 *     headers: { Authorization: { env: 'CRM_MCP_TOKEN', prefix: 'Bearer ' } }, tools: ['find_customer'] },
 * ] });
 * ```
 *
 * The listing itself happens in the `resolveAgent` activity (activities/mcp/); what it found is
 * merged here ({@link withMcpTools}) into the run's configuration: each tool as the Messages API
 * takes it (`name`, `description`, `input_schema`), and a policy per tool naming its origin.
 */
import type { RunConfig } from '../contract/config.js';
import { AgentDefinitionError, InvalidRunInputError, McpServerMisconfiguredError } from '../contract/failures.js';
import type { McpServerConfig } from '../contract/mcp.js';
import type { Tool } from '../contract/messages.js';
import type { RunOverrides } from '../contract/run.js';
import { toolPolicy, type AgentDefinition, type ToolPolicyOptions } from './define.js';

/** An MCP server as an agent names it: how to reach it, which tools to offer, and their activity policy. */
export type McpServerDefinition = McpServerConfig & {
  /** Activity options of each call to this server's tools (timeout, retries, heartbeat timeout). */
  policy?: ToolPolicyOptions;
};

/** A tool as a server lists it (`tools/list`): the fields a run uses. */
export interface McpListedTool {
  name: string;
  description?: string | undefined;
  inputSchema: { type: 'object'; [key: string]: unknown };
}

const SERVER_NAME = /^[a-zA-Z0-9_.-]{1,64}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const PREFIX = /^[a-zA-Z0-9_-]{0,64}$/;
const API_TOOL_NAME = /^[a-zA-Z0-9_-]{1,128}$/;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Checks an agent's `mcpServers` at worker start; throws an {@link AgentDefinitionError} naming the first problem. */
export function checkMcpServers(agent: string, servers: unknown): void {
  if (servers === undefined) return;
  const bad = (what: string) => new AgentDefinitionError(`agent "${agent}"${what}`);
  if (!Array.isArray(servers)) throw bad(': mcpServers must be an array');
  const names = new Set<string>();
  for (const s of servers as McpServerDefinition[]) {
    const name = typeof s?.name === 'string' ? s.name : '';
    const where = `, MCP server "${name}"`;
    if (!SERVER_NAME.test(name)) throw bad(`, MCP server ${JSON.stringify(s?.name)}: name must match ${SERVER_NAME}`);
    if (names.has(name)) throw bad(`${where}: defined twice`);
    names.add(name);
    const problem = serverProblem(s);
    if (problem) throw bad(`${where}: ${problem}`);
  }
}

function serverProblem(s: McpServerDefinition): string | undefined {
  if (s.tools !== undefined && (!Array.isArray(s.tools) || s.tools.length === 0 || !s.tools.every((t) => typeof t === 'string' && t))) {
    return 'tools (the allow-list) must be a non-empty array of tool names';
  }
  if (s.prefix !== undefined && (typeof s.prefix !== 'string' || !PREFIX.test(s.prefix))) return `prefix must match ${PREFIX}`;
  if (s.transport === 'stdio') {
    if (typeof s.command !== 'string' || !s.command) return 'command is required';
    if (s.args !== undefined && (!Array.isArray(s.args) || !s.args.every((a) => typeof a === 'string'))) return 'args must be strings';
    if (s.env !== undefined && (!Array.isArray(s.env) || !s.env.every((e) => typeof e === 'string' && ENV_NAME.test(e)))) {
      return 'env must list names of environment variables (the values are read on the worker)';
    }
    return undefined;
  }
  if (s.transport === 'http') {
    let url: URL;
    try {
      url = new URL(s.url);
    } catch {
      return `url ${JSON.stringify(s.url)} is not a URL`;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'url must be http(s)';
    // Secrets belong in the worker's environment, never in a definition (nor, through it, in a log).
    if (url.username || url.password) return 'url must not carry credentials: send them in a header from an environment variable';
    for (const [header, from] of Object.entries(s.headers ?? {})) {
      if (!HEADER_NAME.test(header)) return `header name ${JSON.stringify(header)} is invalid`;
      if (typeof from !== 'object' || from === null || typeof from.env !== 'string' || !ENV_NAME.test(from.env)) {
        return `header ${header} must be { env: "VARIABLE_NAME" } (its value is read from the worker's environment, never written in the definition)`;
      }
      if (from.prefix !== undefined && typeof from.prefix !== 'string') return `header ${header}: prefix must be a string`;
    }
    return undefined;
  }
  return 'transport must be "stdio" or "http"';
}

/** The name the model sees for a server's tool: the prefix, then the name with characters the API refuses made `_`. */
export function mcpApiToolName(server: Pick<McpServerConfig, 'prefix'>, tool: string): string {
  return `${server.prefix ?? ''}${tool.replace(/[^a-zA-Z0-9_-]/g, '_')}`;
}

/**
 * The run's configuration with the MCP tools added: `listed` holds each server's tools as it
 * listed them. The allow-list is applied, names are checked for clashes, and `tool_choice`
 * overrides naming an MCP tool are checked now that the whole list is known. Throws
 * {@link McpServerMisconfiguredError} (not retried) or {@link InvalidRunInputError}.
 */
export function withMcpTools(
  config: RunConfig,
  def: AgentDefinition,
  listed: ReadonlyMap<string, readonly McpListedTool[]>,
  overrides: RunOverrides = {},
): RunConfig {
  const tools: Tool[] = [...(config.request.tools ?? [])] as Tool[];
  const policies = { ...config.tools };
  const taken = new Map<string, string>(Object.keys(policies).map((n) => [n, "the agent's own tool"]));
  for (const server of def.mcpServers ?? []) {
    const fail = (problem: string) => new McpServerMisconfiguredError(def.name, server.name, problem);
    const offered = listed.get(server.name) ?? [];
    const allowed = server.tools ? new Set(server.tools) : undefined;
    if (allowed) {
      const missing = [...allowed].filter((n) => !offered.some((t) => t.name === n));
      if (missing.length > 0) throw fail(`its allow-list names tools the server does not list: ${missing.join(', ')}`);
    }
    for (const tool of offered) {
      if (allowed && !allowed.has(tool.name)) continue;
      const name = mcpApiToolName(server, tool.name);
      if (!API_TOOL_NAME.test(name)) throw fail(`tool "${tool.name}" becomes "${name}", which the Messages API refuses (${API_TOOL_NAME})`);
      const clash = taken.get(name);
      if (clash) throw fail(`tool "${tool.name}" would be offered as "${name}", the name of ${clash}: give the server a prefix`);
      taken.set(name, `tool "${tool.name}" of MCP server "${server.name}"`);
      const { $schema: _ignored, ...inputSchema } = tool.inputSchema;
      tools.push({ name, ...(tool.description && { description: tool.description }), input_schema: inputSchema as Tool['input_schema'] });
      policies[name] = { ...toolPolicy(server.policy), mcp: { server: server.name, tool: tool.name } };
    }
  }
  const tc = overrides.tool_choice;
  if (tc?.type === 'tool' && !Object.hasOwn(policies, tc.name)) {
    throw new InvalidRunInputError(`override tool_choice names tool "${String(tc.name)}", which agent "${def.name}" does not offer`);
  }
  return { ...config, request: { ...config.request, ...(tools.length > 0 && { tools }) }, tools: policies };
}
