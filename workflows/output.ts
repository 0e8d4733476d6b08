/**
 * Structured output in the loop (runs whose configuration has `output`): the model gives its
 * answer by calling the runner's output tool, and the run ends when it does with input valid
 * against the schema.
 *
 * - A call of the output tool is answered here, in the workflow (no activity): the input is
 *   checked with contract/output-schema.ts's validator — pure, so a replay decides the same. Valid:
 *   `Structured output accepted.`; invalid: `is_error` naming each problem. Its result takes its
 *   place among the turn's other results, in `tool_use` order, and the other calls of the turn
 *   run as usual; when the output was accepted the run then ends (their results stay in the
 *   transcript; the model is not called again). Several valid calls in one turn: the first wins.
 * - A turn that ends (`end_turn`, `stop_sequence`) without calling it gets a user message asking
 *   for it.
 * - Each of these is one failed attempt; after `maxAttempts` the run fails with one line. A run
 *   that stops for any other reason before it has its output (`max_tokens`, `refusal`,
 *   `max_turns`, its budget) fails too: a completed run that asked for structured output always
 *   carries it.
 */
import type { StructuredOutput } from '../contract/config.js';
import { Failures } from '../contract/failures.js';
import type { MessageParam, ToolResultBlockParam, ToolUseBlock } from '../contract/messages.js';
import { OUTPUT_ACCEPTED, outputNudge, outputProblems, outputRejected } from '../contract/output-schema.js';
import type { AgentRun } from './run-state.js';
import type { TurnOutcome } from './turn.js';

/** The result of one call of the output tool. */
export function outputResult(run: AgentRun, output: StructuredOutput, call: ToolUseBlock): ToolResultBlockParam {
  const problems = outputProblems(output.schema, call.input);
  if (problems.length === 0) return { type: 'tool_result', tool_use_id: call.id, content: OUTPUT_ACCEPTED };
  return {
    type: 'tool_result',
    tool_use_id: call.id,
    content: outputRejected(output.tool, problems, run.outputFailures + 1, output.maxAttempts),
    is_error: true,
  };
}

/**
 * After a turn (its tool results appended): the output, when the model gave a valid one (the
 * run ends: `done`, stop reason `structured_output`); another turn after a failed attempt (a
 * nudge appended when the model ended its turn without the tool); or the turn's own outcome.
 */
export function afterOutputTurn(run: AgentRun, output: StructuredOutput, outcome: TurnOutcome): TurnOutcome {
  if (typeof outcome === 'object' || run.cancelled) return outcome;
  const messages = run.messages;
  if (outcome === 'done') {
    // Truncated, refused, …: the run ends, and fails for want of an output (see requireOutput).
    if (run.stopReason !== 'end_turn' && run.stopReason !== 'stop_sequence') return 'done';
    failedAttempt(run, output, `the model ended its turn (${run.stopReason}) without calling ${output.tool}`);
    messages.push({ role: 'user', content: outputNudge(output.tool, run.outputFailures, output.maxAttempts) });
    return 'next_turn';
  }
  const [reply, answers] = [messages.at(-2), messages.at(-1)];
  if (reply?.role !== 'assistant' || answers?.role !== 'user') return outcome; // a resumed pause_turn
  const calls = blocks(reply).flatMap((b) => (b.type === 'tool_use' && b.name === output.tool ? [{ id: b.id, input: b.input }] : []));
  if (calls.length === 0) return outcome;
  const results = new Map(
    blocks(answers).flatMap((b) => (b.type === 'tool_result' ? [[b.tool_use_id, b as ToolResultBlockParam] as const] : [])),
  );
  const accepted = calls.find((c) => results.has(c.id) && results.get(c.id)?.is_error !== true);
  if (accepted) {
    run.output = accepted.input as Record<string, unknown>;
    run.stopReason = 'structured_output';
    return 'done';
  }
  failedAttempt(run, output, `the last answer did not match the schema: ${outputProblems(output.schema, calls[0]!.input).join('; ')}`);
  return 'next_turn';
}

/** A completed run that asked for structured output has it; otherwise it fails, saying why. */
export function requireOutput(run: AgentRun): void {
  if (!run.config?.output || run.output !== undefined || run.cancelled) return;
  run.fail(
    `no structured output: the run stopped (${run.stopReason ?? 'no stop reason'}) before the model gave a valid one`,
    Failures.noStructuredOutput.type,
  );
}

function failedAttempt(run: AgentRun, output: StructuredOutput, why: string): void {
  run.outputFailures++;
  if (run.outputFailures >= output.maxAttempts)
    run.fail(`no valid structured output after ${output.maxAttempts} attempt(s): ${why}`, Failures.noStructuredOutput.type);
}

function blocks(m: MessageParam): Exclude<MessageParam['content'], string> {
  return typeof m.content === 'string' ? [] : m.content;
}
