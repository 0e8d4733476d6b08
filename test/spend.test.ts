/**
 * Spend under control, end to end (real dev server, worker, SDK; the fake API accounts for
 * prompt caching as the real one does): the cost ledger against hand-computed figures, budgets
 * that stop a run before a call it cannot afford or pause it until raised, the runner's cache
 * breakpoints as the API received them, cost in `list`.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Usage } from '@anthropic-ai/sdk/resources/messages';
import { builtInPrices, MODEL_PRICES, type PriceTable } from '../contract/prices.js';
import type { RunState } from '../contract/run.js';
import { stateQuery } from '../contract/workflow.js';
import { text, toolUses } from '../devtools/fake-api/replies.js';
import { breakpointTtls } from '../devtools/fake-api/prompt-cache.js';
import { RunnerError } from '../client/runner.js';
import { startHarness, type Harness } from './support/harness.js';

/** The test model priced like Claude Sonnet 4.5 ($3 in, $15 out, $3.75 / $6 cache writes, $0.30 reads per MTok): an override of the table. */
const prices: PriceTable = {
  ...builtInPrices(),
  models: { ...builtInPrices().models, 'claude-test-model': MODEL_PRICES['claude-sonnet-4-5']! },
};

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ prices });
});
afterAll(async () => h?.close());
afterEach(() => {
  const [problems, pending] = [[...h.fake.problems], h.fake.pending()];
  h.fake.clear();
  expect(problems).toEqual([]);
  expect(pending).toBe(0);
});

const usage = (u: Partial<Usage> & { w5m?: number; w1h?: number }): Partial<Usage> => {
  const { w5m = 0, w1h = 0, ...rest } = u;
  return {
    cache_read_input_tokens: 0,
    ...rest,
    cache_creation_input_tokens: w5m + w1h,
    cache_creation: { ephemeral_5m_input_tokens: w5m, ephemeral_1h_input_tokens: w1h },
  };
};

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('the cost ledger', () => {
  it('prices every call, cache writes and reads and a failed attempt the API billed, to the hand-computed total', async () => {
    h.fake.script(
      // Attempt 1 of turn 1: the stream starts (2000 input tokens billed, 1 output) and fails.
      { kind: 'stream-error', errorType: 'overloaded_error', message: 'Overloaded', afterEvents: 3, usage: usage({ input_tokens: 2000 }) },
      toolUses([{ name: 'echo', input: { text: 'a' } }], { usage: usage({ input_tokens: 500, output_tokens: 100, w5m: 1500 }) }),
      text('done', { usage: usage({ input_tokens: 200, output_tokens: 50, w5m: 300, cache_read_input_tokens: 1500 }) }),
    );
    const r = await h.run('toolbox', 'echo a');
    expect(r).toMatchObject({ status: 'completed', turns: 2 });
    // By hand, in USD per million tokens: 3 in, 15 out, 3.75 5-minute writes, 0.30 reads.
    const failed = 2000 * 3 + 1 * 15; // 6 015
    const first = 500 * 3 + 100 * 15 + 1500 * 3.75; // 8 625
    const second = 200 * 3 + 50 * 15 + 300 * 3.75 + 1500 * 0.3; // 2 925
    expect(r.cost?.usd).toBeCloseTo((failed + first + second) / 1e6, 12); // $0.017565
    expect(r.cost?.byModel['claude-test-model']).toMatchObject({
      input_tokens: 2700,
      output_tokens: 151,
      cache_write_5m_tokens: 1800,
      cache_write_1h_tokens: 0,
      cache_read_input_tokens: 1500,
      calls: 2,
      failedAttempts: 1,
    });
    // The usage totals stay what the completed calls reported.
    expect(r.usage).toMatchObject({ input_tokens: 700, output_tokens: 150 });
  });

  it('a model without a price: cost null, the model named, never a made-up number', async () => {
    h.fake.script(text('hi'));
    const r = await h.run('toolbox', 'hi', { overrides: { model: 'claude-imaginary-9' } });
    expect(r.status).toBe('completed');
    expect(r.cost).toMatchObject({ usd: null, unpriced: ['claude-imaginary-9'] });
    expect(r.cost?.byModel['claude-imaginary-9']?.usd).toBeNull();
  });

  it('a USD budget for a model without a price: the run fails at once with one line, no call made', async () => {
    const run = await h.runner.start('toolbox', 'hi', { overrides: { model: 'claude-imaginary-9', maxCostUsd: 1 } });
    const r = await run.result();
    expect(r.status).toBe('failed');
    expect(r.error).toContain('a budget in USD needs the price of model "claude-imaginary-9"');
    expect(h.fake.requests).toHaveLength(0);
  });

  it('list shows the cost and filters by it (AgentCostUsd)', async () => {
    h.fake.script(text('pricey', { usage: usage({ input_tokens: 100_000, output_tokens: 1000 }) })); // $0.315
    const r = await h.run('toolbox', 'spend');
    expect(r.cost?.usd).toBeCloseTo(0.315, 9);
    const listed = await until('the run in list --min-cost-usd 0.3', async () => {
      const runs = await h.runner.list({ minCostUsd: 0.3, limit: 50 });
      return runs.find((x) => x.workflowId === r.workflowId);
    });
    expect(listed.costUsd).toBeCloseTo(0.315, 6);
    const cheap = await h.runner.list({ minCostUsd: 1000, limit: 50 });
    expect(cheap.find((x) => x.workflowId === r.workflowId)).toBeUndefined();
  });
});

describe('budgets', () => {
  it('stop before the call that would exceed it: stop reason budget_exceeded, a valid transcript, no such call made', async () => {
    h.fake.script(toolUses([{ name: 'echo', input: { text: 'a' } }], { usage: usage({ input_tokens: 1000, output_tokens: 100 }) }));
    // The first call may cost ~$0.011 (its prompt as cache writes, 512 max_tokens at $15/MTok = $0.00768);
    // it costs $0.0045, and the next may cost at least its $0.00768 of output: over $0.012.
    const r = await h.run('toolbox', 'echo a', { overrides: { maxCostUsd: 0.012 } });
    expect(r).toMatchObject({ status: 'completed', stopReason: 'budget_exceeded', turns: 1 });
    expect(h.fake.requests).toHaveLength(1);
    expect(r.stopDetail).toMatch(/^spent \$0\.0045 of \$0\.0120; the next model call may cost up to \$0\.0\d+$/);
    // Every tool_use answered: the conversation can be sent as it is.
    expect(r.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(JSON.stringify(r.messages[2])).toContain('tool_result');
  });

  it('a budget too small for the first call: nothing is sent', async () => {
    const r = await h.run('toolbox', 'hi', { overrides: { maxTotalTokens: 100 } });
    expect(r).toMatchObject({ status: 'completed', stopReason: 'budget_exceeded', turns: 0 });
    expect(r.stopDetail).toMatch(/^used 0 of 100 tokens; the next model call may use up to \d+$/);
    expect(h.fake.requests).toHaveLength(0);
  });

  it('an agent that pauses: awaiting_budget until a raise, then it goes on; refusals are one line', async () => {
    h.fake.script(
      toolUses([{ name: 'echo', input: { text: 'a' } }], { usage: usage({ input_tokens: 3000, output_tokens: 100 }) }),
      text('finished'),
    );
    // The first call may use ~2 800 tokens (prompt estimate + 512 out) and uses 3 100; the next may use ~2 800 more: over 5 000.
    const run = await h.runner.start('spender', 'echo a', { overrides: { maxTotalTokens: 5000 } });
    const paused = await until('the run paused at its budget', async () => {
      const s: RunState = await run.temporal.query(stateQuery);
      return s.phase === 'awaiting_budget' ? s : undefined;
    });
    expect(paused.budget).toMatchObject({ maxTotalTokens: 5000, spentTokens: 3100 });
    expect(paused.budget?.shortfall).toMatch(/^used 3100 of 5000 tokens; the next model call may use up to \d+$/);
    expect(h.fake.requests).toHaveLength(1);
    // Findable as such.
    await until('list --status awaiting_budget', async () =>
      (await h.runner.list({ status: 'awaiting_budget', limit: 50 })).find((x) => x.workflowId === run.workflowId),
    );
    // A raise of the wrong kind is refused, and changes nothing.
    await expect(h.runner.raiseBudget(run.workflowId, { addUsd: 1 })).rejects.toThrow(
      new RunnerError(`${run.workflowId}: this run has no USD budget (only a token budget): raise it with --add-tokens`),
    );
    await expect(h.runner.raiseBudget(run.workflowId, { addTokens: -5 })).rejects.toThrow('addTokens must be a positive integer');
    const raised = await h.runner.raiseBudget(run.workflowId, { addTokens: 100_000, by: 'finance' });
    expect(raised).toMatchObject({ maxTotalTokens: 105_000, spentTokens: 3100 });
    const r = await run.result();
    expect(r).toMatchObject({ status: 'completed', stopReason: 'end_turn', finalText: 'finished', turns: 2 });
    expect(r.stopDetail).toBeUndefined();
  });
});

describe('prompt caching placed by the runner', () => {
  it('marks the stable prefix and the newest messages, at most four, so each turn reads the last one from the cache', async () => {
    h.fake.script(toolUses([{ name: 'echo', input: { text: 'one' } }]), toolUses([{ name: 'echo', input: { text: 'two' } }]), text('done'));
    const r = await h.run('spender', 'echo twice', { overrides: { maxCostUsd: 5 } });
    expect(r.stopReason).toBe('end_turn');
    const bodies = h.fake.requests.map((q) => q.body);
    expect(bodies).toHaveLength(3);
    for (const b of bodies) {
      const ttls = breakpointTtls(b);
      expect(ttls.length).toBeGreaterThanOrEqual(2);
      expect(ttls.length).toBeLessThanOrEqual(4);
      expect(new Set(ttls)).toEqual(new Set(['5m']));
      // The newest message carries a mark.
      expect(JSON.stringify(b.messages.at(-1))).toContain('"cache_control"');
    }
    // The stable prefix is byte-identical in every request.
    expect(new Set(bodies.map((b) => JSON.stringify([b.tools, b.system]))).size).toBe(1);
    // The first request writes the prefix; each later one reads the previous request's prompt.
    expect(r.messages.filter((m) => m.role === 'assistant')).toHaveLength(3);
    const cost = r.cost!.byModel['claude-test-model']!;
    // (The prefix may already be cached by an earlier run of this agent: then the first call reads it too.)
    expect(cost.cache_read_input_tokens).toBeGreaterThan(2 * 1024);
    expect(cost.cache_write_5m_tokens).toBeGreaterThan(0);
    expect(cost.input_tokens).toBe(0); // every input token was written to or read from the cache
  });

  it('the same script costs less with the runner’s caching than without: the same prompt tokens, most of them read from the cache', async () => {
    const script = () =>
      h.fake.script(...['one', 'two', 'three', 'four'].map((t) => toolUses([{ name: 'echo', input: { text: t } }])), text('done'));
    script();
    const cached = await h.run('spender', 'echo four times');
    script();
    const plain = await h.run('nocache', 'echo four times');
    const [c, p] = [cached.cost!.byModel['claude-test-model']!, plain.cost!.byModel['claude-test-model']!];
    expect([cached.turns, plain.turns]).toEqual([5, 5]);
    // The same prompts (agents alike but for caching), billed differently.
    const prompt = (s: typeof c) => s.input_tokens + s.cache_write_5m_tokens + s.cache_write_1h_tokens + s.cache_read_input_tokens;
    expect(prompt(c)).toBe(prompt(p));
    expect(c.output_tokens).toBe(p.output_tokens);
    expect(p).toMatchObject({ cache_write_5m_tokens: 0, cache_read_input_tokens: 0 });
    expect(c.cache_read_input_tokens).toBeGreaterThan(prompt(c) / 2);
    expect(cached.cost!.usd!).toBeLessThan(plain.cost!.usd! / 2);
  });

  it('an agent with caching off gets no marks (and reads nothing from the cache)', async () => {
    h.fake.script(toolUses([{ name: 'echo', input: { text: 'one' } }]), text('done'));
    const r = await h.run('nocache', 'echo once');
    expect(h.fake.requests.every((q) => !JSON.stringify(q.body).includes('cache_control'))).toBe(true);
    expect(r.cost?.byModel['claude-test-model']?.cache_read_input_tokens).toBe(0);
  });

  it('an agent whose tools wait for approval caches for an hour', async () => {
    h.fake.script(text('no tools needed'));
    await h.run('triage', 'hello');
    expect(new Set(breakpointTtls(h.fake.requests[0]!.body))).toEqual(new Set(['1h']));
  });
});
