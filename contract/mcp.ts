/**
 * MCP servers as the contract knows them: how an agent names a server (pure data, read by
 * workers), and the origin of an MCP tool, which the run's configuration records per tool and
 * each `runTool` call carries, so a call reaches the server and the tool it was listed from.
 *
 * What is recorded in history is only {@link McpToolOrigin} (a server's name and a tool's name)
 * plus the API tool definition: never a command line, a URL or a header, which stay in the
 * worker's agent definitions (and secrets in its environment).
 */

/** Where an MCP tool of a run comes from: the agent's server name and the tool's name on that server. */
export interface McpToolOrigin {
  /** The `name` of the server in the agent's `mcpServers`. */
  server: string;
  /** The tool's own name on the server (the model may see it prefixed or with `.` made `_`). */
  tool: string;
}

/** A header sent to a Streamable HTTP server, its value read from the worker's environment. */
export interface McpHeaderFromEnv {
  /** Name of the environment variable holding the value, e.g. `ORDERS_MCP_TOKEN`. */
  env: string;
  /** Text put before the value, e.g. `'Bearer '`. */
  prefix?: string;
}

/** What every MCP server definition has. */
interface McpServerBase {
  /** Unique within the agent; names the server in failures and in each MCP tool's origin. */
  name: string;
  /** Only these of the server's tools are offered (default: all it lists). Names as the server spells them. */
  tools?: readonly string[];
  /** Put before every tool name the model sees (e.g. `orders_`), to keep clear of the agent's own tools. */
  prefix?: string;
}

/** A server the worker starts as a child process and speaks to over stdin/stdout. */
export interface McpStdioServerConfig extends McpServerBase {
  transport: 'stdio';
  command: string;
  args?: readonly string[];
  /**
   * Names of worker environment variables passed to the server (each must be set). The server
   * also gets the MCP SDK's safe defaults (HOME, LOGNAME, PATH, SHELL, TERM, USER), nothing else.
   */
  env?: readonly string[];
  cwd?: string;
}

/** A server reached over MCP's Streamable HTTP transport. */
export interface McpHttpServerConfig extends McpServerBase {
  transport: 'http';
  /** The MCP endpoint, e.g. `https://mcp.example.com/mcp`. Put no secret in it: use `headers`. */
  url: string;
  /** Request headers by name, each value from an environment variable of the worker. */
  headers?: Readonly<Record<string, McpHeaderFromEnv>>;
}

/** How an agent names an MCP server. */
export type McpServerConfig = McpStdioServerConfig | McpHttpServerConfig;

/**
 * The `_meta` key under which each `tools/call` request carries the call's idempotency key
 * (`<workflowId>/<tool_use id>`, the same on every attempt), so a server can deduplicate.
 */
export const MCP_IDEMPOTENCY_META_KEY = 'agent-runner/idempotency-key';
