/**
 * The activities a run schedules: their names (as registered by workers and as they appear in
 * history), inputs, results, and the progress the model call heartbeats. The workflow proxies
 * {@link AgentActivities}; the activities layer implements it; `watch` and `show` find
 * activities in history by {@link ActivityNames}.
 */
import type { ModelRequestBase, RunConfig } from './config.js';
import type { McpToolOrigin } from './mcp.js';
import type { Message, MessageParam, ToolResultBlockParam } from './messages.js';
import type { BilledUsage } from './prices.js';
import type { RunOverrides } from './run.js';

/** Activity type names, as registered and as recorded in history. */
export const ActivityNames = {
  resolveAgent: 'resolveAgent',
  callModel: 'callModel',
  runTool: 'runTool',
  needsApproval: 'needsApproval',
} as const;

/** Input of `resolveAgent`. */
export interface ResolveAgentInput {
  agent: string;
  overrides?: RunOverrides;
  /** The run's structured output (replacing the agent's): its schema and/or attempts. */
  output?: { schema?: Record<string, unknown>; maxAttempts?: number };
  /** A session: the agent's own output schema does not apply. */
  session?: true;
}

/** Input of `callModel`. */
export interface ModelCallInput {
  request: ModelRequestBase & { messages: MessageParam[] };
  /** 1-based number of this model call in the run. */
  turn: number;
  /** A stream silent this long is aborted and the attempt retried (default `DEFAULT_MODEL_POLICY.stallTimeout`). */
  stallTimeout?: string;
  /** Place prompt-cache breakpoints with this TTL (absent: none; see activities/cache-control.ts). */
  cacheTtl?: '5m' | '1h';
}

/** Result of `callModel`: the API's message, verbatim. */
export interface ModelCallResult {
  message: Message;
  /** Earlier attempts of this call that failed after the API had reported usage: billed all the same. */
  failedAttempts?: { attempts: number; usage: BilledUsage };
  /** The API's `anthropic-ratelimit-*` response headers (names without the prefix), as `watch` shows them. */
  rateLimit?: Record<string, string>;
}

/** What `callModel` heartbeats while it works (shown by `agent-runner watch`). */
export interface ModelProgress {
  phase: 'waiting' | 'streaming';
  /** Output tokens so far: exact once the API reports them, else estimated from streamed text. */
  outputTokens: number;
  events: number;
  /** The assistant's text so far: its last {@link PROGRESS_TEXT_CHARS} characters (the live text `watch` and `chat` show). */
  text?: string;
  /** Characters of text streamed so far (to tell how much of `text` is new). */
  textChars?: number;
  /**
   * Usage the API has reported for this call's failed attempts so far, plus this attempt's (from
   * `message_start` / `message_delta`): the next attempt reads it from the last heartbeat.
   */
  billed?: { attempts: number; usage: BilledUsage };
}

/** How much of the text so far the model call's heartbeat carries. */
export const PROGRESS_TEXT_CHARS = 2000;

/** Input of `runTool`. */
export interface ToolCallInput {
  agent: string;
  toolUse: { id: string; name: string; input: unknown };
  /** Stable across retries, worker crashes and continue-as-new: `${workflowId}/${toolUseId}`. */
  idempotencyKey: string;
  turn: number;
  /** Results above this size are truncated (see `RunLimits.toolResultMaxBytes`). */
  maxResultBytes?: number;
  /** An MCP tool: the call goes to this server's tool (from the run's recorded configuration). */
  mcp?: McpToolOrigin;
}

/** Input of `needsApproval`: one call of a tool whose approval is decided per call. */
export interface ApprovalCheckInput {
  agent: string;
  toolUse: { id: string; name: string; input: unknown };
}

/** The activities, as the workflow calls them. */
export interface AgentActivities {
  /** The agent plus the caller's overrides → the run's fixed configuration. */
  [ActivityNames.resolveAgent](input: ResolveAgentInput): Promise<RunConfig>;
  /** One Messages API call, streamed. */
  [ActivityNames.callModel](input: ModelCallInput): Promise<ModelCallResult>;
  /** One `tool_use` block → its `tool_result` (business failures are `is_error` results). */
  [ActivityNames.runTool](input: ToolCallInput): Promise<ToolResultBlockParam>;
  /** Whether this call needs a person's approval (tools that decide per call, from the input). */
  [ActivityNames.needsApproval](input: ApprovalCheckInput): Promise<boolean>;
}
