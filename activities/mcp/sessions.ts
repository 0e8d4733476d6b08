/**
 * A worker's MCP client sessions: one connection per agent's server, opened on first use and
 * shared by every call and every run on this worker (JSON-RPC multiplexes concurrent calls on
 * one connection), so a stdio server is one child process per worker, not one per call.
 *
 * A connection that is lost — the stdio server exits or is killed, the HTTP server closes a
 * stream or forgets the session — is dropped at once: calls in flight on it fail (and Temporal
 * retries them per the tool's policy, same idempotency key), and the next use connects again.
 * `close()` (worker shutdown, see worker/create-worker.ts) closes every connection and stops
 * every stdio server.
 *
 * Secrets — header values and the environment passed to a stdio server — are read from the
 * worker's environment when connecting; each session knows them so failures can be redacted.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { McpServerDefinition } from '../../agents/mcp.js';
import { McpServerMisconfiguredError, redactKeys } from '../../contract/failures.js';

/** One live connection to a server. */
export interface McpSession {
  readonly client: Client;
  /** Aborted when the connection is lost: calls in flight on it stop waiting at once. */
  readonly lost: AbortSignal;
  /** Values read from the environment for this server (headers, stdio env): redacted from failures. */
  readonly secrets: readonly string[];
}

/** How long connecting (spawn or HTTP, then MCP's `initialize`) may take before it counts as failed. */
export const MCP_CONNECT_TIMEOUT_MS = 10_000;

/** Options of {@link McpSessions}. */
export interface McpSessionsOptions {
  /** Default {@link MCP_CONNECT_TIMEOUT_MS}. */
  connectTimeoutMs?: number;
  /** Where to say that a connection was lost or opened again (default: nowhere). */
  log?: (line: string) => void;
}

interface Entry {
  key: string;
  session: Promise<McpSession>;
}

/** A session as the pool holds it: with how to stop what waits on it and how to forget it. */
interface Live extends McpSession {
  abort(why: string): void;
  forget(): void;
}

/** The pool of a worker's MCP sessions. */
export class McpSessions {
  readonly #entries = new Map<string, Entry>();
  readonly #open = new Set<Live>();
  #closed = false;
  /** Connections made so far (a reconnect counts). */
  connects = 0;

  constructor(private readonly opts: McpSessionsOptions = {}) {}

  /** The live session with an agent's server, connecting (again) if there is none. */
  session(agent: string, server: McpServerDefinition): Promise<McpSession> {
    if (this.#closed) return Promise.reject(new Error('the worker is shutting down: its MCP sessions are closed'));
    const key = `${agent}\u0000${server.name}`;
    const existing = this.#entries.get(key);
    if (existing) return existing.session;
    const entry: Entry = { key, session: Promise.resolve(undefined as never) };
    const forget = () => {
      if (this.#entries.get(key) === entry) this.#entries.delete(key);
    };
    entry.session = this.#connect(agent, server, forget);
    this.#entries.set(key, entry);
    // A failed connection is forgotten, so the next use tries again.
    entry.session.catch(forget);
    return entry.session;
  }

  /** Drop a session after a transport failure: calls on it stop, the next use connects again. */
  drop(session: McpSession, why: string): void {
    const live = session as Live;
    live.forget();
    void this.#lose(live, why);
  }

  /** Close every session and stop every stdio server (worker shutdown). Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#entries.clear();
    await Promise.all([...this.#open].map((s) => this.#lose(s, 'the worker is shutting down')));
  }

  /** Abort what waits on the session and close its connection. */
  async #lose(session: Live, why: string): Promise<void> {
    if (!this.#open.delete(session)) return;
    session.abort(why);
    await session.client.close().catch(() => undefined);
  }

  async #connect(agent: string, server: McpServerDefinition, forget: () => void): Promise<McpSession> {
    const { transport, secrets } = transportFor(agent, server);
    const client = new Client({ name: 'agent-runner', version: '0.1.0' }, { capabilities: {} });
    const lost = new AbortController();
    const session: Live = {
      client,
      lost: lost.signal,
      secrets,
      abort: (why) => lost.abort(new Error(`the connection to MCP server "${server.name}" was lost: ${why}`)),
      forget,
    };
    let connected = false;
    const onLost = (why: string) => {
      if (lost.signal.aborted) return;
      forget();
      if (connected && !this.#closed)
        this.opts.log?.(`MCP server "${server.name}" of agent "${agent}": connection lost (${why}); the next call reconnects`);
      void this.#lose(session, why);
    };
    // Set before connecting: a server that dies during `initialize` is lost too.
    client.onclose = () => onLost('closed');
    client.onerror = (e) => {
      // An HTTP stream cut mid-response (the server died or restarted): the calls waiting on it
      // would wait for their timeout. Other transport errors (a parse error on one line, no GET
      // stream offered) leave the connection usable.
      if (/SSE stream disconnected/.test(e.message)) onLost(e.message);
    };
    this.#open.add(session);
    this.connects++;
    try {
      await client.connect(transport, { timeout: this.opts.connectTimeoutMs ?? MCP_CONNECT_TIMEOUT_MS });
    } catch (e) {
      await this.#lose(session, 'connecting failed');
      // A server may echo a request header in its error body: the failure must not carry it.
      const failed = new Error(redactKeys(describeError(e), secrets));
      failed.name = e instanceof Error ? e.name : 'Error';
      // The HTTP status, if any (401/403: the server refused the credentials).
      const code = (e as { code?: unknown } | undefined)?.code;
      if (typeof code === 'number') Object.assign(failed, { code });
      throw failed;
    }
    connected = true;
    if (this.#closed) {
      await this.#lose(session, 'the worker is shutting down');
      throw new Error('the worker is shutting down: its MCP sessions are closed');
    }
    return session;
  }
}

/** The transport for a server's definition, with the secrets it carries. Throws if a named variable is unset. */
function transportFor(agent: string, server: McpServerDefinition): { transport: Transport; secrets: string[] } {
  const secrets: string[] = [];
  const fromEnv = (name: string, what: string): string => {
    const value = process.env[name];
    if (value === undefined || value === '') {
      throw new McpServerMisconfiguredError(
        agent,
        server.name,
        `${what} needs the environment variable ${name}, which is not set on the worker`,
      );
    }
    secrets.push(value);
    return value;
  };
  if (server.transport === 'stdio') {
    const env = Object.fromEntries((server.env ?? []).map((name) => [name, fromEnv(name, 'its env')]));
    const transport = new StdioClientTransport({
      command: server.command,
      args: [...(server.args ?? [])],
      env,
      ...(server.cwd !== undefined && { cwd: server.cwd }),
      // The server's own log lines go to the worker's stderr.
      stderr: 'inherit',
    });
    return { transport, secrets };
  }
  const headers: Record<string, string> = {};
  for (const [name, from] of Object.entries(server.headers ?? {}))
    headers[name] = `${from.prefix ?? ''}${fromEnv(from.env, `header ${name}`)}`;
  const transport = new StreamableHTTPClientTransport(new URL(server.url), { requestInit: { headers } });
  return { transport, secrets };
}

/** An error in one line with its cause (`fetch failed` says little; its cause says ECONNREFUSED). */
export function describeError(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const cause = e.cause instanceof Error ? e.cause.message : undefined;
  return cause && !e.message.includes(cause) ? `${e.message}: ${cause}` : e.message;
}
