/**
 * People talking to a run while it lives: a session's next messages (the `send` update, answered
 * with that exchange's reply once the model has ended its turn; messages sent while the agent
 * works queue in order), the `end` update, and notes that steer any working run (the `say`
 * update: delivered with the next model call, after the current turn's tool results, and kept in
 * the transcript).
 */
import { condition, setHandler } from '@temporalio/workflow';
import type { MessageParam, TextBlockParam } from '../contract/messages.js';
import { emptyUsage, finalTextOf, type RunStopReason, type UsageTotals } from '../contract/run.js';
import { endUpdate, sayUpdate, sendUpdate, type SendArgs, type SendResult } from '../contract/workflow.js';
import { waitUntil } from './wait.js';

/** The longest message or note accepted, in characters (a prompt is limited by the conversation budget). */
const MAX_TEXT = 200_000;

function checkText(args: unknown, what: string): void {
  const text = typeof args === 'object' && args !== null ? (args as { text?: unknown }).text : undefined;
  if (typeof text !== 'string' || text.trim() === '') throw new Error(`${what} needs { text: "…" } with some text`);
  if (text.length > MAX_TEXT)
    throw new Error(`${what} is ${text.length} characters, over ${MAX_TEXT}: send it in parts, or give the agent a tool that fetches it`);
  const by = (args as { by?: unknown }).by;
  if (by !== undefined && (typeof by !== 'string' || by.length > 200)) throw new Error('by must be a short string naming who sends it');
}

/** Notes for the next model call (the `say` update), for one-shot runs and sessions alike. */
export class Notes {
  readonly queued: string[];

  constructor(carried: string[] = [], isDone: () => boolean) {
    this.queued = [...carried];
    setHandler(
      sayUpdate,
      (args) => {
        this.queued.push(args.text.trim());
        return { queued: this.queued.length };
      },
      {
        validator: (args) => {
          checkText(args, 'a note');
          if (isDone()) throw new Error('the run has ended: there is nothing to steer');
        },
      },
    );
  }

  /**
   * Deliver the queued notes into the conversation about to be sent: as text blocks after the
   * last user message's content (after its tool results). After an assistant message (a paused
   * turn, which must be resumed unchanged) they wait for the next user message.
   */
  deliver(messages: MessageParam[]): void {
    const last = messages.at(-1);
    if (this.queued.length === 0 || last?.role !== 'user') return;
    const notes: TextBlockParam[] = this.queued.splice(0).map((text) => ({ type: 'text', text }));
    const content = typeof last.content === 'string' ? [{ type: 'text' as const, text: last.content }] : last.content;
    messages[messages.length - 1] = { ...last, content: [...content, ...notes] };
  }
}

/** What a session carries to its next execution. */
export interface SessionCarry {
  exchanges: number;
  /** Messages accepted but not yet taken into the conversation. */
  queued: SendArgs[];
}

/** A session's messages, exchanges and end. */
export class Session {
  exchanges: number;
  readonly queue: SendArgs[];
  ended: { by?: string } | undefined;
  /** Accepted messages by number (1-based over the session), and the replies of finished exchanges. */
  private accepted: number;
  private readonly replies = new Map<number, SendResult>();
  /** The exchange under way: its number, and the run's turns and usage when it began. */
  private current: { n: number; turns: number; usage: UsageTotals } | undefined;

  constructor(carry: SessionCarry | undefined, isDone: () => boolean) {
    this.exchanges = carry?.exchanges ?? 0;
    this.queue = [...(carry?.queued ?? [])];
    this.accepted = this.exchanges + this.queue.length;
    setHandler(
      sendUpdate,
      async (args) => {
        const n = ++this.accepted;
        this.queue.push({ text: args.text, ...(args.by && { by: args.by }) });
        await condition(() => this.replies.has(n));
        const reply = this.replies.get(n)!;
        this.replies.delete(n);
        return reply;
      },
      {
        validator: (args) => {
          checkText(args, 'a message');
          if (isDone() || this.ended) throw new Error('the session has ended: start a new one');
        },
      },
    );
    setHandler(endUpdate, (args) => {
      this.ended = { ...(args?.by && { by: args.by }) };
      return { ended: true as const };
    });
  }

  /** Messages accepted and not yet answered. */
  get waiting(): boolean {
    return this.accepted > this.exchanges;
  }

  /**
   * The next message, taken into the conversation as a user message, or why there is none:
   * `idle` after `timeoutMs` without one, `ended` on the `end` update, `handoff` when `handoff()`
   * says the run should continue as new first.
   */
  async next(
    messages: MessageParam[],
    timeoutMs: number,
    handoff: () => boolean,
    run: { turns: number; usage: UsageTotals },
  ): Promise<'message' | 'idle' | 'ended' | 'handoff'> {
    const got = await waitUntil(
      () => this.queue.length > 0 || this.ended !== undefined || handoff(),
      timeoutMs,
      'session: the next message',
    );
    if (this.queue.length > 0) {
      const m = this.queue.shift()!;
      messages.push({ role: 'user', content: m.text });
      this.current = { n: this.exchanges + 1, turns: run.turns, usage: run.usage };
      return 'message';
    }
    if (this.ended) return 'ended';
    return got ? 'handoff' : 'idle';
  }

  /** The model ended its turn: answer the exchange's `send`. */
  finishExchange(messages: readonly MessageParam[], stopReason: RunStopReason | null, run: { turns: number; usage: UsageTotals }): void {
    const c = this.current;
    if (!c) return; // the run's first turn answered its prompt, not a message
    this.current = undefined;
    this.exchanges = c.n;
    const u = run.usage;
    this.replies.set(c.n, {
      exchange: c.n,
      reply: finalTextOf(messages),
      stopReason,
      turns: run.turns - c.turns,
      usage: {
        input_tokens: u.input_tokens - c.usage.input_tokens,
        output_tokens: u.output_tokens - c.usage.output_tokens,
        cache_creation_input_tokens: u.cache_creation_input_tokens - c.usage.cache_creation_input_tokens,
        cache_read_input_tokens: u.cache_read_input_tokens - c.usage.cache_read_input_tokens,
      },
    });
  }

  /** The run ends: every `send` still waiting gets the last state, so no handler is left behind. */
  closeAll(messages: readonly MessageParam[], stopReason: RunStopReason | null): void {
    for (let n = this.exchanges + 1; n <= this.accepted; n++) {
      this.replies.set(n, {
        exchange: n,
        reply: n === this.current?.n ? finalTextOf(messages) : '',
        stopReason,
        turns: 0,
        usage: emptyUsage(),
      });
    }
    this.queue.length = 0;
  }

  /** What the next execution needs. */
  carry(): SessionCarry {
    return { exchanges: this.exchanges, queued: [...this.queue] };
  }
}
