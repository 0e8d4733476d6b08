/**
 * One run's state inside the workflow: the conversation, counters and phase; how the run shows
 * itself (the `state` query, the UI's current details, the search attributes); how it is asked to
 * stop (the `cancel` signal); and how it ends (completed, cancelled, failed).
 *
 * Determinism: the handlers only change fields; commands (search-attribute upserts) are issued at
 * the same points of the loop as in every recorded history.
 */
import {
  allHandlersFinished,
  CancellationScope,
  condition,
  metricMeter,
  patched,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { DEFAULT_APPROVAL_TIMEOUT, type RunConfig } from '../contract/config.js';
import { oneLine, runFailure } from '../contract/failures.js';
import type { MessageParam, ToolUseBlock } from '../contract/messages.js';
import {
  emptyUsage,
  finalTextOf,
  RESULT_MAX_BYTES,
  type PendingToolCall,
  type RunInput,
  type RunPhase,
  type RunResult,
  type RunState,
  type ParentRun,
  type RunStatus,
  type RunStopReason,
  type UsageTotals,
} from '../contract/run.js';
import { jsonBytes } from '../contract/run-input.js';
import { AgentCostUsd, AgentName, AgentStatus, AgentTokens, AgentTurns } from '../contract/search-attributes.js';
import { cancelSignal, stateQuery } from '../contract/workflow.js';
import { Approvals } from './approvals.js';
import { Spend } from './budget.js';
import { Notes, Session } from './session.js';

/** Reasons and failure lines are kept to this many characters: they come from outside. */
const MAX_REASON_CHARS = 2000;
/** The `state` query's last assistant text is a preview: at most this many characters. */
const MAX_PREVIEW_CHARS = 4000;
/**
 * A running run refreshes its turn and token counts in the search attributes at most this often
 * (workflow time); status changes are upserted at once. Each upsert is a command, a history event
 * and a visibility write.
 */
export const SEARCH_ATTRIBUTES_REFRESH_MS = 10_000;

/** The state of one run (one execution of its continue-as-new chain), with its handlers. */
export class AgentRun {
  readonly workflowId = workflowInfo().workflowId;
  /** Set for a sub-agent's run: the run that called it as a tool. */
  readonly parent: ParentRun | undefined;
  readonly agent: string;
  messages: MessageParam[];
  /** Model calls made, over the whole chain. */
  turns: number;
  /** Turns made before this execution started (a continue-as-new needs at least one more). */
  readonly turnsAtStart: number;
  usage: UsageTotals;
  stopReason: RunStopReason | null = null;
  phase: RunPhase = 'starting';
  /** Tool calls of the current turn that have not finished, by `tool_use` id. */
  readonly pendingTools = new Map<string, PendingToolCall>();
  cancelReason: string | undefined;
  readonly execution: number;
  /** Tool results elided (and turns dropped) by the context policy so far. */
  elided: number;
  /** The loop runs in this scope; cancelling it cancels the model call and the tools in flight. */
  readonly scope = new CancellationScope();
  /** Tool calls waiting for a person's decision. */
  readonly approvals: Approvals;
  /** Notes for the next model call. */
  readonly notes: Notes;
  /** Set for a session: its messages and exchanges. */
  readonly session: Session | undefined;
  /** The run's ledger and budget. */
  readonly spend: Spend;
  /** The run's configuration, once resolved. */
  config: RunConfig | undefined;
  /** Turns made before the current exchange: a session's `maxTurns` counts per exchange. */
  exchangeStartTurns: number;
  /** When a waiting session ends if no message comes (ISO). */
  idleDeadline: string | undefined;
  /** The structured output, once the model gave a valid one; failed attempts at it so far. */
  output: Record<string, unknown> | undefined;
  outputFailures: number;
  /**
   * How many leading messages are exactly the last completed model call's input plus its reply
   * (both in this execution's history), or 0. A result too large for one payload leaves them out.
   */
  prefixInHistory = 0;

  /** Search attributes are upserted only for runs started with them, or once the worker says they are registered (see `publish`). */
  private searchable: boolean;
  /** The worker found `AgentCostUsd` registered when it resolved the run. */
  private costAttribute = false;
  private readonly upsertOnChange: boolean;
  private readonly upsertThrottled: boolean;
  private published = '';
  private publishedStatus = '';
  private publishedAt = 0;

  constructor(input: RunInput) {
    const carry = input?.carry;
    this.agent = typeof input?.agent === 'string' ? input.agent : '';
    this.messages = carry?.messages ?? (input?.messages ? [...input.messages] : [{ role: 'user', content: input?.prompt ?? '' }]);
    this.turns = this.turnsAtStart = carry?.turns ?? 0;
    this.usage = carry?.usage ?? emptyUsage();
    this.execution = carry?.execution ?? 1;
    this.elided = carry?.elided ?? 0;
    this.exchangeStartTurns = carry?.exchangeStartTurns ?? 0;
    this.parent = input?.parent;
    this.outputFailures = carry?.outputFailures ?? 0;
    if (input?.session && !carry && input.prompt === undefined && input.messages === undefined) this.messages = [];
    // Runs started without the search attributes (i.e. not by our client) are not upserted, so an
    // unregistered attribute can never fail a workflow task and leave the run stuck.
    this.searchable = workflowInfo().typedSearchAttributes.get(AgentName) !== undefined;
    // Versioned: runs started before this change upserted at every phase; new runs upsert only
    // when a value changes (once per turn), which saves a server transaction per turn.
    this.upsertOnChange = patched('search-attributes-on-change');
    const done = () => this.phase === 'done';
    this.approvals = new Approvals(() => this.refreshPhase(), carriedApprovals(carry));
    this.notes = new Notes(carry?.notes, done);
    this.session = input?.session ? new Session(carry?.session, done) : undefined;
    this.spend = new Spend(carry, done);
    // Versioned too: newer runs start from the values the client set at start (or the previous
    // execution left) and, while running, refresh turns and tokens at most every
    // SEARCH_ATTRIBUTES_REFRESH_MS; a status change is upserted at once.
    this.upsertThrottled = patched('search-attributes-throttled');
    if (this.upsertThrottled && this.searchable) {
      const sa = workflowInfo().typedSearchAttributes;
      this.publishedStatus = sa.get(AgentStatus) ?? '';
      this.published = `${this.publishedStatus}/${sa.get(AgentTurns) ?? ''}/${sa.get(AgentTokens) ?? ''}`;
      this.publishedAt = Date.now();
    }
    setHandler(stateQuery, () => this.snapshot());
    setHandler(cancelSignal, (arg: unknown) => {
      if (this.phase === 'done' || this.cancelReason !== undefined) return;
      // Anyone can send this signal with any argument (the UI's "Send signal" included): a reason
      // that is not a string counts as none.
      const reason = typeof arg === 'object' && arg !== null ? (arg as { reason?: unknown }).reason : undefined;
      this.cancelReason = (typeof reason === 'string' && clip(reason.trim(), MAX_REASON_CHARS)) || 'cancelled by signal';
      this.scope.cancel();
    });
  }

  /** The run's configuration is known: its ledger, budget and search attributes start. */
  configure(config: RunConfig): void {
    this.config = config;
    this.spend.start(config);
    if (config.searchAttributesRegistered) this.enableSearchAttributes();
    this.costAttribute = config.costSearchAttribute === true;
  }

  /**
   * The worker found the search attributes registered: a run started without them (by another
   * client) sets them now, so `list`, filters and `cancel` treat it like any other.
   */
  enableSearchAttributes(): void {
    if (this.searchable) return;
    this.searchable = true;
    upsertSearchAttributes([{ key: AgentName, value: this.agent }]);
  }

  /** Whether the run was asked to stop (the `cancel` signal, or Temporal's own cancel). */
  get cancelled(): boolean {
    return this.cancelReason !== undefined || this.scope.consideredCancelled;
  }

  /** While tools run, the phase says whether some wait for a person. */
  refreshPhase(): void {
    if (this.phase !== 'running_tools' && this.phase !== 'awaiting_approval') return;
    const phase = this.approvals.size > 0 ? 'awaiting_approval' : 'running_tools';
    if (phase === this.phase) return;
    this.phase = phase;
    this.publish('running');
  }

  /** Whether the history is big enough to hand the run to a fresh execution. */
  handoffDue(config: RunConfig): boolean {
    const info = workflowInfo();
    return info.continueAsNewSuggested || info.historySize >= config.limits.continueAsNewAtBytes;
  }

  /** Let every update handler answer before the run closes (a session's waiting `send`s get the last state). */
  async settleHandlers(): Promise<void> {
    this.session?.closeAll(this.messages, this.stopReason);
    // Not cancellable: after Temporal's own cancel the root scope is cancelled, and a cancelled
    // run still completes with its transcript once its handlers are done.
    await CancellationScope.nonCancellable(() => condition(allHandlersFinished));
  }

  /** Show the run's progress: the UI's current details always, the search attributes when they changed. */
  publish(status: 'running' | RunStatus): void {
    const tokens = this.usage.input_tokens + this.usage.output_tokens;
    const waitingFor = this.approvals.pending().map((p) => `${p.tool} (${p.toolUseId})`);
    const doing =
      this.phase === 'calling_model'
        ? 'calling the model'
        : this.phase === 'running_tools'
          ? `running ${this.pendingTools.size} tool(s)`
          : this.phase === 'awaiting_approval'
            ? `awaiting approval: ${waitingFor.join(', ')}`
            : this.phase === 'awaiting_message'
              ? 'awaiting the next message'
              : status;
    setCurrentDetails(`turn ${this.turns} · ${doing} · ${tokens} tokens`);
    // A run waiting for a person is findable as such (`list --status awaiting_approval`, UI filters).
    const waiting = this.phase === 'awaiting_approval' || this.phase === 'awaiting_message' || this.phase === 'awaiting_budget';
    const shown = status === 'running' && waiting ? this.phase : status;
    const usd = this.costAttribute ? this.spend.ledger?.usd : undefined;
    const values = `${shown}/${this.turns}/${tokens}/${usd ?? ''}`;
    if (!this.searchable || (this.upsertOnChange && values === this.published)) return;
    if (this.upsertThrottled && shown === this.publishedStatus && Date.now() - this.publishedAt < SEARCH_ATTRIBUTES_REFRESH_MS) return;
    this.published = values;
    this.publishedStatus = shown;
    this.publishedAt = Date.now();
    upsertSearchAttributes([
      { key: AgentStatus, value: shown },
      { key: AgentTurns, value: this.turns },
      { key: AgentTokens, value: tokens },
      // Only where the worker found it registered: an unknown attribute would fail the workflow task.
      ...(usd !== undefined && usd !== null ? [{ key: AgentCostUsd, value: Math.round(usd * 1e6) / 1e6 }] : []),
    ]);
  }

  /** The `state` query's answer. */
  snapshot(): RunState {
    return {
      agent: this.agent,
      status: this.phase === 'done' ? (this.cancelReason ? 'cancelled' : this.stopReason === 'error' ? 'failed' : 'completed') : 'running',
      phase: this.phase,
      turn: this.turns + (this.phase === 'calling_model' ? 1 : 0),
      pendingTools: [...this.pendingTools.values()],
      usage: this.usage,
      stopReason: this.stopReason,
      lastAssistantText: clip(finalTextOf(this.messages), MAX_PREVIEW_CHARS),
      ...(this.cancelReason !== undefined && { cancelReason: this.cancelReason }),
      execution: this.execution,
      pendingApprovals: this.approvals.pending(),
      queuedNotes: this.notes.queued.length,
      ...(this.session && {
        session: {
          exchanges: this.session.exchanges,
          queuedMessages: this.session.queue.length,
          ...(this.idleDeadline && this.phase === 'awaiting_message' && { idleDeadline: this.idleDeadline }),
        },
      }),
      ...(this.spend.ledger && { cost: this.spend.ledger }),
      ...(this.spend.limits && { budget: this.spend.state(this, this.config) }),
      ...(this.parent && { parent: this.parent }),
    };
  }

  /** End the run with this status: the result it returns, within one payload. */
  finish(status: RunStatus, error?: string): RunResult {
    this.phase = 'done';
    this.pendingTools.clear();
    this.publish(status);
    metricMeter.createCounter('agent_runner_runs', 'runs', 'Runs ended, by final status').add(1, { agent: this.agent, status });
    return compactResult(
      {
        workflowId: this.workflowId,
        agent: this.agent,
        status,
        stopReason: this.stopReason,
        finalText: finalTextOf(this.messages),
        ...(this.output !== undefined && { output: this.output }),
        turns: this.turns,
        usage: this.usage,
        messages: this.messages,
        executions: this.execution,
        elidedToolResults: this.elided,
        ...(this.spend.ledger && { cost: this.spend.ledger }),
        ...(this.stopReason === 'budget_exceeded' && this.spend.stopDetail && { stopDetail: this.spend.stopDetail }),
        ...(error !== undefined && { error }),
      },
      this.prefixInHistory,
    );
  }

  /** End a cancelled run: it completes, with status `cancelled` and the reason. */
  finishCancelled(): RunResult {
    this.cancelReason ??= 'cancelled via Temporal';
    this.stopReason = 'cancelled';
    return this.finish('cancelled', this.cancelReason);
  }

  /** Fail the run: it fails in Temporal too (red in the UI), its partial result in the details. */
  fail(message: string, type?: string): never {
    this.stopReason = 'error';
    const line = oneLine(message, MAX_REASON_CHARS);
    throw runFailure(line, this.finish('failed', line), type);
  }
}

/** The calls a handed-over turn left waiting, with their timeouts from the run's config. */
function carriedApprovals(carry: RunInput['carry']): { call: ToolUseBlock; requestedAt: number; timeout: string }[] {
  const turn = carry?.pendingTurn;
  if (!turn) return [];
  return turn.approvals.flatMap((a) => {
    const call = turn.calls.find((c) => c.id === a.toolUseId);
    const policy = call && Object.hasOwn(carry.config.tools, call.name) ? carry.config.tools[call.name] : undefined;
    return call ? [{ call, requestedAt: a.requestedAt, timeout: policy?.approvalTimeout ?? DEFAULT_APPROVAL_TIMEOUT }] : [];
  });
}

/**
 * A result that fits one payload: first without `finalText` (it repeats the last message), then
 * without the messages the history already holds. The client library restores both.
 */
function compactResult(result: RunResult, prefixInHistory: number): RunResult {
  if (jsonBytes(result) <= RESULT_MAX_BYTES) return result;
  const withoutText: RunResult = { ...result, finalText: '', omitted: { finalText: true } };
  if (jsonBytes(withoutText) <= RESULT_MAX_BYTES || prefixInHistory === 0) return withoutText;
  return {
    ...withoutText,
    messages: result.messages.slice(prefixInHistory),
    omitted: { finalText: true, messagesBefore: prefixInHistory },
  };
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
