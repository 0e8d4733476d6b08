/**
 * The context-window policy: keep the conversation sent to the model under a byte budget by
 * replacing the content of the oldest tool results with a short placeholder.
 *
 * Why tool results: in long agent runs they are most of the bytes, and the model has already
 * acted on the old ones. Every `tool_use` keeps its `tool_result` (same id, same `is_error`), so
 * the conversation stays valid for the API. The newest results (the last user message) are never
 * touched. Pure and deterministic: it runs inside the workflow.
 */
import type { MessageParam, ToolResultBlockParam } from './types.js';

/** Marks a tool result whose content was removed by this policy. */
export const ELIDED_PREFIX = '[agent-runner: this tool result';

/** Bytes of the conversation as JSON (what the model activity's input carries). */
export function conversationBytes(messages: readonly MessageParam[]): number {
  // UTF-8 length without Node's Buffer (not available in the workflow sandbox).
  return new TextEncoder().encode(JSON.stringify(messages)).length;
}

/**
 * Elide old tool results, oldest first, until the conversation fits `maxBytes`. Returns the new
 * messages (the input is not modified) and how many results were elided; `fits` is false when
 * even eliding every older result is not enough.
 */
export function fitConversation(
  messages: readonly MessageParam[],
  maxBytes: number,
): { messages: MessageParam[]; elided: number; fits: boolean } {
  let size = conversationBytes(messages);
  if (size <= maxBytes) return { messages: [...messages], elided: 0, fits: true };
  const out = messages.map((m) => ({ ...m }));
  let elided = 0;
  // Never the last message: its results are the ones the model is about to read.
  for (let i = 0; i < out.length - 1 && size > maxBytes; i++) {
    const m = out[i]!;
    if (m.role !== 'user' || typeof m.content === 'string') continue;
    const content = m.content.map((b) => {
      if (size <= maxBytes || b.type !== 'tool_result' || isElided(b)) return b;
      const before = new TextEncoder().encode(JSON.stringify(b)).length;
      const placeholder: ToolResultBlockParam = {
        type: 'tool_result',
        tool_use_id: b.tool_use_id,
        content: `${ELIDED_PREFIX} (${before} bytes) was removed to keep the conversation within the context window; call the tool again if you need it.]`,
        ...(b.is_error !== undefined && { is_error: b.is_error }),
      };
      size -= before - new TextEncoder().encode(JSON.stringify(placeholder)).length;
      elided++;
      return placeholder;
    });
    out[i] = { ...m, content };
  }
  return { messages: out, elided, fits: size <= maxBytes };
}

function isElided(b: ToolResultBlockParam): boolean {
  return typeof b.content === 'string' && b.content.startsWith(ELIDED_PREFIX);
}
