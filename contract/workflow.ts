/**
 * The `agentRun` workflow's public surface: its type name, signals, queries and updates. Defined
 * once here and used by the workflow, the client library, the CLI and any other client.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { RunState, RunStopReason, UsageTotals } from './run.js';

/** Name of the workflow type, as registered with Temporal. */
export const AGENT_WORKFLOW_TYPE = 'agentRun';

/** Argument of the `cancel` signal. Anything else (a number, `{}`, nothing) counts as no reason. */
export interface CancelArgs {
  reason?: string;
}

/** Ask a run to stop: the in-flight model call is aborted, in-flight tools get their AbortSignal. */
export const cancelSignal = defineSignal<[CancelArgs?]>('cancel');

/** The live state of a run. */
export const stateQuery = defineQuery<RunState>('state');

/**
 * A person's decision on one tool call awaiting approval. Bound to the exact call: its
 * `tool_use_id` and the hash of the input the person saw (`inputHash` of contract/hash.ts, as
 * the `state` query's `pendingApprovals` shows it).
 */
export interface DecideArgs {
  toolUseId: string;
  decision: 'approve' | 'deny';
  inputHash: string;
  /** Why; a denial's reason is what the model reads. */
  reason?: string;
  /** Who decided (shown by `watch`). */
  by?: string;
}

/** What a decision did. */
export interface DecideResult {
  toolUseId: string;
  tool: string;
  decision: 'approve' | 'deny';
  /** How long the call had waited for it. */
  waitedMs: number;
}

/** Approve or deny a tool call. The validator refuses an unknown id, a call already decided and a stale input hash. */
export const decideUpdate = defineUpdate<DecideResult, [DecideArgs]>('decide');

/** A user message for a session (a run started with `session`). */
export interface SendArgs {
  text: string;
  by?: string;
}

/** One exchange of a session: the reply to a message, once the model has ended its turn. */
export interface SendResult {
  /** 1 for the session's first message. */
  exchange: number;
  reply: string;
  stopReason: RunStopReason | null;
  /** Model calls and tokens of this exchange alone. */
  turns: number;
  usage: UsageTotals;
}

/** Send a session its next message; completes with that exchange's reply. Messages sent while the agent works queue in order. */
export const sendUpdate = defineUpdate<SendResult, [SendArgs]>('send');

/** Argument of the `end` update. */
export interface EndArgs {
  /** Who ended the session (shown by `watch`). */
  by?: string;
}

/** What `end` answers. */
export interface EndResult {
  ended: true;
}

/** End a session now: it completes with its transcript. */
export const endUpdate = defineUpdate<EndResult, [EndArgs]>('end');

/** A note for a working run: delivered with its next model call, recorded in the transcript. */
export interface SayArgs {
  text: string;
  by?: string;
}

/** What `say` answers. */
export interface SayResult {
  /** How many notes (this one included) wait for the next model call. */
  queued: number;
}

/** Steer a working run (a one-shot run or a session). Returns how many notes wait for the next model call. */
export const sayUpdate = defineUpdate<SayResult, [SayArgs]>('say');

/** More budget for a run (the `budget` update): dollars and/or tokens added to its limits. */
export interface BudgetArgs {
  addUsd?: number;
  addTokens?: number;
  /** Who raised it (shown by `watch`). */
  by?: string;
}

/** The run's budget after a raise, and what it has spent. */
export interface BudgetResult {
  maxCostUsd?: number;
  maxTotalTokens?: number;
  spentUsd: number | null;
  spentTokens: number;
}

/** Raise a run's budget; a run paused at its budget goes on if the next call now fits. */
export const budgetUpdate = defineUpdate<BudgetResult, [BudgetArgs]>('budget');
