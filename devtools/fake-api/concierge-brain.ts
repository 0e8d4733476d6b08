/**
 * The scripted "model" behind the concierge's offline demo: order numbers go to `ask_triage`,
 * anything else to `ask_researcher` (both at once when the message has both); once the answers
 * are back, one reply quoting them. Deterministic apart from generated ids.
 */
import type { ContentBlockParam, MessageParam } from '@anthropic-ai/sdk/resources/messages';
import { text, toolUses, type ToolCall } from './replies.js';
import { findOrderIds } from './triage-brain.js';
import type { FakeReply, RecordedRequest } from './server.js';

function blocks(m: MessageParam | undefined): ContentBlockParam[] {
  if (!m) return [];
  return typeof m.content === 'string' ? [{ type: 'text', text: m.content }] : m.content;
}

/** The concierge's reply to one request. */
export function conciergeBrain(req: RecordedRequest): FakeReply {
  const messages = req.body.messages;
  const last = messages.at(-1);
  const results = blocks(last).flatMap((b) => (b.type === 'tool_result' ? [b] : []));
  if (results.length > 0) {
    const answers = results.map((r) =>
      typeof r.content === 'string' ? r.content : (r.content ?? []).map((c) => ('text' in c ? c.text : '')).join(''),
    );
    const failed = results.some((r) => r.is_error);
    return text(
      failed
        ? `I could not get every answer for you: ${answers.join(' ')}`
        : `Here is what I found. ${answers.map((a) => a.trim()).join('\n\n')}`,
    );
  }
  const question = blocks(last)
    .map((b) => (b.type === 'text' ? b.text : ''))
    .join(' ');
  // Sentences about orders or tickets go to triage as written; the rest to the researcher.
  const sentences = question
    .match(/[^.?!]+[.?!]?/g)
    ?.map((x) => x.trim())
    .filter(Boolean) ?? [question];
  const forTriage = sentences.filter((x) => findOrderIds(x).length > 0 || /\bticket\b/i.test(x));
  const rest = sentences.filter((x) => !forTriage.includes(x));
  const calls: ToolCall[] = [];
  if (forTriage.length > 0) calls.push({ name: 'ask_triage', input: { prompt: forTriage.join(' ') } });
  if (rest.length > 0) calls.push({ name: 'ask_researcher', input: { prompt: rest.join(' ') } });
  return toolUses(calls, { text: 'Let me ask the right colleagues.' });
}
