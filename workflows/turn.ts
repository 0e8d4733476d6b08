/**
 * One turn of the loop, as the Messages API docs draw it: call the model with the conversation,
 * append its answer; if it asked for tools, run them and append their results in one user
 * message. Before the call, the context policy fits the conversation to its budget.
 *
 * The budget is checked before this (workflows/budget.ts); each call's usage is priced after it.
 */
import { metricMeter } from '@temporalio/workflow';
import type { RunConfig } from '../contract/config.js';
import { Failures } from '../contract/failures.js';
import { conversationTooLarge } from '../contract/run-input.js';
import { callModel, callModelLocally } from './activities.js';
import { conversationBytes, fitConversation } from './context-policy.js';
import type { PendingTurn } from '../contract/run.js';
import type { AgentRun } from './run-state.js';
import { runToolPhase } from './tool-calls.js';
import { addUsage, toolUses } from './transcript.js';
import type { ToolUseBlock } from '../contract/messages.js';

/** What the loop does after a turn: another, stop, or hand a turn still waiting for approvals to the next execution. */
export type TurnOutcome = 'next_turn' | 'done' | { handoff: PendingTurn };

/**
 * The context-window policy, applied before the call is scheduled: the request (and any
 * continue-as-new input) always stays under the payload limit, or the run fails with one line.
 */
export function fitContext(run: AgentRun, config: RunConfig): void {
  const fit = fitConversation(run.messages, config.limits.conversationMaxBytes);
  if (!fit.fits) {
    run.fail(conversationTooLarge(conversationBytes(fit.messages), config.limits.conversationMaxBytes, ' even after removing older turns'));
  }
  run.messages = fit.messages;
  run.elided += fit.elided;
  if (fit.elided > 0) run.prefixInHistory = 0; // no longer what the last call was sent
}

/** Call the model once and act on its stop reason. */
export async function takeTurn(run: AgentRun, config: RunConfig): Promise<TurnOutcome> {
  const turn = run.turns + 1;
  // Steering notes go with this call, after the last turn's tool results.
  run.notes.deliver(run.messages);
  run.phase = 'calling_model';
  run.publish('running');
  const options = {
    summary: `${config.request.model} · turn ${turn}`,
    startToCloseTimeout: config.model.timeout,
    retry: {
      maximumAttempts: config.model.maximumAttempts,
      initialInterval: config.model.initialInterval,
      maximumInterval: config.model.maximumInterval,
      nonRetryableErrorTypes: [Failures.modelRejected.type, Failures.modelNotConfigured.type],
    },
  };
  const input = {
    request: { ...config.request, messages: run.messages },
    turn,
    ...(config.model.stallTimeout && { stallTimeout: config.model.stallTimeout }),
    ...(config.promptCaching && { cacheTtl: config.promptCaching.ttl }),
  };
  const { message, failedAttempts } = config.local?.model
    ? await callModelLocally.executeWithOptions(options, [input])
    : await callModel.executeWithOptions(
        { ...options, heartbeatTimeout: config.model.heartbeatTimeout, ...(config.modelTaskQueue && { taskQueue: config.modelTaskQueue }) },
        [input],
      );
  run.turns = turn;
  run.usage = addUsage(run.usage, message.usage);
  run.spend.charge(config, message.usage, failedAttempts);
  run.stopReason = message.stop_reason;
  // Verbatim, thinking and redacted_thinking blocks (with signatures) included.
  run.messages.push({ role: 'assistant', content: message.content });
  run.prefixInHistory = run.messages.length;
  metricMeter.createCounter('agent_runner_turns', 'turns', 'Model calls made by runs').add(1, { agent: run.agent });

  if (message.stop_reason === 'pause_turn') return 'next_turn'; // resume: send the conversation back as is
  if (message.stop_reason !== 'tool_use') return 'done'; // end_turn, stop_sequence, max_tokens, refusal, …
  const calls = toolUses(message);
  if (calls.length === 0) run.fail('the model stopped with tool_use but sent no tool_use block');

  return toolPhase(run, config, turn, calls);
}

/**
 * Run a turn's tools (or, after a hand-over, what is left of them) and append their results:
 * parallel calls run concurrently; results go back in one user message, in `tool_use` order.
 */
export async function toolPhase(
  run: AgentRun,
  config: RunConfig,
  turn: number,
  calls: ToolUseBlock[],
  prior?: PendingTurn,
): Promise<TurnOutcome> {
  run.phase = 'running_tools';
  calls.forEach((c, i) => prior?.results[i] || run.pendingTools.set(c.id, { id: c.id, name: c.name, input: c.input }));
  run.publish('running');
  const outcome = await runToolPhase(run, config, turn, calls, prior);
  if ('handoff' in outcome) return outcome;
  const { results } = outcome;
  run.messages.push({ role: 'user', content: results });
  const toolErrors = metricMeter.createCounter('agent_runner_tool_errors', 'errors', 'Tool calls answered with is_error, by tool');
  results.forEach((r, i) => r.is_error && toolErrors.add(1, { agent: run.agent, tool: calls[i]!.name }));
  return 'next_turn';
}
