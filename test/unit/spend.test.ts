/** The pure parts of spend: prices, the ledger, cache breakpoints, the worker's rate gate. */
import { describe, expect, it } from 'vitest';
import { MAX_CACHE_BREAKPOINTS, withCacheBreakpoints } from '../../activities/cache-control.js';
import { RateGate } from '../../activities/rate-gate.js';
import type { MessageParam } from '../../contract/messages.js';
import {
  addToLedger,
  billedUsage,
  builtInPrices,
  callCost,
  emptyLedger,
  formatUsd,
  addSubAgentToLedger,
  mergeLedgers,
  MODEL_PRICES,
  priceOf,
  priceTableProblem,
} from '../../contract/prices.js';

describe('prices', () => {
  it('finds a model by id or by its dated id, and nothing for an unknown one', () => {
    const table = builtInPrices();
    expect(priceOf('claude-sonnet-4-5-20250929', table)).toBe(MODEL_PRICES['claude-sonnet-4-5']);
    expect(priceOf('claude-opus-4-5', table)?.input).toBe(5);
    expect(priceOf('claude-imaginary-9', table)).toBeUndefined();
    expect(priceOf('__proto__', table)).toBeUndefined();
    expect(priceOf('constructor', table)).toBeUndefined();
  });

  it('prices each kind of token at its own rate (Sonnet 4.6: 3 / 15 / 3.75 / 6 / 0.30 per MTok), web searches at $10 per 1000', () => {
    const u = billedUsage({
      input_tokens: 1_000_000,
      output_tokens: 1_000_000,
      cache_creation_input_tokens: 3_000_000,
      cache_creation: { ephemeral_5m_input_tokens: 1_000_000, ephemeral_1h_input_tokens: 2_000_000 },
      cache_read_input_tokens: 10_000_000,
      server_tool_use: { web_search_requests: 3, web_fetch_requests: 2 },
    });
    expect(callCost(u, MODEL_PRICES['claude-sonnet-4-6']!)).toBeCloseTo(3 + 15 + 3.75 + 12 + 3 + 0.03, 10);
  });

  it('a usage without the TTL split counts its cache writes as 5-minute ones; odd counters count 0', () => {
    expect(billedUsage({ input_tokens: '12', cache_creation_input_tokens: 40, output_tokens: -3 })).toMatchObject({
      input_tokens: 0,
      output_tokens: 0,
      cache_write_5m_tokens: 40,
      cache_write_1h_tokens: 0,
    });
  });

  it('the long-prompt tier applies to every token of a request over its threshold (Haiku 5.5 above 100K)', () => {
    const p = MODEL_PRICES['claude-haiku-5-5']!;
    const short = billedUsage({ input_tokens: 100_000, output_tokens: 1000 });
    const long = billedUsage({ input_tokens: 50_000, cache_read_input_tokens: 50_001, output_tokens: 1000 });
    expect(callCost(short, p)).toBeCloseTo((100_000 * 0.1 + 1000 * 0.5) / 1e6, 12);
    expect(callCost(long, p)).toBeCloseTo((50_000 * 0.5 + 50_001 * 0.05 + 1000 * 2.5) / 1e6, 12);
  });

  it('a price-table override is checked: one line naming the bad entry', () => {
    expect(
      priceTableProblem({ models: { 'my-model': { input: 1, output: 2, cacheWrite5m: 1.25, cacheWrite1h: 2, cacheRead: 0.1 } } }),
    ).toBeNull();
    expect(priceTableProblem({ models: { x: { input: -1 } } })).toBe(
      'models["x"].input must be a non-negative number (USD per million tokens)',
    );
    expect(priceTableProblem({ model: {} })).toBe('unknown key "model" (expected "models", "serverTools")');
    expect(priceTableProblem([])).toContain('must be a JSON object');
  });
});

describe('the ledger', () => {
  it('sums per model; one unpriced model makes the total null and is named', () => {
    const p = MODEL_PRICES['claude-haiku-4-5']!;
    let l = addToLedger(emptyLedger(), 'claude-haiku-4-5', billedUsage({ input_tokens: 1000, output_tokens: 100 }), p);
    l = addToLedger(l, 'claude-haiku-4-5', billedUsage({ input_tokens: 1000, output_tokens: 100 }), p, { failedAttempts: 1 });
    expect(l.usd).toBeCloseTo((2 * (1000 * 1 + 100 * 5)) / 1e6, 12);
    expect(l.byModel['claude-haiku-4-5']).toMatchObject({ calls: 2, failedAttempts: 1, input_tokens: 2000 });
    const withChild = mergeLedgers(l, addToLedger(emptyLedger(), 'mystery', billedUsage({ input_tokens: 5 }), undefined));
    expect(withChild.usd).toBeNull();
    expect(withChild.unpriced).toEqual(['mystery']);
  });

  it('a model id from outside cannot touch the ledger’s prototype', () => {
    const l = addToLedger(emptyLedger(), '__proto__', billedUsage({ input_tokens: 5 }), MODEL_PRICES['claude-haiku-4-5']);
    expect(Object.keys(l.byModel)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(l.byModel)).toBe(Object.prototype);
    expect(JSON.parse(JSON.stringify(l)).byModel.__proto__.input_tokens).toBe(5);
  });

  it('formats dollars for people', () => {
    expect([formatUsd(0.017565), formatUsd(12.5), formatUsd(null)]).toEqual(['$0.0176', '$12.50', '—']);
  });
});

describe('cache breakpoints', () => {
  const conversation: MessageParam[] = [
    { role: 'user', content: 'look up 1' },
    {
      role: 'assistant',
      content: [
        { type: 'thinking', thinking: 't', signature: 's' },
        { type: 'tool_use', id: 'a', name: 'x', input: {} },
      ],
    },
    { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'a', content: 'r' }] },
    {
      role: 'assistant',
      content: [
        { type: 'tool_use', id: 'b', name: 'x', input: {} },
        { type: 'thinking', thinking: 't', signature: 's' },
      ],
    },
  ];
  const request = {
    model: 'm',
    max_tokens: 10,
    system: 'stable',
    tools: [{ name: 'x', input_schema: { type: 'object' as const } }],
    messages: conversation,
  };

  it('the system prompt, the newest message (never on a thinking block) and the previous user message; the input untouched', () => {
    const before = JSON.stringify(request);
    const out = withCacheBreakpoints(request, '1h');
    expect(JSON.stringify(request)).toBe(before);
    const mark = { type: 'ephemeral', ttl: '1h' };
    expect(out.system).toEqual([{ type: 'text', text: 'stable', cache_control: mark }]);
    expect(out.tools).toEqual(request.tools);
    expect(out.messages[3]).toEqual({
      role: 'assistant',
      content: [
        { type: 'tool_use', id: 'b', name: 'x', input: {}, cache_control: mark },
        { type: 'thinking', thinking: 't', signature: 's' },
      ],
    });
    expect(out.messages[2]).toEqual({
      role: 'user',
      content: [{ type: 'tool_result', tool_use_id: 'a', content: 'r', cache_control: mark }],
    });
    expect(out.messages.slice(0, 2)).toEqual(conversation.slice(0, 2));
    expect((JSON.stringify(out).match(/cache_control/g) ?? []).length).toBeLessThanOrEqual(MAX_CACHE_BREAKPOINTS);
  });

  it('without a system prompt the last tool marks the prefix; a request with its own marks is sent as it is', () => {
    const { system: _s, ...noSystem } = request;
    expect(withCacheBreakpoints(noSystem, '5m').tools?.at(-1)).toMatchObject({ cache_control: { type: 'ephemeral', ttl: '5m' } });
    const own = { ...request, system: [{ type: 'text' as const, text: 's', cache_control: { type: 'ephemeral' as const } }] };
    expect(withCacheBreakpoints(own, '5m')).toBe(own);
  });
});

describe('the rate gate', () => {
  it('after a 429 with retry-after it holds every call until then', async () => {
    let now = 1_000_000;
    const gate = new RateGate(() => now);
    gate.rateLimited(new Headers({ 'retry-after': '2' }));
    expect(gate.waitMs()).toBe(2000);
    now += 1500;
    expect(gate.waitMs()).toBe(500);
    now += 500;
    expect(gate.waitMs()).toBe(0);
  });

  it('paces calls by the quota a response reported: none left waits for the reset, then the whole limit is free again', async () => {
    let now = Date.parse('2026-11-25T12:00:00Z');
    const gate = new RateGate(() => now);
    const signal = new AbortController().signal;
    gate.observe(
      new Headers({
        'anthropic-ratelimit-requests-limit': '3',
        'anthropic-ratelimit-requests-remaining': '2',
        'anthropic-ratelimit-requests-reset': '2026-11-25T12:00:01Z',
      }),
    );
    await gate.pass(signal);
    await gate.pass(signal);
    expect(gate.held).toBe(0);
    // None left: the third would wait for the reset; at the reset the limit (3) is free again.
    now = Date.parse('2026-11-25T12:00:01Z');
    await gate.pass(signal);
    await gate.pass(signal);
    await gate.pass(signal);
    expect(gate.held).toBe(0);
  });

  it('an aborted wait rejects with the signal’s reason', async () => {
    const gate = new RateGate();
    gate.hold(60_000);
    const ac = new AbortController();
    const waiting = gate.pass(ac.signal);
    ac.abort(new Error('cancelled'));
    await expect(waiting).rejects.toThrow('cancelled');
  });
});

describe('sub-agents in the ledger', () => {
  it("roll up into the caller's totals and are attributed by agent, runs summed; a null price stays null", () => {
    const price = builtInPrices().models['claude-haiku-4-5']!;
    const own = addToLedger(emptyLedger(), 'claude-haiku-4-5', billedUsage({ input_tokens: 1000, output_tokens: 100 }), price);
    const child = addToLedger(emptyLedger(), 'claude-haiku-4-5', billedUsage({ input_tokens: 2000, output_tokens: 200 }), price);
    const once = addSubAgentToLedger(own, 'triage', child);
    expect(once.usd).toBeCloseTo(own.usd! + child.usd!, 12);
    expect(once.byModel['claude-haiku-4-5']).toMatchObject({ input_tokens: 3000, output_tokens: 300, calls: 2 });
    expect(once.subAgents).toEqual({ triage: { runs: 1, usd: child.usd, tokens: 2200 } });
    const twice = addSubAgentToLedger(once, 'triage', child);
    expect(twice.subAgents?.triage).toEqual({ runs: 2, usd: child.usd! * 2, tokens: 4400 });
    // Carried on: a later call keeps the attribution.
    expect(addToLedger(twice, 'claude-haiku-4-5', billedUsage({ input_tokens: 1 }), price).subAgents).toEqual(twice.subAgents);
    const unpriced = addToLedger(emptyLedger(), 'mystery', billedUsage({ input_tokens: 5 }), undefined);
    const withUnpriced = addSubAgentToLedger(twice, '__proto__', unpriced);
    expect(withUnpriced.usd).toBeNull();
    expect(Object.hasOwn(withUnpriced.subAgents!, '__proto__')).toBe(true);
    expect(withUnpriced.subAgents!['__proto__']).toEqual({ runs: 1, usd: null, tokens: 5 });
  });
});
