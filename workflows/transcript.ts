/** Pure helpers over the conversation (workflow-safe). */
import type { Message, MessageParam, ToolUseBlock } from '../contract/messages.js';
import type { UsageTotals } from '../contract/run.js';

/** Add one response's usage to the run's totals (cache counters may be null). */
export function addUsage(total: UsageTotals, usage: Message['usage']): UsageTotals {
  return {
    input_tokens: total.input_tokens + (usage.input_tokens ?? 0),
    output_tokens: total.output_tokens + (usage.output_tokens ?? 0),
    cache_creation_input_tokens: total.cache_creation_input_tokens + (usage.cache_creation_input_tokens ?? 0),
    cache_read_input_tokens: total.cache_read_input_tokens + (usage.cache_read_input_tokens ?? 0),
  };
}

/** Text of the last assistant message (text blocks joined), or ''. */
export function lastAssistantText(messages: readonly MessageParam[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (m?.role !== 'assistant') continue;
    if (typeof m.content === 'string') return m.content;
    return m.content
      .flatMap((b) => (b.type === 'text' ? [b.text] : []))
      .join('\n')
      .trim();
  }
  return '';
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
