/**
 * The run as clients see it: what starts one (`RunInput`), what it returns (`RunResult`, also
 * carried in a failed run's failure details), and what the `state` query reports (`RunState`).
 * JSON-safe shapes only: they travel through Temporal payloads, to clients in any language.
 */
import type { RunConfig } from './config.js';
import type { CostLedger } from './prices.js';
import type { MessageParam, StopReason, ToolChoice, ToolResultBlockParam, ToolUseBlock } from './messages.js';

/** Overrides a caller may give when starting a run; everything else comes from the agent definition. */
export interface RunOverrides {
  model?: string;
  max_tokens?: number;
  tool_choice?: ToolChoice;
  /** Upper bound on model calls for this run (default: the agent's, else `DEFAULT_MAX_TURNS`). */
  maxTurns?: number;
  /** Most this run may spend, in USD (overrides the agent's budget). */
  maxCostUsd?: number;
  /** Most tokens of every kind this run may use (overrides the agent's budget). */
  maxTotalTokens?: number;
}

/** The keys {@link RunOverrides} may have. */
export const OVERRIDE_KEYS = ['model', 'max_tokens', 'tool_choice', 'maxTurns', 'maxCostUsd', 'maxTotalTokens'] as const;

/** Input of the `agentRun` workflow. Exactly one of `prompt` and `messages` is given. */
export interface RunInput {
  /** Name of an agent served by the workers (see `agents/`). */
  agent: string;
  /** The user's first message. */
  prompt?: string;
  /** Or a whole initial conversation, in Messages API shape, starting with a `user` message. */
  messages?: MessageParam[];
  /**
   * Structured output: the run's answer must be JSON valid against this JSON Schema (an object
   * schema, in the subset strict tool use accepts: see contract/output-schema.ts). The model gives
   * it by calling the runner's output tool; the result carries it as `output`. Replaces the
   * agent's own `outputSchema`. Not for sessions.
   */
  outputSchema?: Record<string, unknown>;
  /** How many times the model may try to give a valid output (default the agent's, else 3; at most 10). */
  outputAttempts?: number;
  overrides?: RunOverrides;
  /**
   * A session: after the model ends its turn the run waits for the next user message (the `send`
   * update) instead of completing; it ends after `idleTimeout` without one (default `'24h'`) or
   * on the `end` update. A session may start without a prompt: its first message is then sent.
   */
  session?: { idleTimeout?: string };
  /** Set only by the run itself when it continues as new. */
  carry?: RunCarry;
  /** Set when another run started this one as a tool (an agent offered as a tool): who, and how deep. */
  parent?: ParentRun;
}

/** The run that started a sub-agent's run, through which call, and how deep the nesting is. */
export interface ParentRun {
  workflowId: string;
  agent: string;
  /** The parent's `tool_use` block this run answers. */
  toolUseId: string;
  /** 1 for a child of a top-level run, 2 for a grandchild, …; at most {@link MAX_AGENT_DEPTH}. */
  depth: number;
}

/** How deep agents may call agents as tools: a run at this depth gets `is_error` for its agent tools. */
export const MAX_AGENT_DEPTH = 3;

/** Token usage summed over every model call of a run. */
export interface UsageTotals {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
}

/**
 * A token counter as the API documents it: a non-negative integer. What a misbehaving API or
 * proxy may send instead is coerced — a fraction rounded down, a numeric string parsed, anything
 * else 0 — so a bad counter can never fail a workflow task (an Int search attribute, a sum that
 * turns into string concatenation).
 */
export function tokenCount(v: unknown): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) && n > 0 ? Math.min(Math.floor(n), Number.MAX_SAFE_INTEGER) : 0;
}

/** Zero usage. */
export function emptyUsage(): UsageTotals {
  return { input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
}

/** What a run hands to its next execution when it continues as new. */
export interface RunCarry {
  config: RunConfig;
  messages: MessageParam[];
  turns: number;
  usage: UsageTotals;
  /** 1 for the first execution of a run, 2 after the first continue-as-new, … */
  execution: number;
  /** Tool results replaced by placeholders so far. */
  elided: number;
  /** A session's exchanges so far and the messages it accepted but had not taken yet. */
  session?: { exchanges: number; queued: { text: string; by?: string }[] };
  /** Notes (the `say` update) not yet delivered. */
  notes?: string[];
  /** Turns of the model calls made before the current exchange (sessions count `maxTurns` per exchange). */
  exchangeStartTurns?: number;
  /** A turn whose tool calls were still waiting for approval when the run continued as new. */
  pendingTurn?: PendingTurn;
  /** The run's spend so far, and its budget as raised so far. */
  cost?: CostLedger;
  budget?: BudgetLimits;
  /** Failed attempts at the structured output so far. */
  outputFailures?: number;
}

/** A run's budget limits (the configuration's, plus any raises). */
export interface BudgetLimits {
  maxCostUsd?: number;
  maxTotalTokens?: number;
}

/** A run's budget as the `state` query shows it. */
export interface BudgetState extends BudgetLimits {
  spentUsd: number | null;
  spentTokens: number;
  /** What the next model call may cost (see workflows/budget.ts for the estimate). */
  nextCall?: { usd: number | null; tokens: number };
  /** Why the run is stopped or paused at its budget. */
  shortfall?: string;
}

/** The tool phase of a turn, handed over while some of its calls wait for a person. */
export interface PendingTurn {
  turn: number;
  calls: ToolUseBlock[];
  /** In `calls` order; null for a call still waiting. */
  results: (ToolResultBlockParam | null)[];
  /** When each waiting call began to wait (ms since the epoch): its deadline runs from there. */
  approvals: { toolUseId: string; requestedAt: number }[];
}

/** How a run ended. */
export type RunStatus = 'completed' | 'failed' | 'cancelled';

/** The model's last stop reason, or the runner's own. */
export type RunStopReason =
  StopReason | 'max_turns' | 'cancelled' | 'error' | 'session_idle' | 'session_ended' | 'budget_exceeded' | 'structured_output';

/**
 * The largest result a run returns in one payload, in bytes of JSON: Temporal refuses payloads
 * over 2 MB, and a failed run's failure wraps it with a message. Beyond it the result leaves out
 * what the run's history already holds (see {@link RunResult.omitted}); the client library puts it
 * back, so callers always get the whole result.
 */
export const RESULT_MAX_BYTES = 1_500_000;

/** The result of a run; also carried in the failure details of a failed run. */
export interface RunResult {
  workflowId: string;
  agent: string;
  status: RunStatus;
  stopReason: RunStopReason | null;
  /** Text of the last assistant message. */
  finalText: string;
  /**
   * The structured output (runs with an output schema): the input of the model's accepted call
   * of the output tool, valid against the schema. Present on every completed run that asked for
   * one (stop reason `structured_output`); a run that could not get one fails.
   */
  output?: Record<string, unknown>;
  /** Model calls made. */
  turns: number;
  usage: UsageTotals;
  /** The whole conversation, in Messages API shape. */
  messages: MessageParam[];
  /** One line saying what went wrong, when `status` is `failed` (or why it was cancelled). */
  error?: string;
  /** Temporal executions the run took (continue-as-new starts a new one); 1 for most runs. */
  executions?: number;
  /** Old tool results replaced by placeholders to fit the context window. */
  elidedToolResults?: number;
  /**
   * What the run cost: USD (null when a model had no price) and tokens by kind, per model,
   * failed attempts the API billed included. Absent for runs started before the ledger existed.
   */
  cost?: CostLedger;
  /** Why the run stopped where it did, when the reason needs more than `stopReason` (e.g. the budget). */
  stopDetail?: string;
  /**
   * Set only when the whole result would not fit in one payload ({@link RESULT_MAX_BYTES}): what
   * was left out, to be restored from history. `finalText`: it is the final text of `messages`.
   * `messagesBefore: k`: `messages` holds only the messages from index k on; the first k are the
   * input messages of the run's last completed model call followed by its reply (both recorded in
   * the history of the run's last execution). `AgentRunner`'s `result()` restores both.
   */
  omitted?: { finalText?: true; messagesBefore?: number };
}

/**
 * The text of the last assistant message: its text blocks, concatenated as written. The API's
 * text blocks are contiguous prose (a cited answer is split into blocks mid-sentence), so they
 * are joined with nothing in between.
 */
export function finalTextOf(messages: readonly MessageParam[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (m?.role !== 'assistant') continue;
    if (typeof m.content === 'string') return m.content;
    return m.content
      .flatMap((b) => (b.type === 'text' ? [b.text] : []))
      .join('')
      .trim();
  }
  return '';
}

/** What a run is doing right now. */
export type RunPhase =
  'starting' | 'calling_model' | 'running_tools' | 'awaiting_approval' | 'awaiting_message' | 'awaiting_budget' | 'done';

/** A tool call waiting for a person's decision. */
export interface PendingApproval {
  toolUseId: string;
  tool: string;
  input: unknown;
  /** What a decision must quote: `inputHash(input)` of contract/hash.ts. */
  inputHash: string;
  /** ISO times: when the call started waiting, and when it is denied for want of a decision. */
  requestedAt: string;
  deadline: string;
}

/** A tool call of the current turn that has not finished. */
export interface PendingToolCall {
  id: string;
  name: string;
  input: unknown;
}

/** The live state of a run, as the `state` query returns it. */
export interface RunState {
  agent: string;
  status: 'running' | RunStatus;
  phase: RunPhase;
  /** Model calls started so far (the one in flight included). */
  turn: number;
  /** Tool calls of the current turn that have not finished. */
  pendingTools: PendingToolCall[];
  usage: UsageTotals;
  stopReason: RunStopReason | null;
  lastAssistantText: string;
  /** Why the run was asked to stop, once it was. */
  cancelReason?: string;
  /** Which Temporal execution of the run this is (1, then 2 after a continue-as-new, …). */
  execution: number;
  /** Tool calls waiting for a person's decision (the `decide` update). */
  pendingApprovals: PendingApproval[];
  /** Notes (the `say` update) waiting for the next model call. */
  queuedNotes: number;
  /** For a session: exchanges completed, messages queued, and when it ends if nothing comes. */
  session?: { exchanges: number; queuedMessages: number; idleDeadline?: string };
  /** The run's spend so far (runs that keep a ledger). */
  cost?: CostLedger;
  /** The run's budget, when it has one. */
  budget?: BudgetState;
  /** Set for a sub-agent's run: the run that called it as a tool. */
  parent?: ParentRun;
}
