/**
 * A real MCP server for the tests, written with the official SDK (`@modelcontextprotocol/sdk`):
 *
 *   tsx test/support/mcp-server.ts --stdio
 *   tsx test/support/mcp-server.ts --http [--port N]    # prints "MCP_HTTP_URL=http://127.0.0.1:PORT/mcp"
 *
 * Over HTTP it is the Streamable HTTP transport with sessions (so `notifications/cancelled`
 * reaches the handler it cancels), on 127.0.0.1; if MCP_TEST_TOKEN is set, requests must carry
 * `Authorization: Bearer <it>` (401 otherwise). Every tool call appends an event to the JSONL file
 * MCP_TEST_LOG (when set) with the server's pid and the idempotency key it received in `_meta`,
 * so tests can see what the server did, across restarts.
 *
 * Tools: `lookup_order` (an unknown order is an `isError` result), `slow` (waits, honouring
 * cancellation), `record_key` (answers the idempotency key it got), `picture` (text, an image and
 * an embedded resource), `stock.check` (a dotted name), `legacy_lookup` and `retire_legacy`
 * (which swaps `legacy_lookup` for `lookup_order_v2` on every session: the list changes).
 */
import { McpServer, type RegisteredTool } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { appendFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';

/** The `_meta` key agent-runner sends the idempotency key under (contract/mcp.ts). */
const KEY = 'agent-runner/idempotency-key';

const ORDERS: Record<string, { status: string; estimated_delivery?: string }> = {
  '48810': { status: 'shipped', estimated_delivery: '2026-05-24' },
  '60042': { status: 'processing', estimated_delivery: '2026-06-01' },
};

/** A 1×1 transparent PNG. */
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=';

function log(event: Record<string, unknown>): void {
  const file = process.env.MCP_TEST_LOG;
  if (file) appendFileSync(file, `${JSON.stringify({ ...event, pid: process.pid, at: Date.now() })}\n`);
}

const keyOf = (extra: { _meta?: Record<string, unknown> | undefined }) => String(extra._meta?.[KEY] ?? '');
const text = (t: string) => ({ content: [{ type: 'text' as const, text: t }] });

/** Whether `retire_legacy` ran in this process: every session, old and new, then lists the new catalog. */
let retired = false;
const sessions = new Set<{ server: McpServer; legacy?: RegisteredTool }>();

function lookup(order_id: string) {
  const order = ORDERS[order_id];
  if (!order) return { ...text(`No order with id ${order_id} was found.`), isError: true };
  return text(JSON.stringify({ order_id, ...order }));
}

function addV2(server: McpServer): void {
  server.registerTool(
    'lookup_order_v2',
    { description: 'Look up an order (new API).', inputSchema: { order_id: z.string() } },
    ({ order_id }) => lookup(order_id),
  );
}

/** One McpServer (one per HTTP session; one for stdio) with the test tools. */
function buildServer(): McpServer {
  const server = new McpServer({ name: 'agent-runner-test-server', version: '1.0.0' }, { capabilities: { tools: { listChanged: true } } });
  const entry: { server: McpServer; legacy?: RegisteredTool } = { server };
  sessions.add(entry);

  server.registerTool(
    'lookup_order',
    {
      description: 'Look up the status of a customer order by its id.',
      inputSchema: { order_id: z.string().describe('The order id, e.g. "48810"') },
    },
    ({ order_id }, extra) => {
      log({ event: 'call', tool: 'lookup_order', key: keyOf(extra), order_id });
      return lookup(order_id);
    },
  );

  server.registerTool(
    'slow',
    { description: 'Wait ms milliseconds, then answer.', inputSchema: { ms: z.number().int().min(0) } },
    async ({ ms }, extra) => {
      const key = keyOf(extra);
      log({ event: 'start', tool: 'slow', key });
      const finished = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(true), ms);
        extra.signal.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve(false);
        });
      });
      log({ event: finished ? 'done' : 'cancelled', tool: 'slow', key });
      return text(`slept ${ms} ms`);
    },
  );

  server.registerTool('record_key', { description: 'Answer the idempotency key this call carried.', inputSchema: {} }, (_args, extra) => {
    log({ event: 'call', tool: 'record_key', key: keyOf(extra) });
    return text(`key: ${keyOf(extra)}`);
  });

  server.registerTool('picture', { description: 'A caption, a picture and a note.', inputSchema: {} }, () => ({
    content: [
      { type: 'text', text: 'A tiny picture:' },
      { type: 'image', data: PNG, mimeType: 'image/png' },
      { type: 'resource', resource: { uri: 'memo://note', mimeType: 'text/plain', text: 'a note' } },
    ],
  }));

  server.registerTool('stock.check', { description: 'Units in stock of a product.', inputSchema: { sku: z.string() } }, ({ sku }) => ({
    content: [],
    structuredContent: { sku, units: 7 },
  }));

  if (retired) addV2(server);
  else {
    entry.legacy = server.registerTool(
      'legacy_lookup',
      { description: 'Look up an order (old API, being retired).', inputSchema: { order_id: z.string() } },
      ({ order_id }) => lookup(order_id),
    );
  }

  server.registerTool('retire_legacy', { description: 'Replace legacy_lookup by lookup_order_v2.', inputSchema: {} }, () => {
    if (!retired) {
      retired = true;
      for (const s of sessions) {
        s.legacy?.remove();
        addV2(s.server);
      }
      log({ event: 'retired' });
    }
    return text('legacy_lookup retired; use lookup_order_v2');
  });
  return server;
}

async function serveStdio(): Promise<void> {
  const server = buildServer();
  await server.connect(new StdioServerTransport());
  // The worker closing our stdin is the end of the session.
  process.stdin.on('end', () => process.exit(0));
}

async function serveHttp(port: number): Promise<void> {
  const transports = new Map<string, StreamableHTTPServerTransport>();
  const token = process.env.MCP_TEST_TOKEN;
  const http = createServer((req, res) => {
    void (async () => {
      if ((req.url ?? '').split('?')[0] !== '/mcp') return void res.writeHead(404).end();
      if (token && req.headers.authorization !== `Bearer ${token}`) {
        log({ event: 'unauthorized' });
        return void res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"unauthorized"}');
      }
      const id = req.headers['mcp-session-id'];
      let transport = typeof id === 'string' ? transports.get(id) : undefined;
      if (typeof id === 'string' && !transport) {
        // A session this process does not know (it restarted): the client must start a new one.
        return void res
          .writeHead(404, { 'content-type': 'application/json' })
          .end('{"jsonrpc":"2.0","error":{"code":-32001,"message":"Session not found"},"id":null}');
      }
      if (!transport) {
        const created = new StreamableHTTPServerTransport({
          sessionIdGenerator: () => randomUUID(),
          onsessioninitialized: (sid) => void transports.set(sid, created),
        });
        created.onclose = () => {
          if (created.sessionId) transports.delete(created.sessionId);
        };
        await buildServer().connect(created);
        transport = created;
      }
      await transport.handleRequest(req, res);
    })().catch((e: unknown) => {
      console.error(`mcp test server: ${String(e)}`);
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve) => http.listen(port, '127.0.0.1', resolve));
  const { port: bound } = http.address() as AddressInfo;
  process.stdout.write(`MCP_HTTP_URL=http://127.0.0.1:${bound}/mcp\n`);
}

const args = process.argv.slice(2);
if (args.includes('--http')) {
  const at = args.indexOf('--port');
  await serveHttp(at >= 0 ? Number(args[at + 1]) : 0);
} else {
  await serveStdio();
}
