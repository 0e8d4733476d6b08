/**
 * Running one turn's `tool_use` blocks: each is its own activity, all run concurrently, and every
 * outcome — success, `is_error`, failure after retries, cancellation — is a `tool_result`, so the
 * conversation stays sendable whatever happens.
 *
 * Seam: a tool that needs a person's approval waits here, per call, before its activity is
 * scheduled; the other calls of the turn run meanwhile.
 */
import { isCancellation } from '@temporalio/workflow';
import type { RunConfig } from '../contract/config.js';
import { failureLine, ToolErrorText } from '../contract/failures.js';
import type { ToolResultBlockParam, ToolUseBlock } from '../contract/messages.js';
import { runTool, runToolLocally } from './activities.js';
import { toolSummary } from './transcript.js';

/** Run one `tool_use` block; every outcome, failures and cancellation included, is a `tool_result`. */
export async function runToolCall(config: RunConfig, call: ToolUseBlock, turn: number, workflowId: string): Promise<ToolResultBlockParam> {
  const isError = (text: string): ToolResultBlockParam => ({ type: 'tool_result', tool_use_id: call.id, content: text, is_error: true });
  // The name comes from the model (a prompt injection can steer it to `constructor` or
  // `__proto__`): only the config's own keys are tools.
  const policy = Object.hasOwn(config.tools, call.name) ? config.tools[call.name] : undefined;
  if (!policy) return isError(ToolErrorText.unknownTool(call.name, Object.keys(config.tools)));
  const options = { summary: toolSummary(call.name, call.input), startToCloseTimeout: policy.timeout, retry: policy.retry };
  const input = {
    agent: config.agent,
    toolUse: { id: call.id, name: call.name, input: call.input },
    idempotencyKey: `${workflowId}/${call.id}`,
    turn,
    maxResultBytes: config.limits.toolResultMaxBytes,
  };
  try {
    // A tool with a heartbeat timeout is long and heartbeats: local activities cannot.
    if (config.local?.tools && !policy.heartbeatTimeout) return await runToolLocally.executeWithOptions(options, [input]);
    return await runTool.executeWithOptions({ ...options, ...(policy.heartbeatTimeout && { heartbeatTimeout: policy.heartbeatTimeout }) }, [
      input,
    ]);
  } catch (e) {
    // Keep the transcript sendable: a cancelled tool still answers its tool_use.
    if (isCancellation(e)) return isError(ToolErrorText.cancelled(call.name));
    // Infrastructure failure after the tool's retries: the model learns of it and the run goes on.
    return isError(ToolErrorText.exhausted(call.name, policy.retry.maximumAttempts, failureLine(e)));
  }
}
