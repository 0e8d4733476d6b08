/**
 * What model calls cost: one price table, and the pure functions that price a call's usage and
 * keep a run's ledger. The table is data, checked against Anthropic's pricing page on the date
 * below; a worker can override or extend it (`AGENT_RUNNER_PRICES`, a JSON file of the same
 * shape, or `createWorker({ prices })`). A model missing from the table has no price: its cost is
 * `null`, never a guess.
 *
 * Prices are recorded in each run's configuration when the run starts (`RunConfig.price`), so a
 * run is priced by the table it started with and its ledger replays the same.
 */

/** USD per million tokens, by kind, as the pricing page lists them. */
export interface TokenRates {
  input: number;
  output: number;
  /** Cache writes with the default 5-minute TTL (1.25 × input). */
  cacheWrite5m: number;
  /** Cache writes with the 1-hour TTL (2 × input). */
  cacheWrite1h: number;
  /** Cache hits and refreshes (0.1 × input for most models). */
  cacheRead: number;
}

/** A model's prices. */
export interface ModelPrice extends TokenRates {
  /**
   * Rates for every token of a request whose prompt (input + cache reads + cache writes) is above
   * `aboveTokens`: the long-context tier of some models.
   */
  longPrompt?: TokenRates & { aboveTokens: number };
}

/** Server tools billed per use, in USD. */
export interface ServerToolPrices {
  /** Per web search (`usage.server_tool_use.web_search_requests`): $10 per 1 000. */
  webSearch: number;
  /** Per web fetch: no charge beyond the tokens it adds. */
  webFetch: number;
}

/** When the table was last checked against https://platform.claude.com/docs/en/about-claude/pricing. */
export const PRICES_CHECKED = '2026-11-25';

const rates = (input: number, output: number, cacheRead = input / 10): TokenRates => ({
  input,
  output,
  cacheWrite5m: input * 1.25,
  cacheWrite1h: input * 2,
  cacheRead,
});

/** Built-in prices by model id (aliases; dated ids resolve to them, see {@link priceOf}). */
export const MODEL_PRICES: Readonly<Record<string, ModelPrice>> = {
  'claude-fable-5-1': rates(10, 50, 0.25),
  'claude-mythos-5-1': rates(10, 50, 0.25),
  'claude-fable-5': rates(10, 50, 1),
  'claude-mythos-5': rates(10, 50, 1),
  'claude-opus-5-5': rates(4, 20, 0.2),
  'claude-opus-5': rates(5, 25),
  'claude-opus-4-8': rates(5, 25),
  'claude-opus-4-7': rates(5, 25),
  'claude-opus-4-6': rates(5, 25),
  'claude-opus-4-5': rates(5, 25),
  'claude-opus-4-1': rates(15, 75),
  'claude-opus-4': rates(15, 75),
  'claude-sonnet-5-5': rates(2, 10, 0.1),
  'claude-sonnet-5': rates(2, 10),
  'claude-sonnet-4-6': rates(3, 15),
  'claude-sonnet-4-5': { ...rates(3, 15), longPrompt: { ...rates(6, 22.5), aboveTokens: 200_000 } },
  'claude-sonnet-4': { ...rates(3, 15), longPrompt: { ...rates(6, 22.5), aboveTokens: 200_000 } },
  'claude-3-7-sonnet': rates(3, 15),
  'claude-haiku-5-5': { ...rates(0.1, 0.5, 0.01), longPrompt: { ...rates(0.5, 2.5, 0.05), aboveTokens: 100_000 } },
  'claude-haiku-4-5': rates(1, 5),
  'claude-3-5-haiku': rates(0.8, 4),
  'claude-3-haiku': { input: 0.25, output: 1.25, cacheWrite5m: 0.3, cacheWrite1h: 0.5, cacheRead: 0.03 },
};

/** Built-in server-tool prices. */
export const SERVER_TOOL_PRICES: ServerToolPrices = { webSearch: 0.01, webFetch: 0 };

/** A price table: model prices and server-tool prices (a worker's override merges over the built-in one). */
export interface PriceTable {
  models: Record<string, ModelPrice>;
  serverTools: ServerToolPrices;
}

/** The built-in table. */
export function builtInPrices(): PriceTable {
  return { models: { ...MODEL_PRICES }, serverTools: { ...SERVER_TOOL_PRICES } };
}

/**
 * A model's price: the id itself, else the id without a date suffix (`claude-sonnet-4-5-20250929`
 * → `claude-sonnet-4-5`). Undefined when the table does not have it.
 */
export function priceOf(model: string, table: Pick<PriceTable, 'models'>): ModelPrice | undefined {
  const own = (id: string) => (Object.hasOwn(table.models, id) ? table.models[id] : undefined);
  return own(model) ?? own(model.replace(/-\d{8}$/, ''));
}

/** The problem with a price-table override (a parsed JSON file), or null. */
export function priceTableProblem(value: unknown): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return 'must be a JSON object with "models" and/or "serverTools"';
  const { models, serverTools, ...rest } = value as Record<string, unknown>;
  const extra = Object.keys(rest);
  if (extra.length > 0) return `unknown key "${extra[0]}" (expected "models", "serverTools")`;
  const rateProblem = (where: string, r: unknown, keys: readonly string[]): string | null => {
    if (typeof r !== 'object' || r === null) return `${where} must be an object`;
    for (const k of keys) {
      const v = (r as Record<string, unknown>)[k];
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
        return `${where}.${k} must be a non-negative number (USD per million tokens)`;
    }
    return null;
  };
  const RATE_KEYS = ['input', 'output', 'cacheWrite5m', 'cacheWrite1h', 'cacheRead'] as const;
  if (models !== undefined) {
    if (typeof models !== 'object' || models === null || Array.isArray(models)) return '"models" must be an object keyed by model id';
    for (const [id, p] of Object.entries(models)) {
      const problem = rateProblem(`models["${id}"]`, p, RATE_KEYS);
      if (problem) return problem;
      const long = (p as ModelPrice).longPrompt;
      if (long !== undefined) {
        const lp = rateProblem(`models["${id}"].longPrompt`, long, [...RATE_KEYS, 'aboveTokens']);
        if (lp) return lp;
      }
    }
  }
  if (serverTools !== undefined) {
    const st = rateProblem('serverTools', serverTools, Object.keys(serverTools as object));
    if (st) return st;
  }
  return null;
}

/** `base` with `override`'s models and server-tool prices laid over it. */
export function mergePrices(base: PriceTable, override: Partial<PriceTable>): PriceTable {
  return { models: { ...base.models, ...override.models }, serverTools: { ...base.serverTools, ...override.serverTools } };
}

/** The usage counters a call is billed by (the API's `usage`, coerced). */
export interface BilledUsage {
  input_tokens: number;
  output_tokens: number;
  /** Cache writes by TTL; a usage without the split counts its `cache_creation_input_tokens` as 5-minute writes. */
  cache_write_5m_tokens: number;
  cache_write_1h_tokens: number;
  cache_read_input_tokens: number;
  web_search_requests: number;
  web_fetch_requests: number;
}

/** Zero usage. */
export function noBilledUsage(): BilledUsage {
  return {
    input_tokens: 0,
    output_tokens: 0,
    cache_write_5m_tokens: 0,
    cache_write_1h_tokens: 0,
    cache_read_input_tokens: 0,
    web_search_requests: 0,
    web_fetch_requests: 0,
  };
}

const count = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.floor(v) : 0);
const field = (o: unknown, k: string): unknown => (typeof o === 'object' && o !== null ? (o as Record<string, unknown>)[k] : undefined);

/** The billed counters of an API `usage` object (whatever its shape: missing or odd fields count 0). */
export function billedUsage(usage: unknown): BilledUsage {
  const creation = field(usage, 'cache_creation');
  const total = count(field(usage, 'cache_creation_input_tokens'));
  const w1h = count(field(creation, 'ephemeral_1h_input_tokens'));
  const w5m = creation && typeof creation === 'object' ? count(field(creation, 'ephemeral_5m_input_tokens')) : total;
  const tools = field(usage, 'server_tool_use');
  return {
    input_tokens: count(field(usage, 'input_tokens')),
    output_tokens: count(field(usage, 'output_tokens')),
    cache_write_5m_tokens: w5m,
    cache_write_1h_tokens: w1h,
    cache_read_input_tokens: count(field(usage, 'cache_read_input_tokens')),
    web_search_requests: count(field(tools, 'web_search_requests')),
    web_fetch_requests: count(field(tools, 'web_fetch_requests')),
  };
}

/** Two usages added. */
export function addBilled(a: BilledUsage, b: BilledUsage): BilledUsage {
  const out = noBilledUsage();
  for (const k of Object.keys(out) as (keyof BilledUsage)[]) out[k] = (a[k] ?? 0) + (b[k] ?? 0);
  return out;
}

/** All tokens of a usage (input, output, cache writes and reads). */
export function billedTokens(u: BilledUsage): number {
  return u.input_tokens + u.output_tokens + u.cache_write_5m_tokens + u.cache_write_1h_tokens + u.cache_read_input_tokens;
}

/** What one call's usage costs in USD at a model's price (the long-prompt tier applied per call). */
export function callCost(u: BilledUsage, price: ModelPrice, tools: ServerToolPrices = SERVER_TOOL_PRICES): number {
  const prompt = u.input_tokens + u.cache_read_input_tokens + u.cache_write_5m_tokens + u.cache_write_1h_tokens;
  const r: TokenRates = price.longPrompt && prompt > price.longPrompt.aboveTokens ? price.longPrompt : price;
  const tokens =
    u.input_tokens * r.input +
    u.output_tokens * r.output +
    u.cache_write_5m_tokens * r.cacheWrite5m +
    u.cache_write_1h_tokens * r.cacheWrite1h +
    u.cache_read_input_tokens * r.cacheRead;
  return tokens / 1_000_000 + u.web_search_requests * tools.webSearch + u.web_fetch_requests * tools.webFetch;
}

/** One model's share of a run's spend. */
export interface ModelSpend extends BilledUsage {
  /** USD, or null when the model has no price. */
  usd: number | null;
  /** Model calls that completed. */
  calls: number;
  /** Failed attempts whose usage the API had reported (their tokens are included above). */
  failedAttempts: number;
}

/** A run's spend: the total and the per-model split. */
export interface CostLedger {
  /** USD over every priced model call; null when any call's model had no price. */
  usd: number | null;
  byModel: Record<string, ModelSpend>;
  /** Models without a price (their calls make `usd` null). */
  unpriced?: string[];
  /**
   * The runs of agents this run called as tools, by agent name: their spend is included in `usd`
   * and `byModel` above (each figure includes that run's own sub-agents).
   */
  subAgents?: Record<string, SubAgentSpend>;
}

/** What the runs of one sub-agent cost their parent. */
export interface SubAgentSpend {
  runs: number;
  /** USD, or null when a model of theirs had no price. */
  usd: number | null;
  /** Tokens of every kind. */
  tokens: number;
}

/** An empty ledger. */
export function emptyLedger(): CostLedger {
  return { usd: 0, byModel: {} };
}

/**
 * The ledger with one call added: `usage` billed at `price` (undefined or null: the model has no
 * price). `failedAttempts` counts failed attempts whose usage is included in `usage`.
 */
export function addToLedger(
  ledger: CostLedger,
  model: string,
  usage: BilledUsage,
  price: ModelPrice | undefined | null,
  opts: { serverTools?: ServerToolPrices; calls?: number; failedAttempts?: number } = {},
): CostLedger {
  const spend: ModelSpend = {
    ...usage,
    usd: price ? callCost(usage, price, opts.serverTools) : null,
    calls: opts.calls ?? 1,
    failedAttempts: opts.failedAttempts ?? 0,
  };
  return mergeLedgers(ledger, { usd: spend.usd, byModel: { [model]: spend } });
}

/** Two ledgers merged (also: a child run's spend rolled up into its parent's). */
export function mergeLedgers(a: CostLedger, b: CostLedger): CostLedger {
  const byModel = { ...a.byModel };
  for (const [model, s] of Object.entries(b.byModel)) {
    const { usd, calls, failedAttempts, ...usage } = s;
    const before = Object.hasOwn(byModel, model) ? byModel[model] : undefined;
    const merged: ModelSpend = {
      ...addBilled(before ?? noBilledUsage(), usage),
      usd: before === undefined ? usd : before.usd === null || usd === null ? null : before.usd + usd,
      calls: (before?.calls ?? 0) + calls,
      failedAttempts: (before?.failedAttempts ?? 0) + failedAttempts,
    };
    // An own property whatever the id (a model id from outside could be `__proto__`).
    Object.defineProperty(byModel, model, { value: merged, enumerable: true, writable: true, configurable: true });
  }
  const unpriced = Object.keys(byModel).filter((m) => byModel[m]?.usd === null);
  const usd = unpriced.length > 0 ? null : Object.values(byModel).reduce((n, s) => n + (s.usd ?? 0), 0);
  const subAgents = mergeSubAgents(a.subAgents, b.subAgents);
  return { usd, byModel, ...(unpriced.length > 0 && { unpriced }), ...(subAgents && { subAgents }) };
}

/** A sub-agent run's spend rolled up into its parent's ledger, and attributed to the sub-agent. */
export function addSubAgentToLedger(ledger: CostLedger, agent: string, child: CostLedger): CostLedger {
  const merged = mergeLedgers(ledger, { usd: child.usd, byModel: child.byModel });
  const tokens = Object.values(child.byModel).reduce((n, s) => n + billedTokens(s), 0);
  const subAgents = mergeSubAgents(merged.subAgents, { [agent]: { runs: 1, usd: child.usd, tokens } }) ?? {};
  return { ...merged, subAgents };
}

function mergeSubAgents(a: CostLedger['subAgents'], b: CostLedger['subAgents']): CostLedger['subAgents'] {
  if (!a && !b) return undefined;
  const out: Record<string, SubAgentSpend> = { ...a };
  for (const [agent, s] of Object.entries(b ?? {})) {
    const before = Object.hasOwn(out, agent) ? out[agent] : undefined;
    const usd = before === undefined ? s.usd : before.usd === null || s.usd === null ? null : before.usd + s.usd;
    const value = { runs: (before?.runs ?? 0) + s.runs, usd, tokens: (before?.tokens ?? 0) + s.tokens };
    Object.defineProperty(out, agent, { value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** A dollar amount for people: `$0.0123` (4 decimals below a dollar, else 2), or `—` when unknown. */
export function formatUsd(usd: number | null | undefined): string {
  if (usd === null || usd === undefined || !Number.isFinite(usd)) return '—';
  return usd < 1 ? `$${usd.toFixed(4)}` : `$${usd.toFixed(2)}`;
}
