/**
 * Length: one long run of the `longrun` agent (one `blob` tool call per turn with small outputs),
 * to see whether a turn late in the run costs what an early one does, how many executions
 * (continue-as-new) it takes, and how many history bytes each turn leaves behind.
 */
import type { Client } from '@temporalio/client';
import type { AgentDefinition } from '../agents/define.js';
import type { AgentRunner } from '../client/runner.js';
import { longRunBrain } from '../devtools/fake-api/long-run-brain.js';
import type { MessageParam } from '../contract/messages.js';
import { chainHistory } from './history-breakdown.js';
import { plainLoop } from './overhead.js';
import { gaps, mean, median } from './stats.js';
import { benchPrompt, requestTag, TimedBrain } from './timed-brain.js';

/** Tool output size per turn (small, as the brief asks). */
export const BLOB_BYTES = 1024;

/**
 * The fake model for the length test: `longRunBrain` for the durable run of `turns` turns, and
 * for the plain-loop comparisons ten more tool turns (a fresh 11-turn run, and 11 turns that
 * continue the finished durable conversation).
 */
export function lengthBrain(turns: number): TimedBrain {
  const main = longRunBrain({ turns, tool: 'blob', bytes: BLOB_BYTES });
  const head = longRunBrain({ turns: 11, tool: 'blob', bytes: BLOB_BYTES });
  const tail = longRunBrain({ turns: turns + 11, tool: 'blob', bytes: BLOB_BYTES });
  return new TimedBrain((req) => {
    const tag = requestTag(req.body) ?? '';
    return (tag.startsWith('plainhead-') ? head : tag.startsWith('plaintail-') ? tail : main)(req);
  }, true);
}

/** What the long run measured. */
export interface LengthResult {
  turns: number;
  wallMs: number;
  /** Request-to-request intervals of turns 1–10 and of the last 10 turns, ms. */
  first10: number[];
  last10: number[];
  /** The same for 10 turns at the middle of the run. */
  middle10: number[];
  /**
   * The plain loop (no Temporal) for 10 turns from an empty conversation, and for 10 turns that
   * continue the durable run's final conversation: how much of the slowdown is the conversation
   * size itself (the SDK and the API handle ~1 MB per request too).
   */
  plainFirst10: number[];
  plainLast10: number[];
  /** Every request-to-request interval of the run, ms (turn k at index k-1). */
  all: number[];
  /** Conversation bytes sent with the first, middle and last requests. */
  requestBytes: { first: number; middle: number; last: number; max: number };
  executions: number;
  historyBytes: number;
  maxExecutionBytes: number;
  maxExecutionEvents: number;
  elided: number;
}

/** Run `turns` turns of a longrun agent (the brain must be `longRunBrain` for `turns`). */
export async function measureLength(opts: {
  client: Client;
  runner: AgentRunner;
  brain: TimedBrain;
  agent: AgentDefinition;
  baseURL: string;
  turns: number;
  timeLimitMs: number;
}): Promise<LengthResult> {
  const { turns, brain } = opts;
  // Warm-up on a fresh worker process (JIT, workflow context, HTTP pool), so turns 1–10 are not
  // a cold start: a short run of the same agent, whose own turns are not measured.
  const warm = `length-warm-${Date.now()}`;
  await (await opts.runner.start(opts.agent.name, benchPrompt(warm, 20), { workflowId: warm, overrides: { maxTurns: 20 } })).result();
  const tag = `length-${turns}-${Date.now()}`;
  const t0 = performance.now();
  const run = await opts.runner.start(opts.agent.name, benchPrompt(tag, turns), { workflowId: tag });
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the ${turns}-turn run did not finish in ${opts.timeLimitMs / 1000} s`)), opts.timeLimitMs);
  });
  const r = await Promise.race([run.result(), limit]).finally(() => clearTimeout(timer));
  const wallMs = performance.now() - t0;
  if (r.status !== 'completed' || r.turns !== turns)
    throw new Error(`length run ended ${r.status} after ${r.turns} turns: ${r.error ?? ''}`);
  const g = gaps(brain.of(tag));
  const sizes = brain.sizes.get(tag) ?? [];
  const mid = Math.floor(turns / 2);
  const chain = await chainHistory(opts.client, tag);
  // The plain loop on the same conversation sizes: from scratch, and continuing the final conversation.
  await plainLoop(opts.baseURL, opts.agent, [{ role: 'user', content: benchPrompt(`plainhead-warm-${Date.now()}`, 11) }], 11); // JIT, keep-alive
  const headTag = `plainhead-${Date.now()}`;
  await plainLoop(opts.baseURL, opts.agent, [{ role: 'user', content: benchPrompt(headTag, 11) }], 11);
  const tailTag = `plaintail-${Date.now()}`;
  const [, ...rest] = r.messages;
  const continued: MessageParam[] = [
    { role: 'user', content: benchPrompt(tailTag, turns + 11) },
    ...rest,
    { role: 'user', content: 'Continue.' },
  ];
  await plainLoop(opts.baseURL, opts.agent, continued, 11);
  return {
    plainFirst10: gaps(brain.of(headTag)),
    plainLast10: gaps(brain.of(tailTag)),
    turns,
    wallMs,
    // Turn k lasts from request k to request k+1, so turns 1–10 are gaps 0..9 and the last ten
    // measurable turns are the ten gaps ending at the final request.
    all: g,
    first10: g.slice(0, 10),
    middle10: g.slice(mid - 5, mid + 5),
    last10: g.slice(-10),
    requestBytes: { first: sizes[0] ?? 0, middle: sizes[mid] ?? 0, last: sizes.at(-1) ?? 0, max: Math.max(0, ...sizes) },
    executions: chain.executions.length,
    historyBytes: chain.totalBytes,
    maxExecutionBytes: Math.max(...chain.executions.map((e) => e.bytes)),
    maxExecutionEvents: Math.max(...chain.executions.map((e) => e.events)),
    elided: r.elidedToolResults ?? 0,
  };
}

/** Console lines for the result. */
export function describeLength(r: LengthResult): string[] {
  const ratio = mean(r.last10) / mean(r.first10);
  return [
    `${r.turns} turns in ${(r.wallMs / 1000).toFixed(1)} s (${(r.wallMs / r.turns).toFixed(1)} ms/turn overall)`,
    `turns 1–10: mean ${mean(r.first10).toFixed(1)} ms (median ${median(r.first10).toFixed(1)}) · middle 10: mean ${mean(r.middle10).toFixed(1)} ms · ` +
      `last 10: mean ${mean(r.last10).toFixed(1)} ms (median ${median(r.last10).toFixed(1)}) → last/first ${ratio.toFixed(2)}× (target ≤ 1.1×)`,
    `plain loop, same conversation sizes: first 10 mean ${mean(r.plainFirst10).toFixed(1)} ms, at the final conversation mean ${mean(r.plainLast10).toFixed(1)} ms ` +
      `→ ${(mean(r.plainLast10) / mean(r.plainFirst10)).toFixed(2)}×; durable added per turn: first ${(mean(r.first10) - mean(r.plainFirst10)).toFixed(1)} ms, last ${(mean(r.last10) - mean(r.plainLast10)).toFixed(1)} ms`,
    `conversation sent per request: first ${(r.requestBytes.first / 1024).toFixed(1)} KB, middle ${(r.requestBytes.middle / 1024).toFixed(0)} KB, ` +
      `last ${(r.requestBytes.last / 1024).toFixed(0)} KB (max ${(r.requestBytes.max / 1024).toFixed(0)} KB; ${r.elided} old tool results elided)`,
    `${r.executions} executions (continue-as-new), history ${(r.historyBytes / 2 ** 20).toFixed(1)} MB in total = ${(r.historyBytes / r.turns / 1024).toFixed(1)} KB per turn; ` +
      `largest execution ${(r.maxExecutionBytes / 2 ** 20).toFixed(2)} MB / ${r.maxExecutionEvents} events`,
  ];
}
