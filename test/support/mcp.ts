/**
 * MCP in the tests: the test server (test/support/mcp-server.ts) as an HTTP server process the
 * test can kill and restart, its event log, and agents that use it over stdio and HTTP.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineAgent, defineTool, type AgentDefinition } from '../../agents/define.js';
import { fastModelCall } from '../../devtools/agents.js';
import { z } from 'zod';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The test MCP server's entry point. */
export const MCP_SERVER = fileURLToPath(new URL('./mcp-server.ts', import.meta.url));

/** One line the server appended to MCP_TEST_LOG. */
export interface McpEvent {
  event: string;
  tool?: string;
  key?: string;
  pid: number;
  at: number;
}

/** Every event the servers logged so far. */
export function mcpEvents(file: string): McpEvent[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as McpEvent);
}

/** Wait until an event matches (polling the log), or fail saying what was awaited. */
export async function waitForMcpEvent(file: string, match: (e: McpEvent) => boolean, what: string, timeoutMs = 20_000): Promise<McpEvent> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const found = mcpEvents(file).find(match);
    if (found) return found;
    if (Date.now() > until) throw new Error(`no MCP server event "${what}" within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The test server running over Streamable HTTP, in its own process. */
export interface HttpMcpServer {
  url: string;
  port: number;
  child: ChildProcess;
  exited: Promise<void>;
}

/** Start the test server over HTTP on 127.0.0.1 (a random port unless given). */
export async function startHttpMcpServer(env: NodeJS.ProcessEnv, port = 0): Promise<HttpMcpServer> {
  const child = spawn(process.execPath, ['--import', 'tsx', MCP_SERVER, '--http', '--port', String(port)], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /MCP_HTTP_URL=(\S+)/.exec(out);
      if (m?.[1]) resolve(m[1]);
    });
    void exited.then(() => reject(new Error(`the MCP test server exited before listening: ${out}`)));
  });
  return { url, port: Number(new URL(url).port), child, exited };
}

/** Short retries, so a server's crash is over in a second or two. */
const policy = { timeout: '20s', retry: { maximumAttempts: 8, initialInterval: '200ms', maximumInterval: '1s' } };

/** The agent's own tool, beside the MCP ones. */
const note = defineTool({
  name: 'take_note',
  description: 'Remember a note.',
  inputSchema: z.object({ text: z.string() }),
  run: ({ text }) => `noted: ${text}`,
});

const base = { model: 'claude-test-model', max_tokens: 512, system: 'You are a test agent.', maxTurns: 10, modelCall: fastModelCall };

/** The test server over stdio, started by the worker (`env` passes MCP_TEST_LOG through). */
function stdioServer(name: string) {
  return {
    name,
    transport: 'stdio' as const,
    command: process.execPath,
    args: ['--import', 'tsx', MCP_SERVER, '--stdio'],
    cwd: ROOT,
    env: ['MCP_TEST_LOG'],
    policy,
  };
}

/**
 * - `mcp-stdio`: its own tool plus five of the server's (the allow-list leaves out
 *   `legacy_lookup` and `retire_legacy`), over stdio;
 * - `mcp-http`: every tool of the server at `httpUrl`, prefixed `orders_`, with a bearer token
 *   from MCP_TEST_TOKEN;
 * - `mcp-catalog`: a stdio server of its own, whose list a run changes;
 * - `mcp-down`: a server nothing listens for; `mcp-noenv`: a header from an unset variable;
 *   `mcp-badtoken`: a token the server refuses (MCP_TEST_WRONG_TOKEN).
 */
export function mcpAgents(httpUrl: string, downUrl: string): AgentDefinition[] {
  return [
    defineAgent({
      ...base,
      name: 'mcp-stdio',
      tools: [note],
      mcpServers: [{ ...stdioServer('orders'), tools: ['lookup_order', 'slow', 'record_key', 'picture', 'stock.check'] }],
    }),
    defineAgent({
      ...base,
      name: 'mcp-http',
      tools: [],
      mcpServers: [
        {
          name: 'orders',
          transport: 'http',
          url: httpUrl,
          headers: { Authorization: { env: 'MCP_TEST_TOKEN', prefix: 'Bearer ' } },
          prefix: 'orders_',
          policy,
        },
      ],
    }),
    defineAgent({ ...base, name: 'mcp-catalog', tools: [], mcpServers: [stdioServer('catalog')] }),
    defineAgent({ ...base, name: 'mcp-down', tools: [note], mcpServers: [{ name: 'down', transport: 'http', url: downUrl }] }),
    defineAgent({
      ...base,
      name: 'mcp-noenv',
      tools: [note],
      mcpServers: [{ name: 'orders', transport: 'http', url: httpUrl, headers: { Authorization: { env: 'MCP_TEST_UNSET_VARIABLE' } } }],
    }),
    defineAgent({
      ...base,
      name: 'mcp-badtoken',
      tools: [note],
      mcpServers: [
        { name: 'orders', transport: 'http', url: httpUrl, headers: { Authorization: { env: 'MCP_TEST_WRONG_TOKEN', prefix: 'Bearer ' } } },
      ],
    }),
  ];
}
