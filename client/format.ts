/** Human-readable rendering of runs for the CLI and the demo (plain lines, no colours). */
import type { MessageParam, ToolResultBlockParam } from '../contract/messages.js';
import type { RunResult } from '../contract/run.js';

const INDENT = '    ';

/** Shorten to one line of at most `max` characters. */
export function clip(text: string, max = 160): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

function resultText(block: ToolResultBlockParam): string {
  const c = block.content;
  if (c === undefined) return '';
  if (typeof c === 'string') return c;
  return c.map((b) => (b.type === 'text' ? b.text : `[${b.type}]`)).join(' ');
}

/**
 * The conversation as lines: each model turn, each tool call with its input and its result or
 * error (matched by `tool_use_id`), in order.
 */
export function transcriptLines(messages: readonly MessageParam[]): string[] {
  const out: string[] = [];
  const results = new Map<string, ToolResultBlockParam>();
  for (const m of messages) {
    if (m.role === 'user' && Array.isArray(m.content)) {
      for (const b of m.content) if (b.type === 'tool_result') results.set(b.tool_use_id, b);
    }
  }
  let turn = 0;
  for (const m of messages) {
    if (m.role === 'user') {
      if (typeof m.content === 'string') out.push(`user: ${m.content}`);
      else {
        const texts = m.content.flatMap((b) => (b.type === 'text' ? [b.text] : []));
        if (texts.length) out.push(`user: ${texts.join(' ')}`);
      }
      continue;
    }
    turn++;
    out.push(`── model turn ${turn}`);
    const blocks = typeof m.content === 'string' ? [{ type: 'text' as const, text: m.content }] : m.content;
    for (const b of blocks) {
      if (b.type === 'text') out.push(`assistant: ${b.text}`);
      else if (b.type === 'thinking') out.push(`${INDENT}(thinking: ${clip(b.thinking, 100)})`);
      else if (b.type === 'redacted_thinking') out.push(`${INDENT}(redacted thinking)`);
      else if (b.type === 'tool_use') {
        out.push(`${INDENT}→ tool ${b.name} ${clip(JSON.stringify(b.input), 200)}`);
        const r = results.get(b.id);
        if (!r) out.push(`${INDENT}  (no result)`);
        else if (r.is_error) out.push(`${INDENT}  ✗ error: ${clip(resultText(r), 300)}`);
        else out.push(`${INDENT}  ← ${clip(resultText(r), 300)}`);
      } else out.push(`${INDENT}(${b.type} block)`);
    }
  }
  return out;
}

/** The closing summary of a run. */
export function summaryLines(r: RunResult, url?: string): string[] {
  const u = r.usage;
  const lines = [
    `status: ${r.status} · stop reason: ${r.stopReason ?? 'none'} · model calls: ${r.turns} · tokens: ${u.input_tokens} in / ${u.output_tokens} out` +
      (u.cache_read_input_tokens || u.cache_creation_input_tokens
        ? ` (cache: ${u.cache_read_input_tokens} read, ${u.cache_creation_input_tokens} written)`
        : ''),
  ];
  if (r.error) lines.push(`error: ${r.error}`);
  lines.push(`workflow id: ${r.workflowId}`);
  if (url) lines.push(`Temporal UI: ${url}`);
  return lines;
}
