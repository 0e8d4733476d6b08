/**
 * Input from outside that used to leave a run stuck for good or run a tool on bad input: signal
 * arguments, API responses (usage, truncated tool JSON, duplicate ids, tool names), result sizes.
 * Each ends as an `is_error` result, a retried activity, or a run that ends with one line — and
 * the shared check (test/support/no-stuck-tasks.ts) finds no failed workflow task afterwards.
 */
import { mkdtempSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { listTickets } from '../agents/triage/tickets.js';
import { AgentName, AgentTokens } from '../contract/search-attributes.js';
import { AGENT_WORKFLOW_TYPE, cancelSignal, stateQuery } from '../contract/workflow.js';
import { message, text, textBlock, toolUse, toolUses } from '../devtools/fake-api/replies.js';
import { toolResults as results } from './support/blocks.js';
import { startHarness, type Harness } from './support/harness.js';
import { activityEvents } from './support/history.js';

let h: Harness;
let dataDir: string;
beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'agent-runner-hostile-'));
  process.env.AGENT_RUNNER_DATA_DIR = dataDir; // the in-process worker's ticket store
  h = await startHarness();
});
afterAll(async () => {
  delete process.env.AGENT_RUNNER_DATA_DIR;
  await h?.close();
});
afterEach(() => {
  expect(h.fake.problems).toEqual([]);
  expect(h.fake.pending()).toBe(0);
  h.fake.clear();
});

/** Reject if `p` takes longer than `ms`: a stuck run must fail the test, not time it out silently. */
function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  return Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what}: not done within ${ms} ms`)), ms))]);
}

async function until(what: string, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function untilPhase(workflowId: string, phase: string): Promise<void> {
  const handle = h.client.workflow.getHandle(workflowId);
  const deadline = Date.now() + 10_000;
  while ((await handle.query(stateQuery)).phase !== phase) {
    if (Date.now() > deadline) throw new Error(`run ${workflowId} never reached ${phase}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('the cancel signal with an argument that is not { reason: string }', () => {
  it.each([[{ reason: 42 }], [{}], [true], [[]], [{ reason: { nested: 1 } }], [null]])('%j counts as no reason', async (arg) => {
    h.fake.script(toolUses([{ name: 'echo', input: { text: 'slow', delay_ms: 20_000 } }]));
    const run = await h.runner.start('toolbox', 'slow');
    await untilPhase(run.workflowId, 'running_tools');
    // Anyone can send any argument: the UI's "Send signal", another SDK, a typo.
    await h.client.workflow.getHandle(run.workflowId).signal(cancelSignal, arg as never);
    const r = await within(10_000, 'the cancelled run', run.result());
    expect(r).toMatchObject({ status: 'cancelled', error: 'cancelled by signal' });
  });

  it('a megabyte of reason is kept to its first 2,000 characters', async () => {
    h.fake.script(toolUses([{ name: 'echo', input: { text: 'slow', delay_ms: 20_000 } }]));
    const run = await h.runner.start('toolbox', 'slow');
    await untilPhase(run.workflowId, 'running_tools');
    await h.runner.cancel(run.workflowId, 'x'.repeat(1_000_000));
    const r = await within(10_000, 'the cancelled run', run.result());
    expect(r.status).toBe('cancelled');
    expect(r.error?.length).toBe(2000);
  });
});

describe('usage counters that are not integers', () => {
  it.each([[10.5], ['12'], [-3], ['many']])('input_tokens %j is coerced; the run completes and stays searchable', async (bad) => {
    h.fake.script(text('Done.', { usage: { input_tokens: bad as number, output_tokens: 7 } }));
    const r = await within(15_000, 'the run', h.run('toolbox', 'hi'));
    expect(r.status).toBe('completed');
    const expected = typeof bad === 'number' ? Math.max(0, Math.floor(bad)) : Number.isFinite(Number(bad)) ? Number(bad) : 0;
    expect(r.usage.input_tokens).toBe(expected);
    expect(Number.isInteger(r.usage.input_tokens)).toBe(true);
    const sa = (await r.handle.describe()).typedSearchAttributes;
    expect(sa.get(AgentTokens)).toBe(expected + 7);
  });
});

describe('tool names that are properties of every object', () => {
  it('constructor, toString, __proto__ and hasOwnProperty get the promised is_error: Unknown tool', async () => {
    const names = ['constructor', 'toString', '__proto__', 'hasOwnProperty'];
    h.fake.script(toolUses(names.map((name) => ({ name, input: {} }))), text('Fine.'));
    const r = await within(15_000, 'the run', h.run('toolbox', 'try'));
    expect(r.status).toBe('completed');
    const got = results(r.messages[2]);
    expect(got).toHaveLength(4);
    for (const [i, name] of names.entries()) {
      expect(got[i]).toMatchObject({
        is_error: true,
        content: expect.stringMatching(new RegExp(`^Unknown tool "${name.replace(/_/g, '_')}"\\. Available tools: echo, `)),
      });
    }
  });
});

describe('a reply that cannot be acted on is a failed model attempt, never tool input', () => {
  it('a stream cut inside a tool_use input (stop_reason tool_use) is retried; the tool runs once, on the whole input', async () => {
    const input = { summary: 'Customer wants a refund.', priority: 'high', order_id: '48810' };
    const id = 'toolu_ticket_cut';
    // JSON.stringify keeps key order: cut right before "order_id", as the faulty proxy did.
    const cutAt = JSON.stringify(input).indexOf('"order_id"');
    h.fake.script(
      message([textBlock('Opening a ticket.'), toolUse('create_support_ticket', input, id)], 'tool_use', { cutToolInputAt: cutAt }),
      message([textBlock('Opening a ticket.'), toolUse('create_support_ticket', input, id)], 'tool_use'),
      text('Ticket opened.'),
    );
    const run = await h.runner.start('triage', 'refund for 48810 please, open a ticket');
    // The ticket waits for a person's approval: only the whole input ever reaches one.
    await until('the call to wait for approval', async () => (await h.runner.state(run.workflowId)).pendingApprovals.length === 1);
    const waiting = (await h.runner.state(run.workflowId)).pendingApprovals[0]!;
    expect(waiting.input).toEqual(input);
    await h.runner.approve(run.workflowId, { by: 'test' });
    const r = await within(20_000, 'the run', run.result());
    expect(r.status).toBe('completed');
    const tickets = listTickets(join(dataDir, 'tickets'));
    expect(tickets).toHaveLength(1);
    expect(tickets[0]).toMatchObject({ order_id: '48810', summary: input.summary, priority: 'high' });
    const models = (await activityEvents(h.client, r.workflowId)).filter((e) => e.activityType === 'callModel');
    expect(models[0]).toMatchObject({ outcome: 'completed', attempt: 2 });
  });

  it('two tool_use blocks with one id: the call is made again (decided: the ids must be unique)', async () => {
    h.fake.script(
      toolUses([
        { name: 'echo', input: { text: 'a' }, id: 'toolu_same' },
        { name: 'echo', input: { text: 'b' }, id: 'toolu_same' },
      ]),
      toolUses([
        { name: 'echo', input: { text: 'a' }, id: 'toolu_one' },
        { name: 'echo', input: { text: 'b' }, id: 'toolu_two' },
      ]),
      text('Both echoed.'),
    );
    const r = await within(20_000, 'the run', h.run('toolbox', 'echo twice'));
    expect(r.status).toBe('completed');
    expect(results(r.messages[2]).map((b) => b.tool_use_id)).toEqual(['toolu_one', 'toolu_two']);
    expect(h.fake.requests).toHaveLength(3);
  });

  it('a reply cut inside a tool_use input that stopped at max_tokens ends the run as truncated, untouched', async () => {
    h.fake.script(toolUses([{ name: 'echo', input: { text: 'long' } }], { stopReason: 'max_tokens', cutToolInputAt: 5 }));
    const r = await within(15_000, 'the run', h.run('toolbox', 'go'));
    expect(r).toMatchObject({ status: 'completed', stopReason: 'max_tokens', turns: 1 });
    expect(h.fake.requests).toHaveLength(1);
  });
});

describe('finalText', () => {
  it('joins the text blocks of a cited answer as the contiguous prose they are', async () => {
    h.fake.script(
      message([textBlock('The summit was held in Geneva'), textBlock('. '), textBlock('The White House confirmed it.')], 'end_turn'),
    );
    const r = await h.run('toolbox', 'where was the summit?');
    expect(r.finalText).toBe('The summit was held in Geneva. The White House confirmed it.');
  });
});

describe('results over the payload limit', () => {
  const prompt = `Summarise: ${'lorem ipsum '.repeat(98_000)}`; // 1.18 MB: accepted (the limit is 1.2 MB)
  const answer = randomBytes(1_100_000).toString('base64'); // 1.47 MB, incompressible

  it('a 1.18 MB prompt and a 1.47 MB answer: the run completes, the transcript comes back whole', async () => {
    h.fake.script(text(answer));
    const r = await within(30_000, 'the run', h.run('toolbox', prompt));
    expect(r.status).toBe('completed');
    expect(r.finalText).toBe(answer);
    expect(r.messages).toEqual([
      { role: 'user', content: prompt },
      { role: 'assistant', content: [{ type: 'text', text: answer, citations: null }] },
    ]);
    expect(r.omitted).toBeUndefined(); // restored by the client
  });

  it('the failure path too: a run that fails after a huge answer ends with one line and its transcript', async () => {
    // A tool call after the huge answer: the next request would exceed the conversation limit.
    h.fake.script(toolUses([{ name: 'echo', input: { text: 'x' } }], { text: answer }));
    const r = await within(30_000, 'the run', h.run('toolbox', prompt));
    expect(r.status).toBe('failed');
    expect(r.error).toMatch(/^the conversation is \d+ bytes even after removing older turns, over the 1200000-byte limit/);
    expect(r.messages.slice(0, 2)).toEqual([
      { role: 'user', content: prompt },
      { role: 'assistant', content: expect.arrayContaining([{ type: 'text', text: answer, citations: null }]) },
    ]);
  });
});

describe('runs started by other clients, without the search attributes', () => {
  it('set them from the workflow, so list finds them and cancel stops them', async () => {
    h.fake.script(toolUses([{ name: 'echo', input: { text: 'slow', delay_ms: 20_000 } }]));
    const handle = await h.client.workflow.start(AGENT_WORKFLOW_TYPE, {
      taskQueue: h.taskQueue,
      workflowId: `foreign-${Date.now()}`,
      args: [{ agent: 'toolbox', prompt: 'slow' }],
    });
    await untilPhase(handle.workflowId, 'running_tools');
    expect((await handle.describe()).typedSearchAttributes.get(AgentName)).toBe('toolbox');
    const listed = await h.runner.list({ status: 'running', agent: 'toolbox' });
    expect(listed.map((x) => x.workflowId)).toContain(handle.workflowId);
    await h.runner.cancel(handle.workflowId, 'from the CLI');
    const r = await within(
      10_000,
      'the cancelled run',
      h.runner.get(handle.workflowId).then((x) => x.result()),
    );
    expect(r.status).toBe('cancelled');
    expect((await h.runner.list({ status: 'cancelled', agent: 'toolbox' })).map((x) => x.workflowId)).toContain(handle.workflowId);
  });
});
