/**
 * The context-window policy: keep the conversation sent to the model under a byte budget by
 * replacing the content of the oldest tool results with a short placeholder.
 *
 * Why tool results: in long agent runs they are most of the bytes, and the model has already
 * acted on the old ones. Every `tool_use` keeps its `tool_result` (same id, same `is_error`), so
 * the conversation stays valid for the API. The newest results (the last user message) are never
 * touched. When that is not enough (a long run accumulates turns), the oldest whole turns after the
 * first user message are dropped, with a note. Pure and deterministic: it runs inside the workflow.
 */
import type { MessageParam, ToolResultBlockParam } from '../contract/messages.js';

/** Marks a tool result whose content was removed by this policy. */
export const ELIDED_PREFIX = '[agent-runner: this tool result';

/**
 * UTF-8 bytes of each message's JSON, by message object. Messages are never changed in place (the
 * loop appends new ones, the policy below replaces them with copies), so a turn measures only
 * what is new instead of the whole conversation again: the sum is exactly what measuring the
 * whole JSON gives, so every decision is the same.
 */
const messageBytes = new WeakMap<object, number>();

function bytesOf(message: MessageParam): number {
  let n = messageBytes.get(message);
  if (n === undefined) {
    // UTF-8 length without Node's Buffer (not available in the workflow sandbox).
    n = new TextEncoder().encode(JSON.stringify(message)).length;
    messageBytes.set(message, n);
  }
  return n;
}

/** Bytes of the conversation as JSON (what the model activity's input carries). */
export function conversationBytes(messages: readonly MessageParam[]): number {
  // `[` + the messages joined by `,` + `]`, as JSON.stringify writes an array.
  let total = 2 + Math.max(0, messages.length - 1);
  for (const m of messages) total += bytesOf(m);
  return total;
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
  // Still too big (each turn leaves its assistant blocks and a placeholder, so a long enough run
  // outgrows any budget): drop the oldest whole turns after the first user message — an
  // assistant message together with the user message of its tool results — never the last two.
  let dropped = 0;
  const noteRoom = 200; // the note below must fit too
  // Only when eliding was not enough; then leave room for the note.
  const mustDrop = size > maxBytes;
  while (mustDrop && size + noteRoom > maxBytes && out.length > 3) {
    const assistant = out[1];
    const next = out[2];
    if (assistant?.role !== 'assistant') break;
    const pair = next?.role === 'user' && Array.isArray(next.content) && next.content[0]?.type === 'tool_result' ? 2 : 1;
    if (out.length - pair < 2) break;
    size -= out.slice(1, 1 + pair).reduce((n, m) => n + new TextEncoder().encode(JSON.stringify(m)).length + 1, 0);
    out.splice(1, pair);
    dropped++;
  }
  if (dropped > 0) {
    // Say so where the model will read it: after the results that now follow the first message.
    const first = out[2] ?? out[1];
    const note = {
      type: 'text' as const,
      text: `[agent-runner: ${dropped} earlier turn(s) were removed to keep the conversation within the context window.]`,
    };
    if (first?.role === 'user') {
      const content = typeof first.content === 'string' ? [{ type: 'text' as const, text: first.content }] : first.content;
      out[out.indexOf(first)] = { ...first, content: [...content, note] };
      size += new TextEncoder().encode(JSON.stringify(note)).length + 1;
    }
  }
  return { messages: out, elided: elided + dropped, fits: size <= maxBytes };
}

function isElided(b: ToolResultBlockParam): boolean {
  return typeof b.content === 'string' && b.content.startsWith(ELIDED_PREFIX);
}
