/**
 * A scripted model for long runs: it asks for one tool call per turn until it has made
 * `turns - 1` of them, then answers. It counts its own turns from the conversation.
 */
import { text, toolUses } from './replies.js';
import type { FakeReply, RecordedRequest } from './server.js';

/** The brain for a run of `turns` model calls, each tool call asking for `bytes` of output. */
export function longRunBrain(opts: { turns: number; tool: string; bytes: number }): (req: RecordedRequest) => FakeReply {
  return (req) => {
    // Count from the last tool call's seed, not from the messages: the context policy may have
    // dropped old turns from the conversation.
    const last = [...req.body.messages].reverse().find((m) => m.role === 'assistant');
    const call = last && Array.isArray(last.content) ? last.content.find((b) => b.type === 'tool_use') : undefined;
    const done = call && call.type === 'tool_use' ? Number((call.input as { seed?: number }).seed ?? 0) : 0;
    if (done + 1 >= opts.turns) return text(`Finished after ${done + 1} turns.`);
    return toolUses([{ name: opts.tool, input: { bytes: opts.bytes, seed: done + 1 } }], { text: `Step ${done + 1}.` });
  };
}
