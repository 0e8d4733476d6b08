/**
 * A run's configuration: what the model call sends besides the conversation, the activity
 * policies of the model call and of each tool, and the size limits. Resolved once, when the run
 * starts, by the `resolveAgent` activity; recorded in history; never changed during the run.
 *
 * The defaults live here, side by side, so a reader sees every number the runner chooses.
 */
import type { McpToolOrigin } from './mcp.js';
import type { MessageCreateParamsBase } from './messages.js';
import type { ModelPrice, ServerToolPrices } from './prices.js';

/** The request fields of a model call other than `messages`: fixed when the run starts. */
export type ModelRequestBase = Omit<MessageCreateParamsBase, 'messages' | 'stream'>;

/** Activity options of the model call, as durations Temporal understands (e.g. `'30s'`). */
export interface ModelPolicy {
  /** Start-to-close timeout of one attempt (the whole streamed response). */
  timeout: string;
  /**
   * Liveness: the activity heartbeats every second while its worker is alive, so a crashed
   * worker's call is retried elsewhere after this long.
   */
  heartbeatTimeout: string;
  /**
   * A stream with no bytes (events or SSE pings) for this long is stalled: the activity aborts it
   * and the attempt is retried. (Runs recorded before this field existed: {@link DEFAULT_MODEL_POLICY}'s.)
   */
  stallTimeout?: string;
  maximumAttempts: number;
  initialInterval: string;
  maximumInterval: string;
}

/** Activity options of one tool. */
export interface ToolPolicy {
  /** Start-to-close timeout of one attempt. */
  timeout: string;
  /** Heartbeat timeout, for long tools that call `ctx.heartbeat()`. */
  heartbeatTimeout?: string;
  retry: {
    maximumAttempts: number;
    initialInterval: string;
    backoffCoefficient: number;
    maximumInterval: string;
  };
  /**
   * Whether a call waits for a person's approval before it runs: `always`, or `per_call` (the
   * tool decides from the input, in an activity, so the decision is recorded). Absent: never.
   */
  approval?: 'always' | 'per_call';
  /** How long a call waits for a decision before it is denied (default {@link DEFAULT_APPROVAL_TIMEOUT}). */
  approvalTimeout?: string;
  /** Set for a tool listed by an MCP server when the run started: the server and the tool's name there. */
  mcp?: McpToolOrigin;
  /**
   * Set for another agent offered as a tool: a call starts that agent's run as a child workflow
   * (its prompt from the call's `prompt`) and its final text is the result. `timeout` bounds the
   * child's whole run (absent: none — a child may wait for people, like any run).
   */
  agent?: { name: string; timeout?: string };
}

/** How long a tool call waits for a person's decision by default: a day. */
export const DEFAULT_APPROVAL_TIMEOUT = '24h';

/** How long a session waits for its next message by default: a day. */
export const DEFAULT_SESSION_IDLE_TIMEOUT = '24h';

/** Size limits that keep a run within Temporal's payload and history limits and the model's window. */
export interface RunLimits {
  /** Tool results above this many bytes (UTF-8) are truncated, with a note the model can read. */
  toolResultMaxBytes: number;
  /**
   * The conversation sent to the model is kept under this many bytes of JSON: beyond it, the
   * oldest tool results are replaced by a short placeholder (every `tool_use` keeps its result),
   * then the oldest whole turns are dropped. At most {@link MAX_CONVERSATION_BYTES}.
   */
  conversationMaxBytes: number;
  /** Continue-as-new at the next turn boundary once the history is this large (or Temporal suggests it). */
  continueAsNewAtBytes: number;
}

/**
 * The most a run's conversation may hold, in bytes of JSON: the default conversation budget, the
 * ceiling of `limits.conversationMaxBytes`, and the largest prompt a client accepts — one number.
 * Temporal refuses payloads over 2 MB and a model call's input carries the whole conversation, so
 * it stays well under that with room for the model's answer; 1.2 MB of JSON is also more than the
 * largest context window holds (≈ 300 K tokens).
 */
export const MAX_CONVERSATION_BYTES = 1_200_000;

/**
 * Default size limits. Also applied to runs whose recorded configuration predates limits (old
 * histories must replay the same way).
 */
export const DEFAULT_LIMITS: RunLimits = {
  toolResultMaxBytes: 100 * 1024,
  conversationMaxBytes: MAX_CONVERSATION_BYTES,
  continueAsNewAtBytes: 16 * 1024 * 1024,
};

/** Default number of model calls a run may make before it ends with stop reason `max_turns`. */
export const DEFAULT_MAX_TURNS = 100;

/**
 * Default policy of the model call: a generous attempt timeout for long answers; liveness and
 * stall detection apart — a 5 s heartbeat timeout (a crashed worker's call is retried within
 * seconds) and a 30 s silence limit on the stream (a model may think quietly, pinging); retries
 * with backoff (every retry shows in the UI; Temporal owns them, the SDK's own are off).
 */
export const DEFAULT_MODEL_POLICY: Required<ModelPolicy> = {
  timeout: '10m',
  heartbeatTimeout: '5s',
  stallTimeout: '30s',
  maximumAttempts: 10,
  initialInterval: '1s',
  maximumInterval: '60s',
};

/** Default policy of a tool: 60 s per attempt, three attempts, backoff 1 s → 10 s. */
export const DEFAULT_TOOL_POLICY: ToolPolicy = {
  timeout: '60s',
  retry: { maximumAttempts: 3, initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10s' },
};

/**
 * Which of a run's calls are local activities: run by the worker that runs the workflow task,
 * with no round trip through the server, their results recorded (as markers) when that workflow
 * task completes. A turn whose calls are all local costs no server round trip of its own; the
 * price: a worker that dies re-runs every local call since the last completed workflow task, and
 * the UI shows them only then (see the README, "Local activities").
 */
export interface LocalActivityChoice {
  /** Tools run as local activities, except those with a `heartbeatTimeout` (long tools that heartbeat). */
  tools: boolean;
  /** The model call runs as a local activity (no heartbeats: a dead worker is noticed by the workflow task timeout). */
  model: boolean;
}

/** What a run may spend, and what reaching it does. */
export interface RunBudget {
  /** USD over every model call of the run (needs the model's price). */
  maxCostUsd?: number;
  /** Tokens of every kind (input, output, cache writes and reads) over every model call of the run. */
  maxTotalTokens?: number;
  /**
   * `stop` (default): the run ends with stop reason `budget_exceeded` and its transcript so far.
   * `pause`: the run waits (status `awaiting_budget`) for `agent-runner budget <id> --add-usd …`
   * (the `budget` update), and ends as with `stop` after `pauseTimeout`.
   */
  onExceeded?: 'stop' | 'pause';
  /** How long a paused run waits for more budget (default {@link DEFAULT_BUDGET_PAUSE_TIMEOUT}). */
  pauseTimeout?: string;
}

/** How long a run paused at its budget waits for more by default: a day. */
export const DEFAULT_BUDGET_PAUSE_TIMEOUT = '24h';

/** How the runner uses prompt caching for a run (see `activities/cache-control.ts`). */
export interface PromptCaching {
  /** Lifetime of the cache entries the runner writes: `5m` (default) or `1h` (agents that wait for people). */
  ttl: '5m' | '1h';
}

/** The prices a run is billed at, recorded when it starts (see contract/prices.ts). */
export interface RunPricing {
  /** The model's prices; null when the table has none (the run's cost is then null). */
  price: ModelPrice | null;
  serverTools: ServerToolPrices;
  /** When the table was checked against the pricing page. */
  checked: string;
}

/**
 * A run's configuration, resolved once by the `resolveAgent` activity when the run starts.
 * It is recorded in history (readable there) and never changes during the run.
 */
export interface RunConfig {
  agent: string;
  request: ModelRequestBase;
  maxTurns: number;
  model: ModelPolicy;
  /** Per-tool activity options, keyed by tool name (the tools offered in `request.tools`). */
  tools: Record<string, ToolPolicy>;
  limits: RunLimits;
  /** Calls run as local activities (absent: none, as in runs recorded before the choice existed). */
  local?: LocalActivityChoice;
  /**
   * The worker found the run's search attributes registered on the namespace when it resolved
   * the run: a run started without them (by another client) sets them then.
   */
  searchAttributesRegistered?: boolean;
  /** The worker found `AgentCostUsd` registered too: the run keeps it up to date. */
  costSearchAttribute?: boolean;
  /** Prices (absent: a run recorded before the cost ledger existed; it keeps no ledger). */
  pricing?: RunPricing;
  /** The run's budget, if any (the agent's defaults with the caller's overrides). */
  budget?: RunBudget;
  /** Runner-placed prompt-cache breakpoints; absent: off (the agent turned it off, or places its own). */
  promptCaching?: PromptCaching;
  /** The task queue of the model calls (a rate-limited queue of their own); absent: the run's task queue. */
  modelTaskQueue?: string;
  /** Structured output: the run ends when the model calls this tool with input valid against the schema. */
  output?: StructuredOutput;
}

/** A run's structured output, as resolved when it starts (see contract/output-schema.ts). */
export interface StructuredOutput {
  /** The runner's output tool, offered in `request.tools` with `strict: true`. */
  tool: string;
  /** The schema the answer must match: the tool's `input_schema` (normalized for strict mode). */
  schema: Record<string, unknown>;
  /** How many times the model may try (an invalid call, or a turn ended without one, is a try). */
  maxAttempts: number;
}
