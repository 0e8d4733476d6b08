/**
 * One MCP tool call, as the `runTool` activity makes it for a tool whose recorded origin is an
 * MCP server (see activities/tools.ts, which shapes and size-caps the `tool_result`).
 *
 * - The call goes over the worker's pooled session with the server (activities/mcp/sessions.ts).
 * - `_meta` carries the idempotency key under {@link MCP_IDEMPOTENCY_META_KEY}: the same on every
 *   attempt, after a crash, across continue-as-new.
 * - The activity's cancellation aborts the request: the SDK sends `notifications/cancelled`, and
 *   the cancellation is rethrown so Temporal records a cancellation.
 * - The result's `isError: true` → an `is_error` result, not retried. A JSON-RPC refusal (invalid
 *   arguments, unknown tool) → `is_error` too. Anything else — the connection lost, the server
 *   gone, a timeout, an internal error — throws a retried failure (contract/failures.ts
 *   `mcpCallFailure`), and a transport failure drops the session so the retry reconnects.
 */
import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { AgentDefinition } from '../../agents/define.js';
import { mcpCallFailure, McpServerMisconfiguredError, redactKeys, ToolErrorText } from '../../contract/failures.js';
import { MCP_IDEMPOTENCY_META_KEY, type McpToolOrigin } from '../../contract/mcp.js';
import { mcpResultContent, type McpCallResultLike } from './content.js';
import { describeError, type McpSession, type McpSessions } from './sessions.js';

/** What the call needs from the activity. */
export interface McpCallContext {
  idempotencyKey: string;
  /** The activity's cancellation signal. */
  signal: AbortSignal;
  /** Called with the server's progress notifications. */
  heartbeat(details?: unknown): void;
  /** The request's own timeout: the attempt's start-to-close timeout. */
  timeoutMs: number;
  /** Redacts the worker's own secrets (the session's are added here). */
  redact(text: string): string;
}

/** The call's outcome, before the activity caps its size. Failures to retry are thrown. */
export interface McpCallOutcome {
  content: ReturnType<typeof mcpResultContent>;
  isError: boolean;
}

/** The JSON-RPC code the SDK raises itself when a connection closes. */
const CONNECTION_CLOSED = -32000;

/** Call `origin.tool` on `origin.server` of agent `def` with the model's input. */
export async function callMcpTool(
  pool: McpSessions,
  def: AgentDefinition | undefined,
  toolName: string,
  origin: McpToolOrigin,
  input: unknown,
  ctx: McpCallContext,
): Promise<McpCallOutcome> {
  const server = def?.mcpServers?.find((s) => s.name === origin.server);
  if (!def || !server) return { content: ToolErrorText.mcpServerUnknown(toolName, origin.server), isError: true };
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { content: ToolErrorText.invalidInput(toolName, '(input): must be an object'), isError: true };
  }
  for (let attempt = 1; ; attempt++) {
    let session: McpSession;
    try {
      session = await pool.session(def.name, server);
    } catch (e) {
      if (e instanceof McpServerMisconfiguredError) return { content: e.message, isError: true };
      throw failure(toolName, origin, describeError(e), ctx.redact);
    }
    const redact = (text: string) => ctx.redact(redactKeys(text, session.secrets));
    // The request stops when the activity is cancelled or the connection is lost. (Listeners
    // rather than AbortSignal.any: the session's signal lives as long as the worker.)
    const stop = new AbortController();
    const onCancel = () => stop.abort(ctx.signal.reason);
    const onLost = () => stop.abort(session.lost.reason);
    ctx.signal.addEventListener('abort', onCancel, { once: true });
    session.lost.addEventListener('abort', onLost, { once: true });
    if (ctx.signal.aborted) onCancel();
    else if (session.lost.aborted) onLost();
    try {
      const result = await session.client.callTool(
        { name: origin.tool, arguments: input as Record<string, unknown>, _meta: { [MCP_IDEMPOTENCY_META_KEY]: ctx.idempotencyKey } },
        undefined,
        {
          signal: stop.signal,
          timeout: ctx.timeoutMs,
          onprogress: (progress) => ctx.heartbeat({ mcpProgress: progress }),
        },
      );
      const answer = result as McpCallResultLike;
      return { content: mcpResultContent(answer), isError: answer.isError === true };
    } catch (e) {
      if (ctx.signal.aborted) throw ctx.signal.reason;
      const lost = session.lost.aborted ? (session.lost.reason as Error) : undefined;
      // A transport failure drops the session (the retry reconnects); a server's answer or one
      // request's timeout leaves it to the other calls sharing it.
      if (!lost && isTransportFailure(e)) pool.drop(session, describeError(e));
      // An HTTP server that restarted has forgotten the session: the request never reached a
      // handler, so it is sent once more on a new session within this attempt.
      if (attempt === 1 && e instanceof StreamableHTTPError && e.code === 404) continue;
      const outcome = mcpCallFailure(toolName, origin.server, lost ?? e, redact);
      if ('isError' in outcome) return { content: outcome.isError, isError: true };
      throw outcome;
    } finally {
      ctx.signal.removeEventListener('abort', onCancel);
      session.lost.removeEventListener('abort', onLost);
    }
  }
}

/** Not an MCP answer (a JSON-RPC error, or the SDK's own timeout) but the connection failing. */
function isTransportFailure(e: unknown): boolean {
  const code = (e as { code?: unknown } | undefined)?.code;
  return !(e instanceof Error && e.name === 'McpError') || code === CONNECTION_CLOSED;
}

function failure(toolName: string, origin: McpToolOrigin, why: string, redact: (text: string) => string) {
  const outcome = mcpCallFailure(toolName, origin.server, new Error(`could not connect: ${why}`), redact);
  return 'isError' in outcome ? new Error(outcome.isError) : outcome;
}
