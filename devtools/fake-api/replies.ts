/**
 * Builders for scripted replies, so a test reads like the conversation it expects:
 * `fake.script(toolUses([{ name: 'get_order_status', input: { order_id: '48810' } }]), text('Shipped.'))`.
 */
import type {
  ContentBlock,
  RedactedThinkingBlock,
  StopReason,
  TextBlock,
  ThinkingBlock,
  ToolUseBlock,
  Usage,
} from '@anthropic-ai/sdk/resources/messages';
import { newId, type FakeReply } from './server.js';

/** A successful reply as scripted (the `message` kind of {@link FakeReply}). */
export type MessageReply = Extract<FakeReply, { kind: 'message' }>;

/** Optional fields of a message reply. */
export interface ReplyOptions {
  usage?: Partial<Usage>;
  model?: string;
  delayMs?: number;
  stopSequence?: string | null;
  /** A slow stream: this pause between SSE events … */
  chunkDelayMs?: number;
  /** … and this many deltas per block. */
  chunks?: number;
  /** Cut every tool input's JSON after this many characters, the stream still ending normally (a faulty proxy). */
  cutToolInputAt?: number;
}

/** One tool call to put in a reply; `id` defaults to a generated `toolu_…`. */
export interface ToolCall {
  name: string;
  input: Record<string, unknown>;
  id?: string;
}

/** A `text` response block. */
export function textBlock(text: string): TextBlock {
  return { type: 'text', text, citations: null };
}

/** A `tool_use` response block, e.g. `toolUse('get_order_status', { order_id: '48810' })`. */
export function toolUse(name: string, input: Record<string, unknown>, id: string = newId('toolu_')): ToolUseBlock {
  return { type: 'tool_use', id, name, input, caller: { type: 'direct' } };
}

/** A `thinking` response block; the signature is opaque and only needs to round-trip. */
export function thinkingBlock(thinking: string, signature = `sig_${Buffer.from(thinking).toString('base64').slice(0, 32)}`): ThinkingBlock {
  return { type: 'thinking', thinking, signature };
}

/** A `redacted_thinking` response block. */
export function redactedThinking(data = 'EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpP'): RedactedThinkingBlock {
  return { type: 'redacted_thinking', data };
}

/** A message reply with arbitrary content. */
export function message(content: ContentBlock[], stopReason: StopReason, opts: ReplyOptions = {}): MessageReply {
  const reply: MessageReply = { kind: 'message', content, stop_reason: stopReason };
  if (opts.usage) reply.usage = opts.usage;
  if (opts.model) reply.model = opts.model;
  if (opts.delayMs !== undefined) reply.delayMs = opts.delayMs;
  if (opts.stopSequence !== undefined) reply.stop_sequence = opts.stopSequence;
  if (opts.chunkDelayMs !== undefined) reply.chunkDelayMs = opts.chunkDelayMs;
  if (opts.chunks !== undefined) reply.chunks = opts.chunks;
  if (opts.cutToolInputAt !== undefined) reply.cutToolInputAt = opts.cutToolInputAt;
  return reply;
}

/** A plain text answer; stop reason `end_turn` unless given. */
export function text(t: string, opts: ReplyOptions & { stopReason?: StopReason } = {}): MessageReply {
  return message([textBlock(t)], opts.stopReason ?? 'end_turn', opts);
}

/**
 * One message with optional leading text and one `tool_use` block per call (parallel calls),
 * stop reason `tool_use` unless given.
 */
export function toolUses(calls: ToolCall[], opts: ReplyOptions & { text?: string; stopReason?: StopReason } = {}): MessageReply {
  const blocks: ContentBlock[] = opts.text ? [textBlock(opts.text)] : [];
  for (const c of calls) blocks.push(toolUse(c.name, c.input, c.id));
  return message(blocks, opts.stopReason ?? 'tool_use', opts);
}

/**
 * A reply ending for another reason: `max_tokens`, `stop_sequence`, `pause_turn`, `refusal`,
 * `model_context_window_exceeded`. Content defaults to a short text.
 */
export function stop(stopReason: StopReason, content: string | ContentBlock[] = 'Partial answer', opts: ReplyOptions = {}): MessageReply {
  const blocks = typeof content === 'string' ? [textBlock(content)] : content;
  const stopSequence = opts.stopSequence ?? (stopReason === 'stop_sequence' ? 'END' : undefined);
  return message(blocks, stopReason, stopSequence === undefined ? opts : { ...opts, stopSequence });
}

/** An HTTP error with the real API's error body. */
export function httpError(status: number, errorType: string, msg: string, headers?: Record<string, string>): FakeReply {
  return headers
    ? { kind: 'http-error', status, errorType, message: msg, headers }
    : { kind: 'http-error', status, errorType, message: msg };
}

/** 429 `rate_limit_error` with a `retry-after` header (seconds). */
export function rateLimited(retryAfterSeconds = 1): FakeReply {
  return httpError(429, 'rate_limit_error', 'Number of request tokens has exceeded your per-minute rate limit', {
    'retry-after': String(retryAfterSeconds),
  });
}

/** 529 `overloaded_error`. */
export function overloaded(): FakeReply {
  return httpError(529, 'overloaded_error', 'Overloaded');
}

/** 500 `api_error`. */
export function serverError(): FakeReply {
  return httpError(500, 'api_error', 'Internal server error');
}

/** 400 `invalid_request_error` with the given message. */
export function invalidRequest(msg: string): FakeReply {
  return httpError(400, 'invalid_request_error', msg);
}

/** Drop the connection without an answer. */
export function reset(): FakeReply {
  return { kind: 'reset' };
}

/** A stream that fails midway with `event: error` (default `overloaded_error`). */
export function streamError(errorType = 'overloaded_error', msg = 'Overloaded', afterEvents?: number): FakeReply {
  return afterEvents === undefined
    ? { kind: 'stream-error', errorType, message: msg }
    : { kind: 'stream-error', errorType, message: msg, afterEvents };
}

/** A stream that starts and then goes silent until the client aborts or the server closes. */
export function stall(afterEvents?: number): FakeReply {
  return afterEvents === undefined ? { kind: 'stall' } : { kind: 'stall', afterEvents };
}
