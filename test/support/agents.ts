/**
 * Agents used only by the tests: the real triage agent plus a "toolbox" agent whose tools
 * misbehave on purpose, all with short timeouts and retry intervals so faults resolve quickly.
 */
import { appendFileSync } from 'node:fs';
import { z } from 'zod';
import { agentTool, defineAgent, defineTool, ToolError, type AgentDefinition } from '../../agents/define.js';
import { researcherAgent } from '../../agents/researcher/agent.js';
import { triageAgent } from '../../agents/triage/agent.js';
import { createTicketOnce } from '../../agents/triage/tickets.js';
import { fastModelCall, longrunAgent } from '../../devtools/agents.js';

export { longrunAgent };

/** Calls of each tool seen by this process, by idempotency key (tests read them). */
export const toolCalls: { tool: string; key: string; attempt: number; input: unknown }[] = [];
/**
 * Tool events, also appended to the JSONL file AGENT_RUNNER_TEST_LOG when set, so tests can see
 * what worker *processes* did.
 */
export function logEvent(event: Record<string, unknown>): void {
  const file = process.env.AGENT_RUNNER_TEST_LOG;
  if (file) appendFileSync(file, `${JSON.stringify({ ...event, pid: process.pid, at: Date.now() })}\n`);
}

/** Idempotency keys of tool calls whose AbortSignal fired, with when. */
export const toolAborts: { key: string; at: number }[] = [];

const sleep = (ms: number, signal: AbortSignal, key: string) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        toolAborts.push({ key, at: Date.now() });
        reject(new Error('aborted'));
      },
      { once: true },
    );
  });

/** Echoes its text after `delay_ms`: shows concurrency and result ordering. */
const echo = defineTool({
  name: 'echo',
  description: 'Echo the text back after a delay.',
  inputSchema: z.object({ text: z.string(), delay_ms: z.number().int().min(0).max(60_000).default(0) }),
  run: async ({ text, delay_ms }, ctx) => {
    toolCalls.push({ tool: 'echo', key: ctx.idempotencyKey, attempt: ctx.attempt, input: { text, delay_ms } });
    logEvent({ event: 'start', tool: 'echo', key: ctx.idempotencyKey, attempt: ctx.attempt });
    await sleep(delay_ms, ctx.signal, ctx.idempotencyKey);
    return `echo: ${text}`;
  },
});

/** Throws a plain error on its first `fail_times` attempts, then succeeds. */
const flaky = defineTool({
  name: 'flaky',
  description: 'Fails a few times, then works.',
  inputSchema: { type: 'object', properties: { fail_times: { type: 'integer', minimum: 0 } }, required: ['fail_times'] },
  policy: { retry: { maximumAttempts: 4, initialInterval: '100ms', maximumInterval: '200ms' } },
  run: (input: { fail_times: number }, ctx) => {
    toolCalls.push({ tool: 'flaky', key: ctx.idempotencyKey, attempt: ctx.attempt, input });
    if (ctx.attempt <= input.fail_times) throw new Error(`flaky failure on attempt ${ctx.attempt}`);
    return { ok: true, attempt: ctx.attempt };
  },
});

/** Always a business failure. */
const refuse = defineTool({
  name: 'refuse',
  description: 'Always refuses.',
  inputSchema: z.object({}),
  strict: true,
  run: () => {
    throw new ToolError('not allowed');
  },
});

/** Sleeps (heartbeating) then opens a ticket: a slow side effect to crash a worker in. */
const slowTicket = defineTool({
  name: 'slow_ticket',
  description: 'Wait, then open a support ticket.',
  inputSchema: z.object({
    summary: z.string(),
    delay_ms: z.number().int().min(0).max(60_000),
    /** Kill this worker process right after the ticket is written, on the first attempt. */
    crash_after_ticket: z.boolean().default(false),
  }),
  policy: { heartbeatTimeout: '2s', retry: { maximumAttempts: 5, initialInterval: '100ms', maximumInterval: '500ms' } },
  run: async ({ summary, delay_ms, crash_after_ticket }, ctx) => {
    logEvent({ event: 'start', tool: 'slow_ticket', key: ctx.idempotencyKey, attempt: ctx.attempt });
    const end = Date.now() + delay_ms;
    while (Date.now() < end) {
      ctx.heartbeat();
      await sleep(Math.min(200, end - Date.now()), ctx.signal, ctx.idempotencyKey);
    }
    const { ticket, created } = createTicketOnce(ctx.idempotencyKey, { summary, order_id: null, priority: 'normal' });
    logEvent({ event: 'done', tool: 'slow_ticket', key: ctx.idempotencyKey, attempt: ctx.attempt, created, ticket: ticket.ticket_id });
    // The side effect happened but its completion is never reported: the worst case for exactly-once.
    if (crash_after_ticket && ctx.attempt === 1) process.kill(process.pid, 'SIGKILL');
    return { ticket_id: ticket.ticket_id };
  },
});

/** Never returns (until its attempt is cancelled by the timeout). */
const hang = defineTool({
  name: 'hang',
  description: 'Hangs.',
  inputSchema: z.object({}),
  policy: { timeout: '1s', retry: { maximumAttempts: 2, initialInterval: '100ms' } },
  run: (_input, ctx) => {
    logEvent({ event: 'start', tool: 'hang', key: ctx.idempotencyKey, attempt: ctx.attempt });
    return new Promise(() => undefined);
  },
});

/** Returns what cannot be a tool result. */
const badOutput = defineTool({
  name: 'bad_output',
  description: 'Returns a bigint or far too much text.',
  inputSchema: z.object({ kind: z.enum(['bigint', 'huge']) }),
  run: ({ kind }) => (kind === 'bigint' ? { n: 10n } : 'x'.repeat(3 * 1024 * 1024)),
});

/** An agent with misbehaving tools and fast retries. */
export const toolboxAgent = defineAgent({
  name: 'toolbox',
  model: 'claude-test-model',
  max_tokens: 512,
  system: 'You are a test agent.',
  tools: [echo, flaky, refuse, slowTicket, hang, badOutput],
  maxTurns: 10,
  modelCall: fastModelCall,
});

/** Pays an amount: a side effect a person approves first (always). Returns a receipt of `receipt_bytes`. */
const payment = defineTool({
  name: 'payment',
  description: 'Pay an amount.',
  inputSchema: z.object({ amount: z.number(), receipt_bytes: z.number().int().min(0).max(200_000).default(0) }),
  needsApproval: true,
  policy: { approvalTimeout: '1h' },
  run: ({ amount, receipt_bytes }, ctx) => {
    toolCalls.push({ tool: 'payment', key: ctx.idempotencyKey, attempt: ctx.attempt, input: { amount } });
    logEvent({ event: 'start', tool: 'payment', key: ctx.idempotencyKey, attempt: ctx.attempt });
    // A receipt that does not compress, so it really grows the history.
    const receipt = Array.from(
      { length: receipt_bytes },
      () => 'abcdefghijklmnopqrstuvwxyz0123456789'[Math.floor(Math.random() * 36)],
    ).join('');
    return `paid ${amount}${receipt_bytes ? ` ${receipt}` : ''}`;
  },
});

/** Echoes, but a command that starts with "sudo" needs a person's approval: decided per call, from the input. */
const guardedEcho = defineTool({
  name: 'guarded_echo',
  description: 'Echo a command; privileged ones need approval.',
  inputSchema: z.object({ command: z.string() }),
  needsApproval: ({ command }) => command.startsWith('sudo'),
  run: ({ command }, ctx) => {
    toolCalls.push({ tool: 'guarded_echo', key: ctx.idempotencyKey, attempt: ctx.attempt, input: { command } });
    return `ran: ${command}`;
  },
});

/**
 * An agent whose tools wait for people, with a small continue-as-new threshold so a run hands
 * over to a new execution while calls wait (or between a session's exchanges).
 */
export const gatekeeperAgent = defineAgent({
  name: 'gatekeeper',
  model: 'claude-test-model',
  max_tokens: 512,
  system: 'You are a careful test agent.',
  tools: [echo, payment, guardedEcho],
  maxTurns: 10,
  modelCall: fastModelCall,
  limits: { continueAsNewAtBytes: 48 * 1024 },
});

/** The triage agent with fast model retries (same tools and prompt). */
export const fastTriageAgent: AgentDefinition = { ...triageAgent, modelCall: fastModelCall };

/** The triage agent exactly as shipped, default model-call policy included (crash-recovery times). */
export const defaultsTriageAgent: AgentDefinition = { ...triageAgent, name: 'triage-defaults' };

/**
 * The toolbox with a system prompt long enough to cache (the API caches prefixes of 1024 tokens
 * and more) and a budget that pauses the run instead of ending it.
 */
export const spenderAgent = defineAgent({
  ...toolboxAgent,
  name: 'spender',
  system: `You are a test agent with a long, stable system prompt. ${'Follow the house rules to the letter. '.repeat(140)}`,
  budget: { onExceeded: 'pause', pauseTimeout: '1h' },
});

/** The same without runner-placed cache breakpoints. */
export const nocacheAgent = defineAgent({ ...spenderAgent, name: 'nocache', promptCaching: false, budget: undefined });

/** The researcher (web search, a server tool) with fast model retries. */
export const fastResearcherAgent: AgentDefinition = { ...researcherAgent, modelCall: fastModelCall };

/**
 * An agent that offers other agents as tools (sub-agents, each call a child workflow): triage,
 * the gatekeeper (whose tools wait for people), and itself (to reach the depth bound).
 */
export const delegatorAgent = defineAgent({
  name: 'delegator',
  model: 'claude-haiku-4-5',
  max_tokens: 512,
  system: 'You hand tasks to the right agent.',
  tools: [
    agentTool({ name: 'ask_triage', description: 'Ask the support triage agent about orders.', agent: 'triage' }),
    agentTool({ name: 'ask_gatekeeper', description: 'Ask the gatekeeper to run a guarded command.', agent: 'gatekeeper' }),
    agentTool({ name: 'delegate', description: 'Hand the whole task to another delegator.', agent: 'delegator' }),
    echo,
  ],
  maxTurns: 10,
  modelCall: fastModelCall,
});

/** Every agent a test worker serves. */
export const testAgents: AgentDefinition[] = [
  fastTriageAgent,
  toolboxAgent,
  longrunAgent,
  defaultsTriageAgent,
  gatekeeperAgent,
  spenderAgent,
  nocacheAgent,
  fastResearcherAgent,
  delegatorAgent,
];

/** The catalog the CLI checks agent names against (AGENT_RUNNER_AGENTS points here in tests). */
export const agents = testAgents;
