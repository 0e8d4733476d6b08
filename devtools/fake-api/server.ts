/**
 * A fake Claude Messages API: a real HTTP server on 127.0.0.1 that speaks `POST /v1/messages`
 * in JSON and SSE exactly as the real API does, so the real `@anthropic-ai/sdk` can be pointed
 * at it (`baseURL: fake.url`). Answers come from a FIFO script (tests) or a "brain" function
 * (offline demo). Anything out of script fails loudly instead of inventing an answer.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { ContentBlock, Message, MessageCreateParamsBase, StopReason, Usage } from '@anthropic-ai/sdk/resources/messages';
import { encodeSseEvent, messageToSseEvents, sseErrorEvent } from './sse.js';
import { PromptCache } from './prompt-cache.js';
import { validateMessagesRequest } from './validate.js';

/** One scripted answer. `message` is a normal reply; the other kinds simulate failures. */
export type FakeReply =
  | {
      kind: 'message';
      /** Response block shapes (text, tool_use, thinking, redacted_thinking). An empty tool_use `id` gets a generated `toolu_…`. */
      content: ContentBlock[];
      stop_reason: StopReason;
      stop_sequence?: string | null;
      /** Overrides of the estimated usage. */
      usage?: Partial<Usage>;
      /** Defaults to the request's model. */
      model?: string;
      /** Extra delay before answering, on top of `latencyMs`. */
      delayMs?: number;
      /** SSE only: pause between events (overrides the server's `chunkDelayMs`), for slow streams. */
      chunkDelayMs?: number;
      /** SSE only: how many deltas each text/JSON/thinking block is split into (default 3). */
      chunks?: number;
      /** SSE only: cut every tool input's JSON after this many characters (a faulty proxy), the stream ending normally. */
      cutToolInputAt?: number;
    }
  | { kind: 'http-error'; status: number; errorType: string; message: string; headers?: Record<string, string> }
  /** Destroy the socket without answering: a connection error in the SDK. */
  | { kind: 'reset' }
  /** SSE: `afterEvents` events after message_start, then `event: error`. Non-stream: the equivalent HTTP error. */
  | { kind: 'stream-error'; errorType: string; message: string; afterEvents?: number; usage?: Partial<Usage> }
  /** SSE: message_start plus `afterEvents` events, then silence until the client leaves. Non-stream: never answer. */
  | { kind: 'stall'; afterEvents?: number };

/** A scripted reply, or a function choosing one from the request. */
export type Responder = FakeReply | ((req: RecordedRequest) => FakeReply);

/** A request as the fake received it. */
export interface RecordedRequest {
  /** 0-based position in {@link FakeMessagesApi.requests}; messages in `problems` count from 1. */
  index: number;
  /** The parsed JSON body as sent (`{}` if it was not JSON); only requests that passed validation are sure to match the type. */
  body: MessageCreateParamsBase;
  headers: Record<string, string | undefined>;
  stream: boolean;
  /** `Date.now()` when the request arrived. */
  receivedAt: number;
  /** `Date.now()` when the client went away before the response was complete (an aborted stream). */
  abortedAt?: number;
}

/** Options for {@link FakeMessagesApi.start}. */
export interface FakeMessagesApiOptions {
  /** Answers requests once the script is exhausted (the offline demo's "model"). */
  brain?: (req: RecordedRequest) => FakeReply;
  /** If set, the key (`x-api-key`, or the `Authorization: Bearer` token SDK 1.12 sends) must equal it, else 401 authentication_error. */
  apiKey?: string;
  /** Delay before answering any request, in ms. Default 0. */
  latencyMs?: number;
  /** Delay between SSE events, in ms. Default 0. */
  chunkDelayMs?: number;
  /** Port to listen on; default a random free one. */
  port?: number;
  /**
   * An account rate limit, as the API enforces it: at most `requestsPerSecond` requests in any
   * one-second window; beyond it, 429 `rate_limit_error` with `retry-after`. Every response carries
   * the `anthropic-ratelimit-requests-*` headers.
   */
  rateLimit?: { requestsPerSecond: number };
  /**
   * The prompt cache's clock (default `Date.now`): a benchmark can let minutes pass between two
   * requests, and see 5-minute cache entries expire where 1-hour ones do not.
   */
  now?: () => number;
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A random id in the API's style, e.g. `newId('toolu_')` → `toolu_01Ab…`. */
export function newId(prefix: string, length = 24): string {
  return prefix + '01' + Array.from(randomBytes(length - 2), (b) => ALPHABET[b % ALPHABET.length]).join('');
}

/** HTTP status the real API uses for an error type (for stream errors asked of a non-stream request). */
function statusForErrorType(errorType: string): number {
  const table: Record<string, number> = { overloaded_error: 529, rate_limit_error: 429, invalid_request_error: 400 };
  return table[errorType] ?? 500;
}

/** A short description of the last message, so an out-of-script failure says where the test went astray. */
function summarizeLastMessage(body: MessageCreateParamsBase): string {
  const last = Array.isArray(body.messages) ? body.messages.at(-1) : undefined;
  if (!last) return 'no messages';
  const content = last.content;
  const parts = typeof content === 'string' ? [content] : content.map((b) => (b.type === 'text' ? b.text : `[${b.type}]`));
  const text = parts.join(' ').replace(/\s+/g, ' ');
  return `last ${last.role} message: ${text.length > 80 ? `${text.slice(0, 77)}...` : text}`;
}

function roughTokens(value: unknown): number {
  return Math.max(1, Math.ceil((JSON.stringify(value) ?? '').length / 4));
}

/** The fake Messages API server. Create with {@link FakeMessagesApi.start}; always `close()` it. */
export class FakeMessagesApi {
  /** Every request received, in order, including rejected ones. */
  readonly requests: RecordedRequest[] = [];
  /** Loud failures (out-of-script requests, throwing responders); tests should expect this empty. */
  readonly problems: string[] = [];
  readonly #queue: Responder[] = [];
  readonly #sockets = new Set<Socket>();
  readonly #wakers = new Set<() => void>();
  readonly #promptCache: PromptCache;
  /** When the requests of the last second arrived (for `rateLimit`). */
  readonly #recent: number[] = [];
  /** 429s sent for the rate limit. */
  rateLimited = 0;
  /** When each of those 429s was sent (`Date.now()`). */
  readonly rateLimitedAt: number[] = [];
  #closed = false;

  private constructor(
    /** Base URL for the SDK, `http://127.0.0.1:PORT`. */
    readonly url: string,
    private readonly server: Server,
    private readonly opts: FakeMessagesApiOptions,
  ) {
    this.#promptCache = new PromptCache(opts.now);
  }

  /** Start listening on 127.0.0.1. */
  static async start(opts: FakeMessagesApiOptions = {}): Promise<FakeMessagesApi> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    const api = new FakeMessagesApi(`http://127.0.0.1:${port}`, server, opts);
    server.on('connection', (socket) => {
      api.#sockets.add(socket);
      socket.on('close', () => api.#sockets.delete(socket));
    });
    server.on('request', (req, res) => {
      api.#handle(req, res).catch((err: unknown) => {
        api.problems.push(`fake model: internal failure: ${String(err)}`);
        if (!res.headersSent) api.#sendError(res, 500, 'api_error', 'Internal server error');
        else res.destroy();
      });
    });
    return api;
  }

  /** Append replies to the FIFO script; each accepted request takes the next one. */
  script(...replies: Responder[]): this {
    this.#queue.push(...replies);
    return this;
  }

  /** Scripted replies not yet used. */
  pending(): number {
    return this.#queue.length;
  }

  /** Drop the script, the recorded requests and the problems. */
  clear(): void {
    this.#queue.length = 0;
    this.requests.length = 0;
    this.problems.length = 0;
  }

  /** Stop the server and destroy open sockets (stalled streams included) so nothing hangs. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const wake of this.#wakers) wake();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.#sockets) socket.destroy();
    await closed;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    let parsed: unknown = undefined;
    try {
      parsed = JSON.parse(raw);
    } catch {
      // Recorded as {} below and rejected at validation, like the real API.
    }
    const body = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as MessageCreateParamsBase;
    const headers: Record<string, string | undefined> = {};
    for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(', ') : v;
    const rec: RecordedRequest = { index: this.requests.length, body, headers, stream: body.stream === true, receivedAt: Date.now() };
    this.requests.push(rec);
    res.on('close', () => {
      if (!res.writableEnded) rec.abortedAt = Date.now();
    });

    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'POST' || path !== '/v1/messages') return this.#sendError(res, 404, 'not_found_error', 'Not found');
    // SDK 1.12.0 sends the API key as `Authorization: Bearer …`; older clients use `x-api-key`.
    const bearer = /^Bearer\s+(.+)$/i.exec(headers.authorization ?? '')?.[1];
    const key = headers['x-api-key'] ?? bearer;
    if (!key) return this.#sendError(res, 401, 'authentication_error', 'x-api-key header is required');
    if (this.opts.apiKey !== undefined && key !== this.opts.apiKey) {
      return this.#sendError(res, 401, 'authentication_error', 'invalid x-api-key');
    }
    if (!headers['anthropic-version']) return this.#sendError(res, 400, 'invalid_request_error', 'anthropic-version: header is required');
    const invalid = parsed === undefined ? 'There was an error parsing the body of your request' : validateMessagesRequest(parsed);
    if (invalid) return this.#sendError(res, 400, 'invalid_request_error', invalid);
    const limit = this.#rateLimit(res);
    if (limit) return this.#sendError(res, 429, 'rate_limit_error', limit.message, limit.headers);

    const reply = this.#nextReply(rec);
    if (typeof reply === 'string') return this.#sendError(res, 400, 'invalid_request_error', reply);
    await this.#sleep((this.opts.latencyMs ?? 0) + (reply.kind === 'message' ? (reply.delayMs ?? 0) : 0));
    if (this.#closed || res.destroyed) return;
    await this.#produce(reply, rec, req, res);
  }

  /** Under `rateLimit`: the 429 to send, or undefined (the request's rate-limit headers set on `res`). */
  #rateLimit(res: ServerResponse): { message: string; headers: Record<string, string> } | undefined {
    const rps = this.opts.rateLimit?.requestsPerSecond;
    if (!rps) return undefined;
    const now = Date.now();
    while (this.#recent.length > 0 && this.#recent[0]! <= now - 1000) this.#recent.shift();
    const reset = new Date((this.#recent[0] ?? now) + 1000).toISOString();
    const headers = {
      'anthropic-ratelimit-requests-limit': String(rps),
      'anthropic-ratelimit-requests-remaining': String(Math.max(0, rps - this.#recent.length - 1)),
      'anthropic-ratelimit-requests-reset': reset,
    };
    if (this.#recent.length >= rps) {
      this.rateLimited++;
      this.rateLimitedAt.push(now);
      const wait = Math.max(1, Math.ceil(((this.#recent[0] ?? now) + 1000 - now) / 1000));
      return {
        message: `Number of request tokens has exceeded your per-minute rate limit (requests per second: ${rps})`,
        headers: { ...headers, 'anthropic-ratelimit-requests-remaining': '0', 'retry-after': String(wait) },
      };
    }
    this.#recent.push(now);
    for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
    return undefined;
  }

  /** The next reply from the script, else the brain; a string is a loud failure message. */
  #nextReply(rec: RecordedRequest): FakeReply | string {
    const n = rec.index + 1;
    const responder = this.#queue.shift() ?? this.opts.brain;
    if (!responder) {
      const problem = `fake model: no scripted answer for request ${n} (${summarizeLastMessage(rec.body)})`;
      this.problems.push(problem);
      return problem;
    }
    try {
      return typeof responder === 'function' ? responder(rec) : responder;
    } catch (err) {
      const problem = `fake model: responder threw for request ${n}: ${err instanceof Error ? err.message : String(err)}`;
      this.problems.push(problem);
      return problem;
    }
  }

  async #produce(reply: FakeReply, rec: RecordedRequest, req: IncomingMessage, res: ServerResponse): Promise<void> {
    switch (reply.kind) {
      case 'http-error':
        return this.#sendError(res, reply.status, reply.errorType, reply.message, reply.headers);
      case 'reset':
        req.socket.destroy();
        return;
      case 'message': {
        const message = this.#buildMessage(reply, rec);
        if (!rec.stream) return this.#sendJson(res, 200, message);
        const sse = {
          ...(reply.chunks && { chunks: reply.chunks }),
          ...(reply.cutToolInputAt !== undefined && { cutToolInputAt: reply.cutToolInputAt }),
        };
        return this.#stream(res, messageToSseEvents(message, sse), { chunkDelayMs: reply.chunkDelayMs });
      }
      case 'stream-error': {
        if (!rec.stream) return this.#sendError(res, statusForErrorType(reply.errorType), reply.errorType, reply.message);
        const partial = reply.usage ? { ...PARTIAL, usage: reply.usage } : PARTIAL;
        const events = messageToSseEvents(this.#buildMessage(partial, rec)).slice(0, -1); // never reach message_stop
        const sent = events.slice(0, 1 + Math.min(reply.afterEvents ?? 2, events.length - 1));
        return this.#stream(res, [...sent, sseErrorEvent(reply.errorType, reply.message)]);
      }
      case 'stall': {
        // A non-streaming stall simply never answers; the socket is destroyed by close().
        if (!rec.stream) return;
        const events = messageToSseEvents(this.#buildMessage(PARTIAL, rec)).slice(0, -1);
        return this.#stream(res, events.slice(0, 1 + (reply.afterEvents ?? 0)), { keepOpen: true });
      }
    }
  }

  #buildMessage(reply: Extract<FakeReply, { kind: 'message' }>, rec: RecordedRequest): Message {
    const content = reply.content.map((b) => (b.type === 'tool_use' && !b.id ? { ...b, id: newId('toolu_') } : b));
    const usage: Usage = {
      // Prompt caching accounted as the API does: read, written, and plain input (prompt-cache.ts).
      ...this.#promptCache.account(rec.body),
      output_tokens: roughTokens(content),
      server_tool_use: null,
      service_tier: 'standard',
      inference_geo: null,
      output_tokens_details: null,
      speed: null,
      ...reply.usage,
    };
    return {
      id: newId('msg_'),
      type: 'message',
      role: 'assistant',
      model: reply.model ?? rec.body.model,
      content,
      stop_reason: reply.stop_reason,
      stop_sequence: reply.stop_sequence ?? null,
      stop_details: null,
      container: null,
      diagnostics: null,
      usage,
    };
  }

  async #stream(
    res: ServerResponse,
    events: ReturnType<typeof messageToSseEvents>,
    opts: { keepOpen?: boolean; chunkDelayMs?: number | undefined } = {},
  ): Promise<void> {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'request-id': newId('req_') });
    res.flushHeaders();
    for (const [k, event] of events.entries()) {
      if (k > 0) await this.#sleep(opts.chunkDelayMs ?? this.opts.chunkDelayMs ?? 0);
      if (this.#closed || res.destroyed) return;
      res.write(encodeSseEvent(event));
    }
    if (!opts.keepOpen) res.end();
  }

  #sendJson(res: ServerResponse, status: number, payload: unknown, headers: Record<string, string> = {}, requestId = newId('req_')): void {
    res.writeHead(status, { ...headers, 'content-type': 'application/json', 'request-id': requestId });
    res.end(JSON.stringify(payload));
  }

  #sendError(res: ServerResponse, status: number, type: string, message: string, headers?: Record<string, string>): void {
    const requestId = newId('req_');
    this.#sendJson(res, status, { type: 'error', error: { type, message }, request_id: requestId }, headers, requestId);
  }

  /** A sleep that `close()` cuts short, so no handler outlives the server. */
  #sleep(ms: number): Promise<void> {
    if (ms <= 0 || this.#closed) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.#wakers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.#wakers.add(wake);
    });
  }
}

/** What a stream that fails or stalls midway had started to say. */
const PARTIAL: Extract<FakeReply, { kind: 'message' }> = {
  kind: 'message',
  content: [{ type: 'text', text: 'Let me think about that for a moment...', citations: null }],
  stop_reason: 'end_turn',
};

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
