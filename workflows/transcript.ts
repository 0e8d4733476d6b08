/** Pure helpers over the conversation (workflow-safe). */
import type { Message, ToolUseBlock } from '../contract/messages.js';
import { tokenCount, type UsageTotals } from '../contract/run.js';

/**
 * Add one response's usage to the run's totals (cache counters may be null). Counters are
 * coerced here too, not only where they enter: a history recorded before the activity checked
 * them must still add up to integers.
 */
export function addUsage(total: UsageTotals, usage: Message['usage'] | undefined): UsageTotals {
  return {
    input_tokens: total.input_tokens + tokenCount(usage?.input_tokens),
    output_tokens: total.output_tokens + tokenCount(usage?.output_tokens),
    cache_creation_input_tokens: total.cache_creation_input_tokens + tokenCount(usage?.cache_creation_input_tokens),
    cache_read_input_tokens: total.cache_read_input_tokens + tokenCount(usage?.cache_read_input_tokens),
  };
}

/** The `tool_use` blocks of a response, in order. */
export function toolUses(message: Message): ToolUseBlock[] {
  return message.content.filter((b): b is ToolUseBlock => b.type === 'tool_use');
}

/** One-line UI summary of a tool call: `get_order_status {"order_id":"48810"}`, shortened. */
export function toolSummary(name: string, input: unknown, max = 120): string {
  let args: string;
  try {
    args = JSON.stringify(input) ?? '';
  } catch {
    args = '(unserialisable input)';
  }
  const line = `${name} ${args}`.replace(/\s+/g, ' ');
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
