/**
 * Overhead per turn: the durable loop (Temporal workflow + activities on a worker process) against
 * a plain in-process loop (the real Anthropic SDK and the same `echo` handler, no Temporal), on
 * the same scripted conversation against the same fake Messages API at 0 ms model latency.
 */
import Anthropic from '@anthropic-ai/sdk';
import type { MessageParam, ToolResultBlockParam } from '@anthropic-ai/sdk/resources/messages';
import type { AgentDefinition } from '../agents/define.js';
import { AgentRegistry } from '../agents/registry.js';
import type { AgentRunner } from '../client/runner.js';
import { toolboxAgent } from './agents.js';
import type { Client } from '@temporalio/client';
import type { RunInput, RunResult } from '../contract/run.js';
import { AGENT_WORKFLOW_TYPE } from '../contract/workflow.js';
import { turnBreakdown, type TurnSegments } from './history-breakdown.js';
import { cpuMeter } from './processes.js';
import { BENCH_API_KEY, perTurnCalls } from './stack.js';
import { gaps } from './stats.js';
import { benchPrompt, type TimedBrain } from './timed-brain.js';

/** What one overhead measurement found. */
export interface OverheadResult {
  /** Request-to-request intervals of the durable runs, ms. */
  durable: number[];
  /** Same for the plain loop, ms. */
  plain: number[];
  /** History breakdown of every measured durable turn. */
  segments: TurnSegments[];
  eventsPerTurn: number;
  wftPerTurn: number;
  upsertsPerTurn: number;
  /** CPU ms per durable turn, by process (server, worker, bench). */
  cpuPerTurn: CpuPerTurn;
  /** The server's persistence calls per durable turn, by operation. */
  persistencePerTurn: Map<string, number>;
  /** The same durable runs started without search attributes (no upserts), when asked. */
  noSearchAttributes: { durable: number[]; cpuPerTurn: CpuPerTurn } | undefined;
}

/**
 * The plain loop: stream a reply with the real SDK, run its tool calls in-process with the agent's
 * own handlers, append the results, repeat. Starts from `messages` (a prompt, or a long
 * conversation to continue). No context policy: callers keep it short enough.
 */
export async function plainLoop(baseURL: string, agent: AgentDefinition, start: MessageParam[], maxTurns: number): Promise<number> {
  const client = new Anthropic({ apiKey: BENCH_API_KEY, baseURL, maxRetries: 0 });
  const registry = new AgentRegistry([agent]);
  const { request } = registry.resolve(agent.name);
  const messages: MessageParam[] = [...start];
  let turns = 0;
  while (turns < maxTurns) {
    const message = await client.messages.stream({ ...request, messages }).finalMessage();
    turns++;
    messages.push({ role: 'assistant', content: message.content });
    if (message.stop_reason !== 'tool_use') break;
    const results = await Promise.all(
      message.content.flatMap((block) => {
        if (block.type !== 'tool_use') return [];
        return [
          (async (): Promise<ToolResultBlockParam> => {
            const tool = registry.tool(agent.name, block.name);
            const checked = tool?.validate(block.input);
            if (!tool || !checked?.ok) return { type: 'tool_result', tool_use_id: block.id, content: 'bad tool call', is_error: true };
            const output = await tool.run(checked.value, {
              idempotencyKey: block.id,
              signal: new AbortController().signal,
              heartbeat: () => undefined,
              attempt: 1,
              workflowId: 'plain',
              toolUseId: block.id,
            });
            return { type: 'tool_result', tool_use_id: block.id, content: typeof output === 'string' ? output : JSON.stringify(output) };
          })(),
        ];
      }),
    );
    messages.push({ role: 'user', content: results });
  }
  return turns;
}

/**
 * One durable run of the echo script; returns once it has completed. `searchAttributes: false`
 * starts it without the run's search attributes (as a foreign client would), so the workflow
 * skips its upserts: a diagnostic of what the visibility updates cost.
 */
async function durableRun(
  runner: AgentRunner,
  client: Client,
  taskQueue: string,
  tag: string,
  turns: number,
  searchAttributes = true,
): Promise<void> {
  const input: RunInput = { agent: 'toolbox', prompt: benchPrompt(tag, turns), overrides: { maxTurns: turns } };
  const r: RunResult = searchAttributes
    ? await (await runner.start('toolbox', input.prompt!, { workflowId: tag, overrides: input.overrides! })).result()
    : ((await (await client.workflow.start(AGENT_WORKFLOW_TYPE, { taskQueue, workflowId: tag, args: [input] })).result()) as RunResult);
  if (r.status !== 'completed' || r.turns !== turns)
    throw new Error(`overhead run ${tag} ended ${r.status} after ${r.turns} turns: ${r.error ?? ''}`);
}

/** CPU ms per durable turn of each metered process. */
export type CpuPerTurn = Record<string, number>;

/**
 * Warm up both loops, then alternate plain and durable runs of `turns` turns (alternating keeps
 * slow drift, e.g. the server's background work, from favouring one side). CPU is metered over
 * the durable runs only.
 */
export async function measureOverhead(opts: {
  label: string;
  client: Client;
  runner: AgentRunner;
  taskQueue: string;
  brain: TimedBrain;
  baseURL: string;
  turns: number;
  runs: number;
  pids: Record<string, number>;
  /** The server's persistence calls so far (Stack.persistenceCalls). */
  persistenceCalls: () => Promise<Map<string, number>>;
  /** Also run durable runs without search-attribute upserts (diagnostic). */
  withoutSearchAttributes?: boolean;
}): Promise<OverheadResult> {
  const { label, brain, turns } = opts;
  // Warm-up: JIT, the worker's workflow context, the sticky queue, HTTP keep-alive pools.
  for (let w = 0; w < 2; w++) {
    await plainLoop(opts.baseURL, toolboxAgent, [{ role: 'user', content: benchPrompt(`${label}-warm-plain-${w}`, 10) }], 10);
    await durableRun(opts.runner, opts.client, opts.taskQueue, `${label}-warm-durable-${w}-${Date.now()}`, 10);
  }
  const result: OverheadResult = {
    durable: [],
    plain: [],
    segments: [],
    eventsPerTurn: 0,
    wftPerTurn: 0,
    upsertsPerTurn: 0,
    cpuPerTurn: {},
    persistencePerTurn: new Map(),
    noSearchAttributes: undefined,
  };
  const cpuTotals: Record<string, number> = {};
  const metered = async (fn: () => Promise<void>, into: Record<string, number>) => {
    const meter = cpuMeter(opts.pids);
    await fn();
    for (const [k, v] of Object.entries(meter.stop())) into[k] = (into[k] ?? 0) + v;
  };
  const noSa = { durable: [] as number[], cpu: {} as Record<string, number> };
  const callsBefore = await opts.persistenceCalls();
  for (let r = 0; r < opts.runs; r++) {
    const plainTag = `${label}-plain-${r}-${Date.now()}`;
    await plainLoop(opts.baseURL, toolboxAgent, [{ role: 'user', content: benchPrompt(plainTag, turns) }], turns);
    result.plain.push(...gaps(brain.of(plainTag)));
    const durableTag = `${label}-durable-${r}-${Date.now()}`;
    await metered(() => durableRun(opts.runner, opts.client, opts.taskQueue, durableTag, turns), cpuTotals);
    result.durable.push(...gaps(brain.of(durableTag)));
    const b = await turnBreakdown(opts.client, durableTag);
    result.segments.push(...b.turns);
    result.eventsPerTurn = b.eventsPerTurn;
    result.wftPerTurn = b.wftPerTurn;
    result.upsertsPerTurn = b.upsertsPerTurn;
  }
  result.persistencePerTurn = perTurnCalls(callsBefore, await opts.persistenceCalls(), turns * opts.runs);
  for (let r = 0; opts.withoutSearchAttributes && r < opts.runs; r++) {
    const tag = `${label}-nosa-${r}-${Date.now()}`;
    await metered(() => durableRun(opts.runner, opts.client, opts.taskQueue, tag, turns, false), noSa.cpu);
    noSa.durable.push(...gaps(brain.of(tag)));
  }
  const perTurn = (totals: Record<string, number>) =>
    Object.fromEntries(Object.entries(totals).map(([k, v]) => [k, v / (turns * opts.runs)]));
  result.cpuPerTurn = perTurn(cpuTotals);
  if (opts.withoutSearchAttributes) result.noSearchAttributes = { durable: noSa.durable, cpuPerTurn: perTurn(noSa.cpu) };
  return result;
}
