/**
 * Running one turn's `tool_use` blocks: each is its own activity, all run concurrently, and every
 * outcome — success, `is_error`, denial, failure after retries, cancellation — is a
 * `tool_result`, so the conversation stays sendable whatever happens.
 *
 * A call that needs a person's approval waits for it (workflows/approvals.ts) before its activity
 * is scheduled; the other calls run meanwhile. If the history grows past the continue-as-new
 * threshold while only approvals are outstanding, the phase is handed to the next execution as a
 * {@link PendingTurn}: the finished results and each waiting call's start of wait.
 */
import { CancellationScope, condition, isCancellation } from '@temporalio/workflow';
import { DEFAULT_APPROVAL_TIMEOUT, type RunConfig, type ToolPolicy } from '../contract/config.js';
import { failureLine, ToolErrorText } from '../contract/failures.js';
import type { ToolResultBlockParam, ToolUseBlock } from '../contract/messages.js';
import type { PendingTurn } from '../contract/run.js';
import { needsApproval, runTool, runToolLocally } from './activities.js';
import { outputResult } from './output.js';
import type { AgentRun } from './run-state.js';
import { runSubAgent } from './sub-agents.js';
import { toolSummary } from './transcript.js';

/** The tool phase's end: every call's result in `tool_use` order, or a hand-over to the next execution. */
export type ToolPhaseOutcome = { results: ToolResultBlockParam[] } | { handoff: PendingTurn };

/** Run the calls of one turn (or what is left of a handed-over one). */
export async function runToolPhase(
  run: AgentRun,
  config: RunConfig,
  turn: number,
  calls: ToolUseBlock[],
  prior?: PendingTurn,
): Promise<ToolPhaseOutcome> {
  const results: (ToolResultBlockParam | undefined)[] = calls.map((_, i) => prior?.results[i] ?? undefined);
  const waitingSince = new Map(prior?.approvals.map((a) => [a.toolUseId, a.requestedAt]));
  const inActivity = new Set<string>();
  // Hand over only after some progress here: the carried turn alone may exceed the threshold.
  let finishedHere = 0;
  const all = Promise.all(
    calls.map(async (call, i) => {
      if (results[i]) return;
      results[i] = await runToolCall(run, config, call, turn, { inActivity, waitingSince: waitingSince.get(call.id) });
      finishedHere++;
      run.pendingTools.delete(call.id);
    }),
  );
  let settled = false;
  void all.then(
    () => (settled = true),
    () => (settled = true),
  );
  // Hand over only while nothing runs: every unfinished call is waiting for a person. The wait itself
  // is not cancellable: on cancel each call ends (with an is_error result), and the turn with them.
  await CancellationScope.nonCancellable(() =>
    condition(() => settled || (finishedHere > 0 && inActivity.size === 0 && run.approvals.size > 0 && run.handoffDue(config))),
  );
  if (!settled) {
    const approvals = run.approvals.pending().map((p) => ({ toolUseId: p.toolUseId, requestedAt: Date.parse(p.requestedAt) }));
    return { handoff: { turn, calls, results: results.map((r) => r ?? null), approvals } };
  }
  await all;
  return { results: results as ToolResultBlockParam[] };
}

/** Run one `tool_use` block; every outcome, failures and cancellation included, is a `tool_result`. */
async function runToolCall(
  run: AgentRun,
  config: RunConfig,
  call: ToolUseBlock,
  turn: number,
  opts: { inActivity: Set<string>; waitingSince: number | undefined },
): Promise<ToolResultBlockParam> {
  const isError = (text: string): ToolResultBlockParam => ({ type: 'tool_result', tool_use_id: call.id, content: text, is_error: true });
  // The runner's structured-output tool is answered here, at once (workflows/output.ts).
  if (config.output && call.name === config.output.tool) return outputResult(run, config.output, call);
  // The name comes from the model (a prompt injection can steer it to `constructor` or
  // `__proto__`): only the config's own keys are tools.
  const policy = Object.hasOwn(config.tools, call.name) ? config.tools[call.name] : undefined;
  if (!policy) return isError(ToolErrorText.unknownTool(call.name, Object.keys(config.tools)));
  const options = { summary: toolSummary(call.name, call.input), startToCloseTimeout: policy.timeout, retry: policy.retry };
  const input = {
    agent: config.agent,
    toolUse: { id: call.id, name: call.name, input: call.input },
    idempotencyKey: `${run.workflowId}/${call.id}`,
    turn,
    maxResultBytes: config.limits.toolResultMaxBytes,
    // An MCP tool: its server and name there, as recorded when the run started.
    ...(policy.mcp && { mcp: policy.mcp }),
  };
  try {
    // Only a gated tool awaits anything before its activity is scheduled (the others keep the order of old histories).
    const denied = policy.approval ? await approvalGate(run, config, call, policy, opts.waitingSince) : undefined;
    if (denied) return isError(denied);
    opts.inActivity.add(call.id);
    try {
      // Another agent offered as a tool: its run is a child workflow (workflows/sub-agents.ts).
      if (policy.agent) return await runSubAgent(run, config, call, policy.agent);
      // A tool with a heartbeat timeout is long and heartbeats: local activities cannot.
      if (config.local?.tools && !policy.heartbeatTimeout) return await runToolLocally.executeWithOptions(options, [input]);
      return await runTool.executeWithOptions(
        { ...options, ...(policy.heartbeatTimeout && { heartbeatTimeout: policy.heartbeatTimeout }) },
        [input],
      );
    } finally {
      opts.inActivity.delete(call.id);
    }
  } catch (e) {
    // Keep the transcript sendable: a cancelled tool still answers its tool_use.
    if (isCancellation(e)) return isError(ToolErrorText.cancelled(call.name));
    // Infrastructure failure after the tool's retries: the model learns of it and the run goes on.
    return isError(ToolErrorText.exhausted(call.name, policy.retry.maximumAttempts, failureLine(e)));
  }
}

/** Wait for a person when the tool asks for it: the text the model gets when denied, else undefined. */
async function approvalGate(
  run: AgentRun,
  config: RunConfig,
  call: ToolUseBlock,
  policy: ToolPolicy,
  waitingSince: number | undefined,
): Promise<string | undefined> {
  if (!policy.approval) return undefined;
  // Per-call decisions come from the tool's own code, in an activity (recorded; replays agree).
  // A call handed over while waiting has been found to need approval already.
  if (policy.approval === 'per_call' && waitingSince === undefined) {
    const needed = await needsApproval
      .executeWithOptions({ summary: `approval needed? ${toolSummary(call.name, call.input)}` }, [
        { agent: config.agent, toolUse: { id: call.id, name: call.name, input: call.input } },
      ])
      .catch((e: unknown) => {
        if (isCancellation(e)) throw e;
        return true; // the check failed: ask a person
      });
    if (!needed) return undefined;
  }
  const timeout = policy.approvalTimeout ?? DEFAULT_APPROVAL_TIMEOUT;
  const decision = await run.approvals.wait(call, timeout, waitingSince);
  if (decision.approved) return undefined;
  return decision.timedOut
    ? ToolErrorText.approvalTimedOut(call.name, timeout)
    : ToolErrorText.denied(call.name, decision.reason, decision.by);
}
