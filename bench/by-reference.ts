/**
 * What passing the conversation by reference would save. Today every `callModel` input carries
 * the whole conversation, so a run's history grows with the square of its turns; by reference the
 * input would carry only what is new since the last call (the last user message) plus a pointer
 * (e.g. the execution and the number of messages the worker holds, or the event id of the last
 * call), the activity rebuilding the rest from a worker-side cache or the history.
 *
 * Measured offline, with the project's data converter (JSON payload converter + the gzip codec as
 * configured), on the bench's two conversations: the `echo` script (tiny tool results) and the
 * `longrun` shape (1 KB `blob` tool results). Per turn k: the bytes the input adds to history (the
 * encoded Payload), and the time to encode it (payload converter + codecs, as the worker does when
 * the workflow schedules it) and to decode it (as the activity does).
 */
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import proto from '@temporalio/proto';
import { dataConverter } from '../connection/codecs.js';
import type { MessageParam } from '../contract/messages.js';
import { median } from './stats.js';

const ProtoPayload = proto.temporal.api.common.v1.Payload;

/** The request fields besides messages, as the bench's toolbox agent sends them. */
const REQUEST_BASE = {
  model: 'claude-test-model',
  max_tokens: 512,
  system: 'You are a test agent.',
  tools: [
    {
      name: 'echo',
      description: 'Echo the text back after a delay.',
      input_schema: {
        type: 'object',
        properties: { text: { type: 'string' }, delay_ms: { type: 'integer', minimum: 0, maximum: 60000, default: 0 } },
        required: ['text'],
        additionalProperties: false,
      },
    },
  ],
};

const WORDS = Array.from({ length: 400 }, (_, i) => (i * 2654435761).toString(36).slice(0, 3 + (i % 7)));

/** A conversation of `turns` tool turns whose tool results are `resultBytes` long. */
export function conversation(turns: number, resultBytes: number): MessageParam[] {
  const messages: MessageParam[] = [{ role: 'user', content: `bench conversation turns=${turns}` }];
  // Text that compresses about as well as prose (≈ 3×), not a repeated line (which gzip shrinks 60×).
  let seed = 42;
  const word = () => WORDS[(seed = (seed * 1103515245 + 12345) % 2 ** 31) % WORDS.length]!;
  const text = (bytes: number) => {
    let t = '';
    while (t.length < bytes) t += `${word()} `;
    return t.slice(0, bytes);
  };
  for (let k = 1; k <= turns; k++) {
    const id = `toolu_01${String(k).padStart(22, '0')}`;
    messages.push({
      role: 'assistant',
      content: [
        { type: 'text', text: `Turn ${k}: calling the tool.` },
        { type: 'tool_use', id, name: 'echo', input: { text: `step ${k}`, delay_ms: 0 } },
      ],
    });
    const content = resultBytes > 0 ? text(resultBytes) : `echo: step ${k}`;
    messages.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: id, content }] });
  }
  return messages;
}

export interface ReferenceFigures {
  shape: string;
  turns: number;
  /** Encoded input bytes at the last turn: whole conversation / by reference. */
  lastBytes: { whole: number; byRef: number };
  /** Σ over all turns of the encoded input bytes (what the inputs add to history). */
  totalBytes: { whole: number; byRef: number };
  /** Median encode + decode time of the last turn's input, ms. */
  lastEncodeMs: { whole: number; byRef: number };
  lastDecodeMs: { whole: number; byRef: number };
  /** The same two sizes without the codec (AGENT_RUNNER_COMPRESSION=off). */
  lastRawBytes: { whole: number; byRef: number };
  totalRawBytes: { whole: number; byRef: number };
  /** JSON bytes of the conversation at the last turn (before the codec). */
  conversationJsonBytes: number;
}

async function encode(value: unknown, codecs = dataConverter().payloadCodecs ?? []): Promise<{ bytes: number; payloads: Payload[] }> {
  let payloads = [defaultPayloadConverter.toPayload(value)];
  for (const c of codecs) payloads = await c.encode(payloads);
  return { bytes: ProtoPayload.encode(payloads[0]!).finish().length, payloads };
}

async function decode(payloads: Payload[]): Promise<unknown> {
  const codecs = dataConverter().payloadCodecs ?? [];
  let ps = payloads;
  for (const c of [...codecs].reverse()) ps = await c.decode(ps);
  return defaultPayloadConverter.fromPayload(ps[0]!);
}

async function timed(fn: () => Promise<unknown>, reps: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return median(times);
}

const RUN_ID = '0196d1a2-7c3e-7a41-9f0e-5b8f2c1d4e6a';

/** The model-call input of turn k (1-based): whole, or the new messages plus a reference. */
function inputs(messages: MessageParam[], k: number) {
  // Before call k the conversation holds the prompt and k − 1 tool turns (2 messages each).
  const upTo = 1 + 2 * (k - 1);
  const whole = { request: { ...REQUEST_BASE, messages: messages.slice(0, upTo) }, turn: k, stallTimeout: '3s' };
  const fresh = k === 1 ? messages.slice(0, 1) : messages.slice(upTo - 1, upTo);
  const byRef = { request: REQUEST_BASE, conversation: { runId: RUN_ID, messagesBefore: upTo - fresh.length }, messages: fresh, turn: k };
  return { whole, byRef };
}

export async function measureByReference(turns: number, resultBytes: number, shape: string): Promise<ReferenceFigures> {
  const messages = conversation(turns, resultBytes);
  const totals = { whole: 0, byRef: 0 };
  const raw = { whole: 0, byRef: 0 };
  for (let k = 1; k <= turns; k++) {
    const i = inputs(messages, k);
    totals.whole += (await encode(i.whole)).bytes;
    totals.byRef += (await encode(i.byRef)).bytes;
    raw.whole += (await encode(i.whole, [])).bytes;
    raw.byRef += (await encode(i.byRef, [])).bytes;
  }
  const last = inputs(messages, turns);
  const w = await encode(last.whole);
  const r = await encode(last.byRef);
  const reps = 30;
  return {
    shape,
    turns,
    lastBytes: { whole: w.bytes, byRef: r.bytes },
    totalBytes: totals,
    lastRawBytes: { whole: (await encode(last.whole, [])).bytes, byRef: (await encode(last.byRef, [])).bytes },
    totalRawBytes: raw,
    lastEncodeMs: { whole: await timed(() => encode(last.whole), reps), byRef: await timed(() => encode(last.byRef), reps) },
    lastDecodeMs: { whole: await timed(() => decode(w.payloads), reps), byRef: await timed(() => decode(r.payloads), reps) },
    conversationJsonBytes: Buffer.byteLength(JSON.stringify(last.whole.request.messages)),
  };
}
