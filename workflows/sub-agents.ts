/**
 * Agents as tools: a call to another agent offered as a tool starts that agent's run as a child
 * workflow of this run — its own history, shown as a child in the Temporal UI — and its final
 * text comes back as the `tool_result`.
 *
 * - Durable and once: the child's workflow id is `<this run's id>/<tool_use id>`, so the command
 *   is in this run's history and a replay or a retry never starts a second child.
 * - Spend: the child gets what is left of this run's budget as its own, and its ledger rolls up
 *   into this run's (attributed to the agent, under `cost.subAgents`).
 * - Cancellation: cancelling this run cancels the child (and waits for it to finish with its
 *   transcript); if this run ends otherwise, the server asks the child to cancel.
 * - People: the child waits for its own approvals; `agent-runner pending` lists them with this run
 *   named as the parent.
 * - Depth: a run at `MAX_AGENT_DEPTH` answers its agent tools with `is_error` instead.
 */
import { ApplicationFailure, ChildWorkflowFailure, executeChild, isCancellation, TerminatedFailure } from '@temporalio/workflow';
import type { ToolPolicy, RunConfig } from '../contract/config.js';
import type { ToolResultBlockParam, ToolUseBlock } from '../contract/messages.js';
import { type CostLedger } from '../contract/prices.js';
import { MAX_AGENT_DEPTH, type RunInput, type RunOverrides, type RunResult } from '../contract/run.js';
import { AgentName, AgentStatus, AgentTokens, AgentTurns } from '../contract/search-attributes.js';
import { AGENT_WORKFLOW_TYPE } from '../contract/workflow.js';
import type { AgentRun } from './run-state.js';

type SubAgent = NonNullable<ToolPolicy['agent']>;

/** Run one call of an agent offered as a tool: every outcome is a `tool_result`. */
export async function runSubAgent(run: AgentRun, config: RunConfig, call: ToolUseBlock, sub: SubAgent): Promise<ToolResultBlockParam> {
  const answer = (text: string, isError = false): ToolResultBlockParam => ({
    type: 'tool_result',
    tool_use_id: call.id,
    content: clipBytes(text, config.limits.toolResultMaxBytes),
    ...(isError && { is_error: true }),
  });
  const prompt = (call.input as { prompt?: unknown } | null)?.prompt;
  if (typeof prompt !== 'string' || prompt.trim() === '') {
    return answer(`Invalid input for tool ${call.name}: prompt: a non-empty string saying what agent "${sub.name}" should do`, true);
  }
  const depth = (run.parent?.depth ?? 0) + 1;
  if (depth > MAX_AGENT_DEPTH) {
    return answer(
      `Tool ${call.name} was not run: agents call agents at most ${MAX_AGENT_DEPTH} deep, and this run is already ${depth - 1} deep. Do the task yourself.`,
      true,
    );
  }
  const budget = remainingBudget(run);
  if (budget === 'spent') return answer(`Tool ${call.name} was not run: this run has no budget left for agent "${sub.name}".`, true);

  const input: RunInput = {
    agent: sub.name,
    prompt,
    ...(budget && { overrides: budget }),
    parent: { workflowId: run.workflowId, agent: run.agent, toolUseId: call.id, depth },
  };
  const workflowId = `${run.workflowId}/${call.id}`;
  let result: RunResult;
  try {
    result = await executeChild<(input: RunInput) => Promise<RunResult>>(AGENT_WORKFLOW_TYPE, {
      workflowId,
      args: [input],
      // The child finishes its own transcript when cancelled, and is asked to if this run closes first.
      cancellationType: 'WAIT_CANCELLATION_COMPLETED',
      parentClosePolicy: 'REQUEST_CANCEL',
      ...(sub.timeout && { workflowExecutionTimeout: sub.timeout }),
      staticSummary: `${sub.name} · for ${run.agent} (${call.id})`,
      // Only where the worker found them registered: an unknown attribute would fail the start command.
      ...(config.searchAttributesRegistered && {
        typedSearchAttributes: [
          { key: AgentName, value: sub.name },
          { key: AgentStatus, value: 'running' },
          { key: AgentTurns, value: 0 },
          { key: AgentTokens, value: 0 },
        ],
      }),
    });
  } catch (e) {
    const partial = partialResult(e);
    if (partial?.cost) run.spend.addSubAgent(sub.name, partial.cost);
    if (isCancellation(e) && !partial) return answer(`Tool ${call.name} was cancelled: agent "${sub.name}" did not finish.`, true);
    return answer(`Agent "${sub.name}" failed: ${childFailureLine(e)}`, true);
  }
  if (result.cost) run.spend.addSubAgent(sub.name, result.cost);
  return answerOf(result, sub.name, answer);
}

/** The tool result of a child run that returned. */
function answerOf(r: RunResult, agent: string, answer: (text: string, isError?: boolean) => ToolResultBlockParam): ToolResultBlockParam {
  const text = r.finalText.trim();
  if (r.status === 'cancelled')
    return answer(`Agent "${agent}" was cancelled (${r.error ?? 'no reason given'})${text ? `. Its last text: ${text}` : '.'}`, true);
  if (r.stopReason === 'budget_exceeded' || r.stopReason === 'max_turns') {
    const why = r.stopReason === 'max_turns' ? 'its turn limit' : `its budget (${r.stopDetail ?? 'spent'})`;
    return answer(`Agent "${agent}" stopped at ${why} before finishing${text ? `. Its last text: ${text}` : '.'}`, true);
  }
  // A sub-agent that gives structured output answers with it, as JSON text.
  if (r.output !== undefined) return answer(JSON.stringify(r.output));
  return answer(text || `Agent "${agent}" finished without a text answer (stop reason ${r.stopReason ?? 'none'}).`);
}

/** What is left of this run's budget, as the child's overrides; 'spent' when nothing is; undefined without a budget. */
function remainingBudget(run: AgentRun): Pick<RunOverrides, 'maxCostUsd' | 'maxTotalTokens'> | 'spent' | undefined {
  const limits = run.spend.limits;
  if (!limits) return undefined;
  const out: Pick<RunOverrides, 'maxCostUsd' | 'maxTotalTokens'> = {};
  const spentUsd = run.spend.ledger?.usd;
  if (limits.maxCostUsd !== undefined && typeof spentUsd === 'number') {
    const left = Math.floor((limits.maxCostUsd - spentUsd) * 1e6) / 1e6;
    if (left <= 0) return 'spent';
    out.maxCostUsd = left;
  }
  if (limits.maxTotalTokens !== undefined) {
    const left = limits.maxTotalTokens - run.spend.spentTokens();
    if (left < 1) return 'spent';
    out.maxTotalTokens = left;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** A failed child's partial result (its run's failure carries it in the details), if any. */
function partialResult(e: unknown): { cost?: CostLedger } | undefined {
  const cause = e instanceof ChildWorkflowFailure ? e.cause : undefined;
  if (!(cause instanceof ApplicationFailure)) return undefined;
  const d = cause.details?.[0];
  return typeof d === 'object' && d !== null ? (d as { cost?: CostLedger }) : undefined;
}

/** One line for a child that failed, timed out or was terminated. */
function childFailureLine(e: unknown): string {
  if (e instanceof ChildWorkflowFailure) {
    const cause = e.cause;
    if (cause instanceof TerminatedFailure) return 'its run was terminated';
    if (cause?.name === 'TimeoutFailure') return 'its run timed out';
    return cause?.message ?? e.message;
  }
  return e instanceof Error ? e.message : String(e);
}

/** Text cut to at most `max` UTF-8 bytes, with a note the model can read. */
function clipBytes(text: string, max: number): string {
  const bytes = new TextEncoder().encode(text);
  if (bytes.length <= max) return text;
  const note = `\n[agent-runner: the agent's answer was ${bytes.length} bytes; the first ${max} are shown.]`;
  return new TextDecoder().decode(bytes.slice(0, max)).replace(/\uFFFD$/, '') + note;
}
