/** Reading Messages API blocks in tests. */
import type { MessageParam, ToolResultBlockParam } from '@anthropic-ai/sdk/resources/messages';

/** The `tool_result` blocks of a user message (throws if it is not one). */
export function toolResults(m: MessageParam | undefined): ToolResultBlockParam[] {
  if (!m || m.role !== 'user' || typeof m.content === 'string') throw new Error(`not a tool-result message: ${JSON.stringify(m)}`);
  return m.content.filter((b): b is ToolResultBlockParam => b.type === 'tool_result');
}
