/** Reading Messages API blocks in tests. */
import type { MessageParam, ToolResultBlockParam } from '@anthropic-ai/sdk/resources/messages';

/** The `tool_result` blocks of a user message (throws if it is not one). */
export function toolResults(m: MessageParam | undefined): ToolResultBlockParam[] {
  if (!m || m.role !== 'user' || typeof m.content === 'string') throw new Error(`not a tool-result message: ${JSON.stringify(m)}`);
  return m.content.filter((b): b is ToolResultBlockParam => b.type === 'tool_result');
}

/**
 * Messages as the API reads them, for comparing what it received with the transcript: without
 * the runner's `cache_control` marks (activities/cache-control.ts), and a string content as the
 * one text block it stands for (the runner turns a marked string into that block).
 */
export function asSent(messages: readonly MessageParam[] | undefined): unknown {
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(strip);
    if (typeof v !== 'object' || v === null) return v;
    const { cache_control: _cc, ...rest } = v as Record<string, unknown>;
    return Object.fromEntries(Object.entries(rest).map(([k, x]) => [k, strip(x)]));
  };
  return (messages ?? []).map((m) =>
    strip({ ...m, content: typeof m.content === 'string' ? [{ type: 'text', text: m.content }] : m.content }),
  );
}
