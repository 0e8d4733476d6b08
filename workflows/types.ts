/**
 * Pure, JSON-safe types shared by the workflow, the activities and the client.
 *
 * Wire shapes are the Messages API's own (imported as types from the Anthropic SDK, which
 * erases at compile time, so nothing from the SDK enters the workflow sandbox).
 */
import type {
  Message,
  MessageCreateParamsBase,
  MessageParam,
  StopReason,
  ToolChoice,
  ToolResultBlockParam,
  ToolUseBlock,
} from '@anthropic-ai/sdk/resources/messages';

export type { Message, MessageParam, StopReason, ToolChoice, ToolResultBlockParam, ToolUseBlock };

/** Name of the workflow type, as registered with Temporal. */
export const AGENT_WORKFLOW_TYPE = 'agentRun';

/** Default number of model calls a run may make before it ends with stop reason `max_turns`. */
export const DEFAULT_MAX_TURNS = 100;

/** Overrides a caller may give when starting a run; everything else comes from the agent definition. */
export interface RunOverrides {
  model?: string;
  max_tokens?: number;
  tool_choice?: ToolChoice;
  /** Upper bound on model calls for this run (default: the agent's, else {@link DEFAULT_MAX_TURNS}). */
  maxTurns?: number;
}

/** Input of the `agentRun` workflow. Exactly one of `prompt` and `messages` is given. */
export interface RunInput {
  /** Name of an agent served by the workers (see `agents/`). */
  agent: string;
  /** The user's first message. */
  prompt?: string;
  /** Or a whole initial conversation, in Messages API shape, starting with a `user` message. */
  messages?: MessageParam[];
  overrides?: RunOverrides;
  /** Set only by the run itself when it continues as new. */
  carry?: RunCarry;
}

/** Activity options for one tool, as durations Temporal understands (e.g. `'30s'`). */
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
}

/** Activity options for the model call. */
export interface ModelPolicy {
  /** Start-to-close timeout of one attempt (the whole streamed response). */
  timeout: string;
  /** A stream silent for this long is considered stalled and the attempt is retried. */
  heartbeatTimeout: string;
  maximumAttempts: number;
  initialInterval: string;
  maximumInterval: string;
}

/** The request fields of a model call other than `messages`: fixed when the run starts. */
export type ModelRequestBase = Omit<MessageCreateParamsBase, 'messages' | 'stream'>;

/** Size limits that keep a run within Temporal's payload and history limits and the model's window. */
export interface RunLimits {
  /** Tool results above this many bytes are truncated, with a note the model can read. */
  toolResultMaxBytes: number;
  /**
   * The conversation sent to the model is kept under this many bytes of JSON: beyond it, the
   * oldest tool results are replaced by a short placeholder (every `tool_use` keeps its result).
   * Bounded by Temporal's 2 MB payload limit and by the model's context window.
   */
  conversationMaxBytes: number;
  /** Continue-as-new at the next turn boundary once the history is this large (or Temporal suggests it). */
  continueAsNewAtBytes: number;
}

/**
 * Default size limits. Temporal refuses payloads over 2 MB and terminates histories at 50 MB; a
 * model call's input carries the conversation, so it is kept well under the payload limit, and
 * the history is cut by continue-as-new long before its limit. Also applied to runs whose
 * recorded configuration predates limits (old histories must replay the same way).
 */
export const DEFAULT_LIMITS: RunLimits = {
  toolResultMaxBytes: 100 * 1024,
  conversationMaxBytes: 1_200_000,
  continueAsNewAtBytes: 16 * 1024 * 1024,
};

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
}

/** Input of the model activity. */
export interface ModelCallInput {
  request: ModelRequestBase & { messages: MessageParam[] };
  /** 1-based number of this model call in the run. */
  turn: number;
}

/** Input of the tool activity. */
export interface ToolCallInput {
  agent: string;
  toolUse: { id: string; name: string; input: unknown };
  /** Stable across retries, worker crashes and continue-as-new: `${workflowId}/${toolUseId}`. */
  idempotencyKey: string;
  turn: number;
  /** Results above this size are truncated (see {@link RunLimits}). */
  maxResultBytes?: number;
}

/** Token usage summed over every model call of a run. */
export interface UsageTotals {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
}

/** How a run ended. */
export type RunStatus = 'completed' | 'failed' | 'cancelled';

/** The model's last stop reason, or the runner's own. */
export type RunStopReason = StopReason | 'max_turns' | 'cancelled' | 'error';

/** The result of a run; also carried in the failure details of a failed run. */
export interface RunResult {
  workflowId: string;
  agent: string;
  status: RunStatus;
  stopReason: RunStopReason | null;
  /** Text of the last assistant message. */
  finalText: string;
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
}

/** What a run is doing right now. */
export type RunPhase = 'starting' | 'calling_model' | 'running_tools' | 'done';

/** The live state of a run, as the `state` query returns it. */
export interface RunState {
  agent: string;
  status: 'running' | RunStatus;
  phase: RunPhase;
  /** Model calls started so far (the one in flight included). */
  turn: number;
  /** Tool calls of the current turn that have not finished. */
  pendingTools: { id: string; name: string; input: unknown }[];
  usage: UsageTotals;
  stopReason: RunStopReason | null;
  lastAssistantText: string;
  /** Why the run was asked to stop, once it was. */
  cancelReason?: string;
  /** Which Temporal execution of the run this is (1, then 2 after a continue-as-new, …). */
  execution: number;
}

/** Failure `type` of a run that failed: its details hold the partial {@link RunResult}. */
export const RUN_FAILED_TYPE = 'AgentRunFailed';

/** Failure types raised by activities (one table: `activities/model-errors.ts`). */
export const FailureTypes = {
  invalidInput: 'InvalidRunInput',
  unknownAgent: 'UnknownAgent',
  modelFatal: 'ModelRequestRejected',
  modelRetryable: 'ModelTemporarilyUnavailable',
  modelConfig: 'ModelNotConfigured',
} as const;

/** Zero usage. */
export function emptyUsage(): UsageTotals {
  return { input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
}
