/**
 * The durable agent loop: call the model, run the tools it asks for, send the results back,
 * repeat until the model stops for another reason.
 *
 * Determinism: everything that touches the outside world (the agent registry, the Messages API,
 * tool handlers) happens in activities; this file only orders them. The run's configuration is
 * resolved by one activity at the start and recorded in history, so a replay or a deploy that
 * changes an agent's definition does not change a run already under way.
 */
import {
  ApplicationFailure,
  isCancellation,
  proxyActivities,
  workflowInfo,
} from '@temporalio/workflow';
import type { AgentActivities } from '../activities/index.js';
import { runInputProblem } from './run-input.js';
import { addUsage, failureLine, lastAssistantText, toolSummary, toolUses } from './transcript.js';
import {
  emptyUsage,
  FailureTypes,
  RUN_FAILED_TYPE,
  type MessageParam,
  type RunConfig,
  type RunInput,
  type RunResult,
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
// Timeouts and retry policies below are per call (executeWithOptions) from the run's config.
const { callModel, runTool } = proxyActivities<AgentActivities>({ startToCloseTimeout: '10m' });

/** The mutable state of one run (what a query will show, and what continue-as-new will carry). */
interface LoopState {
  messages: MessageParam[];
  turns: number;
  usage: UsageTotals;
  stopReason: RunStopReason | null;
}

/** Workflow `agentRun`: one agent run from prompt to final answer. */
export async function agentRun(input: RunInput): Promise<RunResult> {
  const { workflowId } = workflowInfo();
  const state: LoopState = {
    messages: input?.messages ? [...input.messages] : [{ role: 'user', content: input?.prompt ?? '' }],
    turns: 0,
    usage: emptyUsage(),
    stopReason: null,
  };
  const result = (status: RunStatus, error?: string): RunResult => ({
    workflowId,
    agent: input?.agent ?? '',
    status,
    stopReason: state.stopReason,
    finalText: lastAssistantText(state.messages),
    turns: state.turns,
    usage: state.usage,
    messages: state.messages,
    ...(error !== undefined && { error }),
  });
  // A failed run fails in Temporal too (red in the UI), with its partial result in the details.
  const fail = (message: string, type: string = RUN_FAILED_TYPE): never => {
    state.stopReason = 'error';
    throw ApplicationFailure.create({ type, message, nonRetryable: true, details: [result('failed', message)] });
  };

  const problem = runInputProblem(input);
  if (problem) return fail(`invalid run input: ${problem}`, FailureTypes.invalidInput);

  let config: RunConfig;
  try {
    config = await resolveAgent({ agent: input.agent, ...(input.overrides && { overrides: input.overrides }) });
  } catch (e) {
    if (isCancellation(e)) throw e;
    return fail(failureLine(e));
  }

  try {
    for (;;) {
      if (state.turns >= config.maxTurns) {
        state.stopReason = 'max_turns';
        break;
      }
      const turn = state.turns + 1;
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
        [{ request: { ...config.request, messages: state.messages }, turn }],
      );
      state.turns = turn;
      state.usage = addUsage(state.usage, message.usage);
      state.stopReason = message.stop_reason;
      // Verbatim, thinking and redacted_thinking blocks (with signatures) included.
      state.messages.push({ role: 'assistant', content: message.content });

      if (message.stop_reason === 'pause_turn') continue; // resume: send the conversation back as is
      if (message.stop_reason !== 'tool_use') break; // end_turn, stop_sequence, max_tokens, refusal, …
      const calls = toolUses(message);
      if (calls.length === 0) return fail('the model stopped with tool_use but sent no tool_use block');
      // Parallel calls run concurrently; results go back in one user message, in tool_use order.
      const results = await Promise.all(calls.map((call) => runOneTool(config, call, turn, workflowId)));
      state.messages.push({ role: 'user', content: results });
    }
  } catch (e) {
    if (isCancellation(e) || e instanceof ApplicationFailure) throw e;
    return fail(failureLine(e));
  }
  return result('completed');
}

/** Run one `tool_use` block; every outcome, failures included, is a `tool_result` for the model. */
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
      [{ agent: config.agent, toolUse: { id: call.id, name: call.name, input: call.input }, idempotencyKey: `${workflowId}/${call.id}`, turn }],
    );
  } catch (e) {
    if (isCancellation(e)) throw e;
    // Infrastructure failure after the tool's retries: the model learns of it and the run goes on.
    return isError(`Tool ${call.name} failed after ${policy.retry.maximumAttempts} attempt(s): ${failureLine(e)}`);
  }
}
