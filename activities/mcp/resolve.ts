/**
 * Listing an agent's MCP servers' tools when a run's configuration is resolved (the
 * `resolveAgent` activity): every server in parallel, over the worker's pooled sessions, every
 * page of `tools/list`. What they list is merged into the configuration by agents/mcp.ts and
 * recorded in history with it, so the run keeps these tools whatever the servers list later.
 *
 * A server that cannot be reached or fails to list is `McpServerUnavailable` (retried by
 * Temporal a few times, then the run fails with that one line); a definition that cannot work
 * on this worker (an unset environment variable) is `McpServerMisconfigured` (not retried).
 */
import type { AgentDefinition } from '../../agents/define.js';
import type { McpListedTool } from '../../agents/mcp.js';
import { McpServerMisconfiguredError, McpServerUnavailableError, redactKeys } from '../../contract/failures.js';
import { describeError, MCP_CONNECT_TIMEOUT_MS, type McpSessions } from './sessions.js';

/** More pages than any real server has: a server that keeps returning cursors is broken. */
const MAX_PAGES = 100;

/** Each of the agent's servers' tools, by server name (empty when the agent names no server). */
export async function listMcpTools(
  pool: McpSessions,
  def: AgentDefinition,
  redact: (text: string) => string,
  timeoutMs = MCP_CONNECT_TIMEOUT_MS,
): Promise<Map<string, McpListedTool[]>> {
  const servers = def.mcpServers ?? [];
  const lists = await Promise.all(
    servers.map(async (server): Promise<[string, McpListedTool[]]> => {
      let session;
      try {
        session = await pool.session(def.name, server);
      } catch (e) {
        if (e instanceof McpServerMisconfiguredError) throw e;
        const status = (e as { code?: unknown }).code;
        if (status === 401 || status === 403) {
          throw new McpServerMisconfiguredError(
            def.name,
            server.name,
            `the server refused the credentials (HTTP ${status}): check the environment variables its headers come from`,
          );
        }
        throw new McpServerUnavailableError(def.name, server.name, redact(describeError(e)));
      }
      const tools: McpListedTool[] = [];
      try {
        let cursor: string | undefined;
        for (let page = 0; page < MAX_PAGES; page++) {
          const listed = await session.client.listTools(cursor ? { cursor } : undefined, { timeout: timeoutMs });
          tools.push(...listed.tools);
          cursor = listed.nextCursor;
          if (!cursor) break;
        }
        if (cursor) throw new Error(`tools/list returned more than ${MAX_PAGES} pages`);
      } catch (e) {
        pool.drop(session, describeError(e));
        throw new McpServerUnavailableError(
          def.name,
          server.name,
          redact(redactKeys(`tools/list failed: ${describeError(e)}`, session.secrets)),
        );
      }
      return [server.name, tools];
    }),
  );
  return new Map(lists);
}
