/**
 * Human-readable rendering of runs for the CLI and the demo (plain lines, no colours).
 *
 * Everything shown here may come from outside: model text, tool results, prompts, cancel reasons,
 * workflow ids and search attributes set by other clients. So every piece of it goes through
 * {@link plain} (no terminal escapes, no control characters), one-line fields through
 * {@link oneLine} or {@link clip}, and multi-line text through {@link labelled}, whose
 * continuation lines carry a mark the CLI's own lines never start with. `--json` output does not
 * come through here: it stays byte-exact.
 */
import type { MessageParam, ToolResultBlockParam } from '../contract/messages.js';
import { OUTPUT_NUDGE_START } from '../contract/output-schema.js';
import type { RunResult } from '../contract/run.js';
import { formatUsd, type CostLedger } from '../contract/prices.js';

const INDENT = '    ';

/** How continuation lines of multi-line text start: no line of the CLI's own starts like this. */
export const CONTINUATION = '  │ ';

/** The most characters a reason or error line shows (a cancel reason may be a megabyte). */
export const REASON_WIDTH = 300;

/**
 * Whole escape sequences: CSI (`ESC [` … final byte, or C1 `0x9b`), OSC/DCS/SOS/PM/APC strings
 * (`ESC ]`, `ESC P`, `ESC X`, `ESC ^`, `ESC _`, or their C1 forms) up to BEL or ST — or to the end
 * of the text when unterminated, as a terminal would swallow it — and two-byte `ESC x` escapes.
 */
const ESCAPE_SEQUENCES =
  /\x1b\[[0-?]*[ -/]*[@-~]|\x9b[0-?]*[ -/]*[@-~]|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^]*?(?:\x07|\x1b\\|\x9c|$)|\x1b[ -/]*[0-~]/g;
/** C0 controls except tab and newline, DEL, C1 controls. */
const CONTROLS = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;

/** Text safe to print on a terminal: escape sequences and control characters removed (newlines and tabs kept). */
export function plain(text: unknown): string {
  return String(text ?? '')
    .replace(ESCAPE_SEQUENCES, '')
    .replace(CONTROLS, '');
}

/** {@link plain} text on one line: every run of whitespace (newlines, tabs) becomes one space. */
export function oneLine(text: unknown): string {
  return plain(text).replace(/\s+/g, ' ').trim();
}

/** Shorten to one line of at most `max` characters. */
export function clip(text: unknown, max = 160): string {
  const line = oneLine(text);
  if (line.length <= max) return line;
  let cut = line.slice(0, max - 1);
  if (/[\ud800-\udbff]$/.test(cut)) cut = cut.slice(0, -1); // never half a surrogate pair
  return `${cut}…`;
}

/** A reason or error on one line, at most {@link REASON_WIDTH} characters. */
export function reason(text: unknown): string {
  return clip(text, REASON_WIDTH);
}

/**
 * Untrusted multi-line text after a label: the first line follows the label, every further line
 * starts with {@link CONTINUATION}, so text such as `"\nstatus: completed"` cannot pass for a line
 * of the CLI's own.
 */
export function labelled(label: string, text: unknown): string[] {
  const [first = '', ...rest] = plain(text).split('\n');
  return [`${label}${first}`.trimEnd(), ...rest.map((l) => `${CONTINUATION}${l}`.trimEnd())];
}

/**
 * A text block of an assistant message: labelled `assistant: ` unless it continues the text block
 * before it (a cited answer comes as many blocks, mid-sentence); whitespace-only blocks vanish.
 */
export function assistantTextLines(text: string, continues: boolean): string[] {
  if (text.trim() === '') return [];
  return continues ? labelled(CONTINUATION, text.trim()) : labelled('assistant: ', text);
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
      // The runner's own request for a structured output is told as such.
      if (typeof m.content === 'string')
        out.push(...labelled(m.content.startsWith(OUTPUT_NUDGE_START) ? 'user (runner): ' : 'user: ', m.content));
      else {
        const texts = m.content.flatMap((b) => (b.type === 'text' ? [b.text] : []));
        if (texts.length) out.push(...labelled('user: ', texts.join(' ')));
      }
      continue;
    }
    turn++;
    out.push(`── model turn ${turn}`);
    const blocks = typeof m.content === 'string' ? [{ type: 'text' as const, text: m.content }] : m.content;
    let afterText = false;
    for (const b of blocks) {
      const continues = afterText;
      afterText = b.type === 'text';
      const server = serverToolLines(b);
      if (server) out.push(...server);
      else if (b.type === 'text') out.push(...assistantTextLines(b.text, continues), ...citationLines(b));
      else if (b.type === 'thinking') out.push(`${INDENT}(thinking: ${clip(b.thinking, 100)})`);
      else if (b.type === 'redacted_thinking') out.push(`${INDENT}(redacted thinking)`);
      else if (b.type === 'tool_use') {
        out.push(`${INDENT}→ tool ${oneLine(b.name)} ${clip(JSON.stringify(b.input), 200)}`);
        const r = results.get(b.id);
        if (!r) out.push(`${INDENT}  (no result)`);
        else if (r.is_error) out.push(`${INDENT}  ✗ error: ${clip(resultText(r), 300)}`);
        else out.push(`${INDENT}  ← ${clip(resultText(r), 300)}`);
      } else out.push(`${INDENT}(${oneLine(b.type)} block)`);
    }
  }
  return out;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Lines for the blocks of Anthropic's server tools: a `server_tool_use` (the call: its tool and
 * input), and any `…_tool_result` other than `tool_result` (what came back: search results by
 * title and site, or the error code). Undefined for every other block.
 */
export function serverToolLines(block: unknown): string[] | undefined {
  if (!isObj(block) || typeof block.type !== 'string') return undefined;
  if (block.type === 'server_tool_use') return [`${INDENT}⚙ server tool ${oneLine(block.name)} ${clip(JSON.stringify(block.input), 200)}`];
  if (!block.type.endsWith('_tool_result') || block.type === 'tool_result') return undefined;
  const content = block.content;
  if (Array.isArray(content)) {
    const items = content.filter(isObj);
    const shown = items.slice(0, 5).map((r) => `${oneLine(r.title ?? r.type)}${typeof r.url === 'string' ? ` <${siteOf(r.url)}>` : ''}`);
    return [`${INDENT}  ← ${items.length} result${items.length === 1 ? '' : 's'}: ${clip(shown.join('; '), 300)}`];
  }
  if (isObj(content) && typeof content.error_code === 'string')
    return [`${INDENT}  ✗ ${oneLine(block.type)}: ${oneLine(content.error_code)}`];
  return [`${INDENT}  ← ${oneLine(block.type)}${isObj(content) && typeof content.type === 'string' ? ` (${oneLine(content.type)})` : ''}`];
}

/** A text block's citations, one line each (numbered, repeated sources once): title and URL. */
export function citationLines(block: unknown): string[] {
  const citations = isObj(block) && Array.isArray(block.citations) ? block.citations.filter(isObj) : [];
  const seen = new Set<string>();
  const out: string[] = [];
  for (const c of citations) {
    const where = typeof c.url === 'string' ? c.url : typeof c.document_title === 'string' ? c.document_title : oneLine(c.type);
    if (seen.has(where) || seen.size >= 10) continue;
    seen.add(where);
    out.push(
      `${INDENT}  [${seen.size}] ${clip(c.title ?? c.document_title ?? '', 100)}${c.title || c.document_title ? ' — ' : ''}${clip(where, 200)}`,
    );
  }
  return out;
}

function siteOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return clip(url, 60);
  }
}

/** The closing summary of a run. */
export function summaryLines(r: RunResult, url?: string): string[] {
  const u = r.usage;
  const lines = [
    `status: ${oneLine(r.status)} · stop reason: ${oneLine(r.stopReason ?? 'none')} · model calls: ${r.turns} · tokens: ${u.input_tokens} in / ${u.output_tokens} out` +
      (u.cache_read_input_tokens || u.cache_creation_input_tokens
        ? ` (cache: ${u.cache_read_input_tokens} read, ${u.cache_creation_input_tokens} written)`
        : ''),
  ];
  if (r.output !== undefined) lines.unshift(...outputLines(r.output));
  if (r.cost) lines.push(costLine(r.cost));
  if (r.stopDetail) lines.push(`stopped: ${reason(r.stopDetail)}`);
  if (r.error) lines.push(`error: ${reason(r.error)}`);
  lines.push(`workflow id: ${oneLine(r.workflowId)}`);
  if (url) lines.push(`Temporal UI: ${url}`);
  return lines;
}

/**
 * A run's structured output as indented JSON lines under `output:`. JSON text has no raw line
 * breaks inside strings, so each line is the JSON's own; {@link plain} removes what JSON leaves
 * unescaped (DEL, C1 controls).
 */
export function outputLines(output: unknown): string[] {
  return ['output:', ...(JSON.stringify(output, null, 2) ?? 'null').split('\n').map((l) => `${INDENT}${plain(l)}`)];
}

/** A run's cost in one line: the total, and each model's share when there are several. */
export function costLine(cost: CostLedger): string {
  const models = Object.entries(cost.byModel);
  const failed = models.reduce((n, [, s]) => n + s.failedAttempts, 0);
  const split = models.length > 1 ? ` (${models.map(([m, s]) => `${oneLine(m)} ${formatUsd(s.usd)}`).join(', ')})` : '';
  const unpriced = cost.unpriced?.length ? ` — no price for ${cost.unpriced.map(oneLine).join(', ')}` : '';
  const subs = Object.entries(cost.subAgents ?? {});
  const sub = subs.length
    ? ` · sub-agents: ${subs.map(([a, s]) => `${oneLine(a)} ${formatUsd(s.usd)} (${s.runs} run${s.runs === 1 ? '' : 's'})`).join(', ')}`
    : '';
  return `cost: ${formatUsd(cost.usd)}${split}${sub}${failed ? ` · ${failed} failed attempt(s) billed` : ''}${unpriced}`;
}
