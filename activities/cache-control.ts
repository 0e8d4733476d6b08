/**
 * Prompt caching placed by the runner. A request's prompt is tools, then system, then messages;
 * a `cache_control` mark on a block makes the prompt up to it a cache entry, and each later
 * request that starts with the same prefix reads it at a tenth of the input price. The runner
 * marks, within the API's limit of four:
 *
 * 1. the stable prefix: the last system block (or, without a system prompt, the last tool) —
 *    the same in every request of the run;
 * 2. the newest message's last block, so the next turn reads this turn's whole prompt;
 * 3. the previous user message's last block: the previous request's newest mark, where this
 *    request finds what that one wrote even when the turn added many blocks.
 *
 * The marks are placed on the request as it is sent, not in the workflow's history: the
 * conversation recorded stays the API's, and the placement can change without touching old runs.
 * A request that already carries marks (the caller's own) is sent as it is.
 */
import type { ModelRequestBase } from '../contract/config.js';
import type { MessageParam } from '../contract/messages.js';

/** The API's limit on blocks with `cache_control` in one request. */
export const MAX_CACHE_BREAKPOINTS = 4;

type Request = ModelRequestBase & { messages: MessageParam[] };
type Mark = { type: 'ephemeral'; ttl: '5m' | '1h' };

/** The request with the runner's breakpoints (see the module comment); the input is not modified. */
export function withCacheBreakpoints(request: Request, ttl: '5m' | '1h'): Request {
  if (JSON.stringify(request).includes('"cache_control"')) return request;
  const mark: Mark = { type: 'ephemeral', ttl };
  const out: Request = { ...request };
  let placed = 0;
  if (Array.isArray(out.system) ? out.system.length > 0 : typeof out.system === 'string' && out.system !== '') {
    const blocks = typeof out.system === 'string' ? [{ type: 'text' as const, text: out.system }] : out.system!;
    out.system = [...blocks.slice(0, -1), { ...blocks.at(-1)!, cache_control: mark }];
    placed++;
  } else if (out.tools && out.tools.length > 0) {
    out.tools = [...out.tools.slice(0, -1), { ...out.tools.at(-1)!, cache_control: mark } as (typeof out.tools)[number]];
    placed++;
  }
  const messages = [...out.messages];
  const newest = messages.length - 1;
  let previousUser = -1;
  for (let i = newest - 1; i >= 0; i--) {
    if (messages[i]?.role === 'user') {
      previousUser = i;
      break;
    }
  }
  for (const i of [newest, previousUser]) {
    if (i < 0 || placed >= MAX_CACHE_BREAKPOINTS) continue;
    const marked = markLastBlock(messages[i]!, mark);
    if (marked) {
      messages[i] = marked;
      placed++;
    }
  }
  out.messages = messages;
  return out;
}

/** The message with `cache_control` on its last block that can carry one, or undefined if none can. */
function markLastBlock(message: MessageParam, mark: Mark): MessageParam | undefined {
  const blocks = typeof message.content === 'string' ? [{ type: 'text' as const, text: message.content }] : message.content;
  for (let j = blocks.length - 1; j >= 0; j--) {
    const b = blocks[j]!;
    // Thinking blocks cannot be marked; an empty text block cannot be cached.
    if (b.type === 'thinking' || b.type === 'redacted_thinking' || (b.type === 'text' && b.text === '')) continue;
    const content: MessageParam['content'] = [...blocks];
    content[j] = { ...b, cache_control: mark } as (typeof content)[number];
    return { ...message, content } as MessageParam;
  }
  return undefined;
}
