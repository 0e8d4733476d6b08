/**
 * The scripted "model" behind the support-triage agent's offline demo and tests. It plays a
 * plausible Claude: look up every order number the customer mentions with `get_order_status`
 * (in parallel, or one at a time when parallel tool use is disabled), then answer from the
 * tool results. Deterministic apart from generated ids, so replayed runs read the same.
 */
import type { ContentBlockParam, MessageParam, ToolResultBlockParam } from '@anthropic-ai/sdk/resources/messages';
import { message, text, textBlock, toolUse } from './replies.js';
import type { FakeReply, RecordedRequest } from './server.js';

/** The tool the triage agent offers for order lookups. */
export const ORDER_TOOL = 'get_order_status';

/** Order ids are runs of 4 or more digits. */
const ORDER_ID = /\d{4,}/g;

function blocks(m: MessageParam): ContentBlockParam[] {
  return typeof m.content === 'string' ? [{ type: 'text', text: m.content }] : m.content;
}

function textOf(m: MessageParam): string {
  return blocks(m)
    .map((b) => (b.type === 'text' ? b.text : ''))
    .join('\n');
}

function hasToolResults(m: MessageParam): boolean {
  return m.role === 'user' && blocks(m).some((b) => b.type === 'tool_result');
}

/** The side-effecting tool of the triage agent. */
export const TICKET_TOOL = 'create_support_ticket';

function offeredTool(req: RecordedRequest, name: string): boolean {
  return (req.body.tools ?? []).some((t) => 'name' in t && t.name === name);
}

/** Every order id in `s`, deduplicated, in order of first mention. */
export function findOrderIds(s: string): string[] {
  return [...new Set(s.match(ORDER_ID) ?? [])];
}

function resultText(r: ToolResultBlockParam): string {
  if (r.content === undefined) return '';
  if (typeof r.content === 'string') return r.content;
  return r.content.map((b) => (b.type === 'text' ? b.text : '')).join('');
}

/** One sentence about an order, from its tool result. */
function describe(orderId: string, r: ToolResultBlockParam | undefined): { line: string; missing: boolean } {
  if (!r) return { line: `I have no result for order ${orderId}.`, missing: false };
  const raw = resultText(r).trim();
  if (r.is_error) return { line: `I couldn't find order ${orderId}: ${raw.replace(/\.$/, '')}.`, missing: true };
  try {
    const data: unknown = JSON.parse(raw);
    if (typeof data === 'object' && data !== null && 'status' in data) {
      const d = data as { status: unknown; estimated_delivery?: unknown };
      const eta = typeof d.estimated_delivery === 'string' ? `, estimated delivery ${d.estimated_delivery}` : '';
      return { line: `Order ${orderId} is ${String(d.status)}${eta}.`, missing: false };
    }
  } catch {
    // Not JSON: quote the tool's text as it is.
  }
  return { line: `Order ${orderId}: "${raw}".`, missing: false };
}

/**
 * Decide the next assistant message for a triage conversation.
 *
 * - New customer text with order ids and the tool offered → a short text plus one
 *   `get_order_status` call per id (only the first when `disable_parallel_tool_use`).
 * - Tool results in, ids still unlooked (serial mode) → the next lookup.
 * - All looked up → an `end_turn` summary: status per found order, the error per missing one.
 * - No ids → ask for an order number.
 */
export function triageBrain(req: RecordedRequest): FakeReply {
  const { model, messages } = req.body;
  const opts = { model };
  const offered = (req.body.tools ?? []).some((t) => 'name' in t && t.name === ORDER_TOOL);
  const serial = req.body.tool_choice?.type !== 'none' && req.body.tool_choice?.disable_parallel_tool_use === true;

  // The question being worked on: the latest user message with text and no tool results.
  let askedAt = -1;
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (m && m.role === 'user' && !hasToolResults(m)) {
      askedAt = i;
      break;
    }
  }
  const asked = messages[askedAt];
  const ids = asked ? findOrderIds(textOf(asked)) : [];
  if (ids.length === 0) {
    return text('Could you share your order number? I can look it up for you.', opts);
  }
  if (!offered) {
    return text(`I can't look up order ${ids.join(', ')} right now. Please try again later.`, opts);
  }

  // What has been looked up since the question: tool_use id → order id, and results by tool_use id.
  const lookedUp = new Map<string, string>();
  const results = new Map<string, ToolResultBlockParam>();
  for (const m of messages.slice(askedAt + 1)) {
    for (const b of blocks(m)) {
      if (b.type === 'tool_use' && b.name === ORDER_TOOL) {
        const input = b.input as { order_id?: unknown };
        lookedUp.set(b.id, String(input.order_id));
      } else if (b.type === 'tool_result') {
        results.set(b.tool_use_id, b);
      }
    }
  }
  const done = new Set(lookedUp.values());
  const todo = ids.filter((id) => !done.has(id));
  // The customer asked for a ticket: open one (once) alongside the first lookups.
  const wantsTicket = /\bticket\b/i.test(asked ? textOf(asked) : '') && offeredTool(req, TICKET_TOOL);
  const ticketAsked = messages.slice(askedAt + 1).some((m) => blocks(m).some((b) => b.type === 'tool_use' && b.name === TICKET_TOOL));
  if (todo.length > 0) {
    const next = serial ? todo.slice(0, 1) : todo;
    const intro =
      done.size > 0
        ? 'Now the next order.'
        : next.length > 1 || ids.length > 1
          ? 'Let me look up those orders.'
          : 'Let me look up that order.';
    const ticket =
      wantsTicket && !ticketAsked && !serial
        ? [
            toolUse(TICKET_TOOL, {
              summary: `Customer asked about order(s) ${ids.join(', ')} and wants a follow-up.`,
              order_id: ids[0],
              priority: 'normal',
            }),
          ]
        : [];
    return message([textBlock(intro), ...next.map((id) => toolUse(ORDER_TOOL, { order_id: id })), ...ticket], 'tool_use', opts);
  }

  const resultByOrder = new Map<string, ToolResultBlockParam>();
  for (const [toolUseId, orderId] of lookedUp) {
    const r = results.get(toolUseId);
    if (r) resultByOrder.set(orderId, r);
  }
  const described = ids.map((id) => describe(id, resultByOrder.get(id)));
  const missing = described.filter((d) => d.missing).length;
  const lines = described.map((d) => d.line);
  if (missing > 0) lines.push(missing === 1 ? 'Please double-check that number.' : 'Please double-check those numbers.');
  for (const m of messages.slice(askedAt + 1)) {
    for (const b of blocks(m)) {
      if (b.type !== 'tool_use' || b.name !== TICKET_TOOL) continue;
      const r = results.get(b.id);
      const id = r && !r.is_error ? /"ticket_id":"([^"]+)"/.exec(resultText(r))?.[1] : undefined;
      lines.push(id ? `I opened support ticket ${id} for you.` : 'I could not open a support ticket.');
    }
  }
  return text(lines.join(' '), opts);
}
