/**
 * Prompt caching as the real Messages API accounts for it, close enough for tests and the
 * benchmark to show real figures: a request's prompt is tools, then system, then messages; every
 * block marked `cache_control` ends a cacheable prefix. The longest marked prefix seen before (and
 * not expired) is read from the cache (`cache_read_input_tokens`); the prefix up to the last mark
 * is written (`cache_creation_input_tokens`, split by TTL) when it is at least the minimum
 * cacheable length; the rest is `input_tokens`. Tokens are estimated from JSON length (4
 * characters a token), as the rest of the fake does.
 */
import { createHash } from 'node:crypto';
import type { MessageCreateParamsBase } from '@anthropic-ai/sdk/resources/messages';

/** The API's minimum cacheable prompt length for most models (Haiku's is 2048). */
export const MIN_CACHEABLE_TOKENS = 1024;
/** The API allows at most this many `cache_control` blocks per request. */
export const MAX_BREAKPOINTS = 4;

/** Token counts of one request, as the API's usage reports them. */
export interface CacheUsage {
  input_tokens: number;
  cache_read_input_tokens: number;
  cache_creation_input_tokens: number;
  cache_creation: { ephemeral_5m_input_tokens: number; ephemeral_1h_input_tokens: number };
}

interface Segment {
  tokens: number;
  json: string;
  ttl?: '5m' | '1h';
}

const tokensOf = (json: string) => Math.max(1, Math.ceil(json.length / 4));

function ttlOf(block: unknown): '5m' | '1h' | undefined {
  const cc =
    typeof block === 'object' && block !== null
      ? (block as { cache_control?: { type?: string; ttl?: string } | null }).cache_control
      : undefined;
  if (!cc || cc.type !== 'ephemeral') return undefined;
  return cc.ttl === '1h' ? '1h' : '5m';
}

/** The prompt as segments in the API's order (tools, system, messages' blocks), without the marks themselves. */
export function promptSegments(body: MessageCreateParamsBase): Segment[] {
  const strip = (b: unknown) => {
    if (typeof b !== 'object' || b === null) return b;
    const { cache_control: _cc, ...rest } = b as Record<string, unknown>;
    return rest;
  };
  const out: Segment[] = [];
  const push = (b: unknown) => {
    const json = JSON.stringify(strip(b)) ?? '';
    const ttl = ttlOf(b);
    out.push({ tokens: tokensOf(json), json, ...(ttl && { ttl }) });
  };
  for (const t of body.tools ?? []) push(t);
  if (typeof body.system === 'string') push({ type: 'text', text: body.system });
  else for (const b of body.system ?? []) push(b);
  for (const m of body.messages) {
    const blocks = typeof m.content === 'string' ? [{ type: 'text', text: m.content }] : m.content;
    for (const b of blocks) push({ role: m.role, ...(b as object) });
  }
  return out;
}

/** How many blocks of a request carry `cache_control` (the API allows {@link MAX_BREAKPOINTS}). */
export function breakpointCount(body: MessageCreateParamsBase): number {
  return promptSegments(body).filter((s) => s.ttl).length;
}

/** The fake's prompt cache: prefix hashes with their expiry. */
export class PromptCache {
  private readonly entries = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Account one request: what it reads, what it writes, what is plain input. Updates the cache. */
  account(body: MessageCreateParamsBase): CacheUsage {
    const segments = promptSegments(body);
    const total = segments.reduce((n, s) => n + s.tokens, 0);
    const hash = createHash('sha256').update(body.model);
    const marks: { end: number; key: string; ttl: '5m' | '1h'; tokens: number }[] = [];
    let tokens = 0;
    segments.forEach((s, i) => {
      hash.update(s.json);
      tokens += s.tokens;
      if (s.ttl) marks.push({ end: i, key: hash.copy().digest('hex'), ttl: s.ttl, tokens });
    });
    const now = this.now();
    let read = 0;
    for (const m of marks) {
      const expires = this.entries.get(m.key);
      if (expires !== undefined && expires > now) {
        read = m.tokens;
        this.entries.set(m.key, now + ms(m.ttl)); // a hit refreshes the entry
      }
    }
    const last = marks.at(-1);
    let creation = 0;
    const split = { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 };
    if (last && last.tokens >= MIN_CACHEABLE_TOKENS && last.tokens > read) {
      creation = last.tokens - read;
      for (const m of marks)
        if (!this.entries.has(m.key) || (this.entries.get(m.key) ?? 0) <= now) this.entries.set(m.key, now + ms(m.ttl));
      split[last.ttl === '1h' ? 'ephemeral_1h_input_tokens' : 'ephemeral_5m_input_tokens'] = creation;
    }
    return {
      input_tokens: Math.max(0, total - read - creation),
      cache_read_input_tokens: read,
      cache_creation_input_tokens: creation,
      cache_creation: split,
    };
  }
}

function ms(ttl: '5m' | '1h'): number {
  return ttl === '1h' ? 3_600_000 : 300_000;
}
