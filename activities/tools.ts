/**
 * The tool activity: validate the input, run the handler, shape a `tool_result`.
 *
 * Outcomes, in the order they are checked:
 * - unknown tool on this worker, invalid input, `ToolError`, unserialisable output: an `is_error`
 *   result, returned (not thrown), so Temporal does not retry it;
 * - output over the run's `toolResultMaxBytes`: truncated, with a note the model can read, so no
 *   payload ever nears Temporal's 2 MB limit;
 * - cancellation: rethrown as Temporal's cancellation;
 * - anything else: thrown, so Temporal retries it per the tool's policy. When the retries run out
 *   the workflow turns the failure into an `is_error` result and the run goes on.
 *
 * A tool whose recorded origin is an MCP server (`input.mcp`) is called on that server instead
 * (activities/mcp/call.ts), with the same outcomes, heartbeats and size cap.
 */
import { Context } from '@temporalio/activity';
import { msToNumber } from '@temporalio/common/lib/time.js';
import { ToolError } from '../agents/define.js';
import type { AgentRegistry } from '../agents/registry.js';
import type { ToolCallInput } from '../contract/activities.js';
import { DEFAULT_LIMITS, DEFAULT_TOOL_POLICY } from '../contract/config.js';
import { toolFailure, ToolErrorText } from '../contract/failures.js';
import type { ToolResultBlockParam } from '../contract/messages.js';
import { callMcpTool } from './mcp/call.js';
import type { McpSessions } from './mcp/sessions.js';
import { endToolSpan, failSpan, startToolSpan } from './telemetry.js';

/** Builds the `runTool` activity over a worker's agent registry (and its MCP sessions, for MCP tools). */
export function createToolActivity(registry: AgentRegistry, redact?: (text: string) => string, mcp?: McpSessions) {
  return {
    /** Run one `tool_use` block; see the module comment. */
    async runTool(input: ToolCallInput): Promise<ToolResultBlockParam> {
      const span = startToolSpan(input.toolUse.name, input.toolUse.id);
      try {
        const result = input.mcp && mcp ? await runMcp(registry, mcp, input, input.mcp, redact) : await runOne(registry, input, redact);
        endToolSpan(span, result.is_error === true);
        return result;
      } catch (err) {
        failSpan(span, err);
        throw err;
      }
    },
  };
}

async function runOne(registry: AgentRegistry, input: ToolCallInput, redact?: (text: string) => string): Promise<ToolResultBlockParam> {
  const { toolUse } = input;
  const fail = (content: ToolResultBlockParam['content']): ToolResultBlockParam => ({
    type: 'tool_result',
    tool_use_id: toolUse.id,
    content,
    is_error: true,
  });
  const tool = registry.tool(input.agent, toolUse.name);
  if (!tool) return fail(ToolErrorText.unknownTool(toolUse.name, registry.toolNames(input.agent)));
  const checked = tool.validate(toolUse.input);
  if (!checked.ok) return fail(ToolErrorText.invalidInput(toolUse.name, checked.problems));

  const ctx = Context.current();
  const info = ctx.info;
  let output: unknown;
  // Cancellation reaches an activity only through heartbeats: keep them flowing for handlers
  // that do not heartbeat themselves. (A tool with its own heartbeatTimeout must heartbeat,
  // so that a hang is still detected.) Local activities cannot heartbeat, and learn of
  // cancellation in-process.
  const beat = info.heartbeatTimeoutMs || info.isLocal ? undefined : setInterval(() => ctx.heartbeat(), 1_000);
  try {
    output = await tool.run(checked.value, {
      idempotencyKey: input.idempotencyKey,
      signal: ctx.cancellationSignal,
      heartbeat: (details) => {
        if (!info.isLocal) ctx.heartbeat(details);
      },
      attempt: info.attempt,
      workflowId: info.workflowExecution?.workflowId ?? '',
      toolUseId: toolUse.id,
    });
  } catch (err) {
    if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason;
    if (err instanceof ToolError || (err instanceof Error && err.name === 'ToolError' && 'content' in err)) {
      return fail((err as ToolError).content as ToolResultBlockParam['content']);
    }
    throw toolFailure(toolUse.name, err, redact);
  } finally {
    clearInterval(beat);
  }
  const content = toContent(output, input.maxResultBytes ?? DEFAULT_LIMITS.toolResultMaxBytes);
  if ('problem' in content) return fail(ToolErrorText.unserialisable(toolUse.name, content.problem));
  return { type: 'tool_result', tool_use_id: toolUse.id, content: content.value };
}

/**
 * An MCP tool (its origin recorded in the run's configuration): the call goes to its server
 * (activities/mcp/call.ts); the result is capped like any tool's.
 */
async function runMcp(
  registry: AgentRegistry,
  mcp: McpSessions,
  input: ToolCallInput,
  origin: NonNullable<ToolCallInput['mcp']>,
  redact: (text: string) => string = (t) => t,
): Promise<ToolResultBlockParam> {
  const ctx = Context.current();
  const info = ctx.info;
  // As for handlers that do not heartbeat: the worker's liveness, and how a cancel arrives.
  const beat = info.isLocal ? undefined : setInterval(() => ctx.heartbeat(), 1_000);
  try {
    const out = await callMcpTool(mcp, registry.agent(input.agent), input.toolUse.name, origin, input.toolUse.input, {
      idempotencyKey: input.idempotencyKey,
      signal: ctx.cancellationSignal,
      heartbeat: (details) => {
        if (!info.isLocal) ctx.heartbeat(details);
      },
      // The request gives up when the attempt would (Temporal's timeout); the SDK then tells the server.
      timeoutMs: info.startToCloseTimeoutMs > 0 ? info.startToCloseTimeoutMs : msToNumber(DEFAULT_TOOL_POLICY.timeout),
      redact,
    });
    const content = truncate(out.content, input.maxResultBytes ?? DEFAULT_LIMITS.toolResultMaxBytes);
    return { type: 'tool_result', tool_use_id: input.toolUse.id, content, ...(out.isError && { is_error: true }) };
  } finally {
    clearInterval(beat);
  }
}

/** A handler's return value as `tool_result` content: text, blocks, or JSON text, truncated to `max` bytes. */
function toContent(output: unknown, max: number): { value: ToolResultBlockParam['content'] } | { problem: string } {
  let value: ToolResultBlockParam['content'];
  if (output === undefined || output === null) value = '';
  else if (typeof output === 'string') value = output;
  else if (Array.isArray(output) && output.length > 0 && output.every(isContentBlock)) value = output;
  else {
    try {
      value = JSON.stringify(output);
    } catch (e) {
      return { problem: (e as Error).message };
    }
    if (value === undefined) return { problem: typeof output };
  }
  return { value: truncate(value, max) };
}

const note = (total: number, shown: number) =>
  `\n[agent-runner: output truncated — the tool returned ${total} bytes; the first ${shown} are shown.]`;

/** Keep content within `max` bytes: text is cut (UTF-8 safe) and marked; later blocks are dropped. */
function truncate(value: ToolResultBlockParam['content'], max: number): ToolResultBlockParam['content'] {
  if (value === undefined) return value;
  const size = (v: unknown) => Buffer.byteLength(typeof v === 'string' ? v : JSON.stringify(v), 'utf8');
  const total = size(value);
  if (total <= max) return value;
  const cut = (text: string, bytes: number) =>
    Buffer.from(text, 'utf8')
      .subarray(0, Math.max(0, bytes))
      .toString('utf8')
      .replace(/\uFFFD+$/, '');
  if (typeof value === 'string') {
    const shown = cut(value, max - 200);
    return shown + note(total, Buffer.byteLength(shown));
  }
  const out: Exclude<ToolResultBlockParam['content'], string | undefined> = [];
  let used = 0;
  for (const block of value) {
    const b = size(block);
    if (used + b <= max - 200) {
      out.push(block);
      used += b;
    } else {
      if (block.type === 'text') out.push({ ...block, text: cut(block.text, max - 200 - used - 100) });
      out.push({ type: 'text', text: note(total, used).trim() });
      break;
    }
  }
  return out;
}

function isContentBlock(b: unknown): boolean {
  return (
    typeof b === 'object' &&
    b !== null &&
    typeof (b as { type?: unknown }).type === 'string' &&
    ['text', 'image', 'document', 'search_result'].includes((b as { type: string }).type)
  );
}
