/**
 * The durable agent loop: call the model, run the tools it asks for, send the results back,
 * repeat until the model stops for another reason.
 *
 * Determinism: everything that touches the outside world (the agent registry, the Messages API,
 * tool handlers) happens in activities; this file only orders them. The run's configuration is
 * resolved by one activity at the start and recorded in history, so a replay or a deploy that
 * changes an agent's definition does not change a run already under way.
 *
 * Cancellation (the `cancel` signal, or Temporal's own cancel): the loop's scope is cancelled,
 * so the in-flight model call and tools are cancelled and no new one starts. Activities use
 * TRY_CANCEL: the run closes at once, and each activity learns of it on its next heartbeat (its
 * AbortSignal fires; the model call's HTTP stream is aborted). A cancelled run *completes* with
 * status `cancelled` and a transcript in which every `tool_use` has its `tool_result`.
 */
import {
  ActivityCancellationType,
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  condition,
  continueAsNew,
  ContinueAsNew,
  isCancellation,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { AgentActivities } from '../activities/index.js';
import { fitConversation } from './context-policy.js';
import { cancelSignal, stateQuery } from './definitions.js';
import { runInputProblem } from './run-input.js';
import { AgentName, AgentStatus, AgentTokens, AgentTurns } from './search-attributes.js';
import { addUsage, failureLine, lastAssistantText, toolSummary, toolUses } from './transcript.js';
import {
  DEFAULT_LIMITS,
  emptyUsage,
  FailureTypes,
  RUN_FAILED_TYPE,
  type MessageParam,
  type RunCarry,
  type RunConfig,
  type RunInput,
  type RunPhase,
  type RunResult,
  type RunState,
  type RunStatus,
  type RunStopReason,
  type ToolResultBlockParam,
  type ToolUseBlock,
  type UsageTotals,
} from './types.js';

const { resolveAgent } = proxyActivities<AgentActivities>({
  startToCloseTimeout: '30s',
  retry: { maximumAttempts: 5, maximumInterval: '10s', nonRetryableErrorTypes: [FailureTypes.unknownAgent, FailureTypes.invalidInput] },
  summary: 'resolve agent',
});
// Timeouts and retry policies are per call (executeWithOptions), from the run's config.
const { callModel, runTool } = proxyActivities<AgentActivities>({
  startToCloseTimeout: '10m',
  cancellationType: ActivityCancellationType.TRY_CANCEL,
});

/** The mutable state of one run. */
interface LoopState {
  messages: MessageParam[];
  turns: number;
  usage: UsageTotals;
  stopReason: RunStopReason | null;
  phase: RunPhase;
  pendingTools: Map<string, { id: string; name: string; input: unknown }>;
  cancelReason: string | undefined;
  execution: number;
  elided: number;
}

/** Workflow `agentRun`: one agent run from prompt to final answer. */
export async function agentRun(input: RunInput): Promise<RunResult> {
  const { workflowId } = workflowInfo();
  const agent = typeof input?.agent === 'string' ? input.agent : '';
  const carry = input?.carry;
  const s: LoopState = {
    messages: carry?.messages ?? (input?.messages ? [...input.messages] : [{ role: 'user', content: input?.prompt ?? '' }]),
    turns: carry?.turns ?? 0,
    usage: carry?.usage ?? emptyUsage(),
    stopReason: null,
    phase: 'starting',
    pendingTools: new Map(),
    cancelReason: undefined,
    execution: carry?.execution ?? 1,
    elided: carry?.elided ?? 0,
  };
  // Runs started without the search attributes (i.e. not by our client) are not upserted, so an
  // unregistered attribute can never fail a workflow task and leave the run stuck.
  const searchable = workflowInfo().typedSearchAttributes.get(AgentName) !== undefined;
  // Versioned: runs started before this change upserted at every phase; new runs upsert only
  // when a value changes (once per turn), which saves a server transaction per turn.
  const upsertOnChange = patched('search-attributes-on-change');
  let published = '';
  const publish = (status: 'running' | RunStatus) => {
    const tokens = s.usage.input_tokens + s.usage.output_tokens;
    const doing = s.phase === 'calling_model' ? 'calling the model' : s.phase === 'running_tools' ? `running ${s.pendingTools.size} tool(s)` : status;
    setCurrentDetails(`turn ${s.turns} · ${doing} · ${tokens} tokens`);
    const values = `${status}/${s.turns}/${tokens}`;
    if (searchable && !(upsertOnChange && values === published)) {
      published = values;
      upsertSearchAttributes([
        { key: AgentStatus, value: status },
        { key: AgentTurns, value: s.turns },
        { key: AgentTokens, value: tokens },
      ]);
    }
  };
  const result = (status: RunStatus, error?: string): RunResult => ({
    workflowId,
    agent,
    status,
    stopReason: s.stopReason,
    finalText: lastAssistantText(s.messages),
    turns: s.turns,
    usage: s.usage,
    messages: s.messages,
    executions: s.execution,
    elidedToolResults: s.elided,
    ...(error !== undefined && { error }),
  });
  const finish = (status: RunStatus, error?: string): RunResult => {
    s.phase = 'done';
    s.pendingTools.clear();
    publish(status);
    return result(status, error);
  };
  // A failed run fails in Temporal too (red in the UI), with its partial result in the details.
  const fail = (message: string, type: string = RUN_FAILED_TYPE): never => {
    s.stopReason = 'error';
    throw ApplicationFailure.create({ type, message, nonRetryable: true, details: [finish('failed', message)] });
  };

  const loop = new CancellationScope();
  setHandler(stateQuery, (): RunState => ({
    agent,
    status: s.phase === 'done' ? (s.cancelReason ? 'cancelled' : s.stopReason === 'error' ? 'failed' : 'completed') : 'running',
    phase: s.phase,
    turn: s.turns + (s.phase === 'calling_model' ? 1 : 0),
    pendingTools: [...s.pendingTools.values()],
    usage: s.usage,
    stopReason: s.stopReason,
    lastAssistantText: lastAssistantText(s.messages),
    ...(s.cancelReason !== undefined && { cancelReason: s.cancelReason }),
    execution: s.execution,
  }));
  setHandler(cancelSignal, (arg) => {
    if (s.phase === 'done' || s.cancelReason !== undefined) return;
    s.cancelReason = arg?.reason?.trim() || 'cancelled by signal';
    loop.cancel();
  });
  const cancelled = () => s.cancelReason !== undefined || loop.consideredCancelled;

  const problem = carry ? null : runInputProblem(input);
  if (problem) return fail(`invalid run input: ${problem}`, FailureTypes.invalidInput);
  publish('running');

  try {
    await loop.run(async () => {
      let config: RunConfig;
      if (carry) config = carry.config; // fixed when the run started, carried across executions
      else {
        try {
          config = await resolveAgent({ agent, ...(input.overrides && { overrides: input.overrides }) });
        } catch (e) {
          if (isCancellation(e)) throw e;
          return fail(failureLine(e));
        }
      }
      // Configurations recorded before limits existed get the defaults, so old runs replay as they ran.
      config = { ...config, limits: { ...DEFAULT_LIMITS, ...config.limits } };
      const firstTurn = s.turns;
      while (!cancelled()) {
        if (s.turns >= config.maxTurns) {
          s.stopReason = 'max_turns';
          break;
        }
        // The context-window policy, checked before the call is scheduled: the request (and any
        // continue-as-new input) always stays under the payload limit.
        const fit = fitConversation(s.messages, config.limits.conversationMaxBytes);
        if (!fit.fits) {
          return fail(
            `the conversation exceeds ${config.limits.conversationMaxBytes} bytes even with every older tool result removed: ` +
              'raise limits.conversationMaxBytes (max 1.9 MB) or shorten the prompt',
          );
        }
        s.messages = fit.messages;
        s.elided += fit.elided;
        // A turn boundary: hand the run to a fresh execution before the history grows too big.
        const info = workflowInfo();
        if (s.turns > firstTurn && (info.continueAsNewSuggested || info.historySize >= config.limits.continueAsNewAtBytes)) {
          await condition(allHandlersFinished);
          const next: RunCarry = { config, messages: s.messages, turns: s.turns, usage: s.usage, execution: s.execution + 1, elided: s.elided };
          return await continueAsNew<typeof agentRun>({ agent, carry: next });
        }
        const turn = s.turns + 1;
        s.phase = 'calling_model';
        publish('running');
        const { message } = await callModel.executeWithOptions(
          {
            summary: `${config.request.model} · turn ${turn}`,
            startToCloseTimeout: config.model.timeout,
            heartbeatTimeout: config.model.heartbeatTimeout,
            retry: {
              maximumAttempts: config.model.maximumAttempts,
              initialInterval: config.model.initialInterval,
              maximumInterval: config.model.maximumInterval,
              nonRetryableErrorTypes: [FailureTypes.modelFatal, FailureTypes.modelConfig],
            },
          },
          [{ request: { ...config.request, messages: s.messages }, turn }],
        );
        s.turns = turn;
        s.usage = addUsage(s.usage, message.usage);
        s.stopReason = message.stop_reason;
        // Verbatim, thinking and redacted_thinking blocks (with signatures) included.
        s.messages.push({ role: 'assistant', content: message.content });

        if (message.stop_reason === 'pause_turn') continue; // resume: send the conversation back as is
        if (message.stop_reason !== 'tool_use') break; // end_turn, stop_sequence, max_tokens, refusal, …
        const calls = toolUses(message);
        if (calls.length === 0) return fail('the model stopped with tool_use but sent no tool_use block');
        s.phase = 'running_tools';
        for (const c of calls) s.pendingTools.set(c.id, { id: c.id, name: c.name, input: c.input });
        publish('running');
        // Parallel calls run concurrently; results go back in one user message, in tool_use order.
        const results = await Promise.all(
          calls.map(async (call) => {
            const r = await runOneTool(config, call, turn, workflowId);
            s.pendingTools.delete(call.id);
            return r;
          }),
        );
        s.messages.push({ role: 'user', content: results });
      }
    });
  } catch (e) {
    if (e instanceof ApplicationFailure) throw e; // from fail(): already a failed run
    if (e instanceof ContinueAsNew) throw e; // not an error: the run goes on in a new execution
    if (!isCancellation(e)) return fail(failureLine(e));
  }
  if (cancelled()) {
    s.cancelReason ??= 'cancelled via Temporal';
    s.stopReason = 'cancelled';
    return finish('cancelled', s.cancelReason);
  }
  return finish('completed');
}

/** Run one `tool_use` block; every outcome, failures and cancellation included, is a `tool_result`. */
async function runOneTool(config: RunConfig, call: ToolUseBlock, turn: number, workflowId: string): Promise<ToolResultBlockParam> {
  const isError = (text: string): ToolResultBlockParam => ({ type: 'tool_result', tool_use_id: call.id, content: text, is_error: true });
  const policy = config.tools[call.name];
  if (!policy) {
    return isError(`Unknown tool "${call.name}". Available tools: ${Object.keys(config.tools).join(', ') || 'none'}.`);
  }
  try {
    return await runTool.executeWithOptions(
      {
        summary: toolSummary(call.name, call.input),
        startToCloseTimeout: policy.timeout,
        ...(policy.heartbeatTimeout && { heartbeatTimeout: policy.heartbeatTimeout }),
        retry: policy.retry,
      },
      [
        {
          agent: config.agent,
          toolUse: { id: call.id, name: call.name, input: call.input },
          idempotencyKey: `${workflowId}/${call.id}`,
          turn,
          maxResultBytes: config.limits.toolResultMaxBytes,
        },
      ],
    );
  } catch (e) {
    // Keep the transcript sendable: a cancelled tool still answers its tool_use.
    if (isCancellation(e)) return isError(`Tool ${call.name} was cancelled: the run was cancelled before it finished.`);
    // Infrastructure failure after the tool's retries: the model learns of it and the run goes on.
    return isError(`Tool ${call.name} failed after ${policy.retry.maximumAttempts} attempt(s): ${failureLine(e)}`);
  }
}
