/**
 * The fake model for the bench. Each run's prompt names it (`bench <tag> turns=<n>`); the brain
 * answers with one `echo` tool call per turn until the run's last turn, then `end_turn`, and
 * stamps every request with `performance.now()` under its tag. Per-turn durations are the gaps
 * between a run's successive model requests, in sub-millisecond resolution (the fake's own
 * `receivedAt` is whole milliseconds).
 */
import type { MessageCreateParamsBase } from '@anthropic-ai/sdk/resources/messages';
import { text, toolUses } from '../devtools/fake-api/replies.js';
import type { FakeReply, RecordedRequest } from '../devtools/fake-api/server.js';

/** The prompt of a scripted bench run. */
export function benchPrompt(tag: string, turns: number): string {
  return `bench ${tag} turns=${turns}`;
}

/**
 * The text of a request's first user message: a string, or its first text block (the runner sends
 * the prompt as a block when it places a prompt-cache breakpoint on it).
 */
function firstText(body: MessageCreateParamsBase): string | undefined {
  const first = body.messages?.[0]?.content;
  if (typeof first === 'string') return first;
  for (const b of first ?? []) if (b.type === 'text') return b.text;
  return undefined;
}

/** The tag of the run a request belongs to (from its first user message), or undefined. */
export function requestTag(body: MessageCreateParamsBase): string | undefined {
  return firstText(body)?.match(/^bench (\S+)/)?.[1];
}

/** Brain plus per-run request times. */
export class TimedBrain {
  /** performance.now() of each request, by run tag. */
  readonly times = new Map<string, number[]>();
  /** Body sizes (bytes, from content-length: no re-serialising on the fake's hot path) of each request, by run tag, when asked to keep them. */
  readonly sizes = new Map<string, number[]>();

  constructor(
    /** Answers a request; default: the echo script read from the prompt. */
    private readonly answer: (req: RecordedRequest) => FakeReply = echoScript,
    private readonly keepSizes = false,
  ) {}

  /** The function to give `FakeMessagesApi.start({ brain })`. */
  readonly brain = (req: RecordedRequest): FakeReply => {
    const now = performance.now();
    const tag = requestTag(req.body) ?? 'untagged';
    let list = this.times.get(tag);
    if (!list) this.times.set(tag, (list = []));
    list.push(now);
    if (this.keepSizes) {
      let sizes = this.sizes.get(tag);
      if (!sizes) this.sizes.set(tag, (sizes = []));
      sizes.push(Number(req.headers['content-length'] ?? 0));
    }
    return this.answer(req);
  };

  /** Request times of a run. */
  of(tag: string): number[] {
    return this.times.get(tag) ?? [];
  }
}

/** One `echo` call (no delay) per turn until the prompt's `turns=`, then an end_turn answer. */
export function echoScript(req: RecordedRequest): FakeReply {
  const turns = Number(firstText(req.body)?.match(/turns=(\d+)/)?.[1] ?? 1);
  const done = req.body.messages.filter((m) => m.role === 'assistant').length;
  if (done + 1 >= turns) return text(`Done after ${done + 1} turns.`);
  return toolUses([{ name: 'echo', input: { text: `step ${done + 1}`, delay_ms: 0 } }]);
}
