/**
 * Turning a complete assistant `Message` into the server-sent-event sequence the real
 * Messages API would stream for it (REFERENCE.md §14). Pure: no I/O, no randomness, so a
 * test can assert on the exact frames and the server can pace them however it likes.
 */
import type {
  ContentBlock,
  Message,
  RawContentBlockDeltaEvent,
  RawContentBlockStartEvent,
  RawMessageStreamEvent,
} from '@anthropic-ai/sdk/resources/messages';

/** One SSE frame: the `event:` name and the JSON `data:` payload (whose `type` repeats the name). */
export interface SseEvent {
  event: string;
  data: RawMessageStreamEvent | { type: 'ping' } | { type: 'error'; error: { type: string; message: string } };
}

/** Options for {@link messageToSseEvents}. */
export interface SseOptions {
  /** Into how many deltas text, thinking and tool input are split (at least 1). Default 3. */
  chunks?: number;
  /**
   * A faulty network or proxy: every tool input's JSON is cut after this many characters, while
   * the stream still ends normally (block stop, `stop_reason`, `message_stop`).
   */
  cutToolInputAt?: number;
}

/** Encode one event as it goes on the wire: `event: …\ndata: …\n\n`. */
export function encodeSseEvent(e: SseEvent): string {
  return `event: ${e.event}\ndata: ${JSON.stringify(e.data)}\n\n`;
}

/** The `event: error` frame the real API sends when a stream fails after it has started. */
export function sseErrorEvent(errorType: string, message: string): SseEvent {
  return { event: 'error', data: { type: 'error', error: { type: errorType, message } } };
}

/**
 * Split a string into at most `n` non-empty pieces, on code point boundaries so that no
 * delta carries half of a surrogate pair.
 */
export function splitChunks(s: string, n: number): string[] {
  const points = Array.from(s);
  if (points.length === 0) return [];
  const size = Math.ceil(points.length / Math.max(1, n));
  const out: string[] = [];
  for (let i = 0; i < points.length; i += size) out.push(points.slice(i, i + size).join(''));
  return out;
}

function ev(data: RawMessageStreamEvent): SseEvent {
  return { event: data.type, data };
}

/** The `content_block_start` payload: the block with its streamed fields emptied. */
function startBlock(block: ContentBlock): RawContentBlockStartEvent['content_block'] {
  switch (block.type) {
    case 'text': {
      // Citations arrive as citations_delta events; keep an explicit `citations: null` so a
      // streamed reply reconstructs the same object as the JSON one.
      const { text: _text, citations, ...rest } = block;
      return citations === undefined ? ({ ...rest, text: '' } as typeof block) : { ...rest, text: '', citations: null };
    }
    case 'tool_use':
      return { ...block, input: {}, caller: block.caller ?? { type: 'direct' } };
    case 'server_tool_use':
      return { ...block, input: {} };
    case 'thinking':
      return { ...block, thinking: '', signature: '' };
    default:
      // redacted_thinking and server-tool results arrive whole in their start event.
      return block;
  }
}

/** The deltas that rebuild `block` from its start payload. */
function blockDeltas(block: ContentBlock, n: number, cutToolInputAt?: number): RawContentBlockDeltaEvent['delta'][] {
  switch (block.type) {
    case 'text': {
      const deltas: RawContentBlockDeltaEvent['delta'][] = splitChunks(block.text, n).map((text) => ({ type: 'text_delta', text }));
      for (const citation of block.citations ?? []) deltas.push({ type: 'citations_delta', citation });
      return deltas;
    }
    case 'tool_use':
    case 'server_tool_use': {
      // The real API often opens with an empty partial_json; the SDK must cope with that.
      const whole = JSON.stringify(block.input ?? {});
      const json = cutToolInputAt === undefined ? whole : whole.slice(0, cutToolInputAt);
      return ['', ...splitChunks(json, n)].map((partial_json) => ({ type: 'input_json_delta', partial_json }));
    }
    case 'thinking':
      return [
        ...splitChunks(block.thinking, n).map((thinking) => ({ type: 'thinking_delta' as const, thinking })),
        { type: 'signature_delta', signature: block.signature },
      ];
    default:
      return [];
  }
}

/**
 * The full event sequence for `message`: message_start (empty content, output_tokens 1),
 * a ping, then start/deltas/stop per block, then message_delta (stop reason and final
 * output_tokens) and message_stop.
 */
export function messageToSseEvents(message: Message, opts: SseOptions = {}): SseEvent[] {
  const n = opts.chunks ?? 3;
  const events: SseEvent[] = [
    ev({
      type: 'message_start',
      message: { ...message, content: [], stop_reason: null, stop_sequence: null, usage: { ...message.usage, output_tokens: 1 } },
    }),
    { event: 'ping', data: { type: 'ping' } },
  ];
  message.content.forEach((block, index) => {
    events.push(ev({ type: 'content_block_start', index, content_block: startBlock(block) }));
    for (const delta of blockDeltas(block, n, opts.cutToolInputAt)) events.push(ev({ type: 'content_block_delta', index, delta }));
    events.push(ev({ type: 'content_block_stop', index }));
  });
  const u = message.usage;
  events.push(
    ev({
      type: 'message_delta',
      delta: {
        stop_reason: message.stop_reason,
        stop_sequence: message.stop_sequence,
        stop_details: message.stop_details,
        container: message.container,
      },
      usage: {
        output_tokens: u.output_tokens,
        input_tokens: u.input_tokens,
        cache_creation_input_tokens: u.cache_creation_input_tokens,
        cache_read_input_tokens: u.cache_read_input_tokens,
        server_tool_use: u.server_tool_use,
        output_tokens_details: u.output_tokens_details,
      },
    }),
    ev({ type: 'message_stop' }),
  );
  return events;
}
