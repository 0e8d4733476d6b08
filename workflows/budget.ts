/**
 * A run's spend and its budget. Every model call's usage is priced at the prices recorded in the
 * run's configuration (contract/prices.ts) into the run's ledger. Before each model call the
 * budget is checked against what that call may cost, so a run never starts a call it cannot
 * afford: on reaching it the run ends (`budget_exceeded`) or, when the agent says so, waits for a
 * person to raise it (the `budget` update) until a timeout.
 *
 * The estimate of the next call, stated: its prompt is the conversation plus the system prompt and
 * tools, at one token per 3 bytes of JSON (English text and JSON run 4 or more bytes a token, so
 * this errs high); the part the previous call sent is priced as a cache read when the runner
 * caches and that call ended within the cache TTL, the rest at the cache-write rate (caching) or
 * the input rate; plus `max_tokens` of output. Tokens: the same prompt estimate plus `max_tokens`.
 */
import { condition, setHandler } from '@temporalio/workflow';
import { msToNumber } from '@temporalio/common/lib/time.js';
import { DEFAULT_BUDGET_PAUSE_TIMEOUT, type RunConfig } from '../contract/config.js';
import {
  addBilled,
  addToLedger,
  billedTokens,
  billedUsage,
  emptyLedger,
  formatUsd,
  addSubAgentToLedger,
  type BilledUsage,
  type CostLedger,
} from '../contract/prices.js';
import { MAX_BUDGET_USD, jsonBytes } from '../contract/run-input.js';
import type { BudgetLimits, BudgetState } from '../contract/run.js';
import { budgetUpdate, type BudgetArgs } from '../contract/workflow.js';
import type { Usage } from '../contract/messages.js';
import { conversationBytes } from './context-policy.js';
import type { AgentRun } from './run-state.js';

/** Bytes of JSON per token the estimate assumes (fewer than real text averages, so it errs high). */
const BYTES_PER_TOKEN = 3;
/** The most tokens one raise may add (a typo guard). */
const MAX_TOKEN_RAISE = 1_000_000_000_000;

/** What the next model call may cost. */
export interface CallEstimate {
  usd: number | null;
  tokens: number;
}

/** The ledger, the limits, and the `budget` update of one run. */
export class Spend {
  ledger: CostLedger | undefined;
  limits: BudgetLimits | undefined;
  /** Raises accepted so far (a paused run wakes on a new one). */
  raises = 0;
  /** Why the run stopped at its budget, once it did. */
  stopDetail: string | undefined;
  /** The previous call: when it ended and how many prompt tokens it sent (for the estimate). */
  private lastCall: { at: number; promptTokens: number } | undefined;
  private readonly fixedBytes = new WeakMap<RunConfig, number>();

  constructor(carried: { cost?: CostLedger; budget?: BudgetLimits } | undefined, isDone: () => boolean) {
    this.ledger = carried?.cost;
    this.limits = carried?.budget;
    setHandler(
      budgetUpdate,
      (args) => {
        const limits = { ...this.limits };
        if (args.addUsd !== undefined) limits.maxCostUsd = (limits.maxCostUsd ?? 0) + args.addUsd;
        if (args.addTokens !== undefined) limits.maxTotalTokens = (limits.maxTotalTokens ?? 0) + args.addTokens;
        this.limits = limits;
        this.raises++;
        return { ...limits, spentUsd: this.ledger?.usd ?? null, spentTokens: this.spentTokens() };
      },
      { validator: (args) => this.checkRaise(args, isDone()) },
    );
  }

  /** Start keeping the ledger and the limits (a run whose configuration has prices). */
  start(config: RunConfig): void {
    if (!config.pricing) return;
    this.ledger ??= emptyLedger();
    if (this.limits === undefined && config.budget) {
      const { maxCostUsd, maxTotalTokens } = config.budget;
      this.limits = { ...(maxCostUsd !== undefined && { maxCostUsd }), ...(maxTotalTokens !== undefined && { maxTotalTokens }) };
    }
  }

  /** Price one completed model call (and the failed attempts before it whose usage the API reported). */
  charge(config: RunConfig, usage: Usage, failed?: { attempts: number; usage: BilledUsage }): void {
    if (!config.pricing || !this.ledger) return;
    const billed = failed ? addBilled(billedUsage(usage), billedUsage(failed.usage)) : billedUsage(usage);
    this.ledger = addToLedger(this.ledger, config.request.model, billed, config.pricing.price, {
      serverTools: config.pricing.serverTools,
      failedAttempts: failed?.attempts ?? 0,
    });
    const u = billedUsage(usage);
    this.lastCall = {
      at: Date.now(),
      promptTokens: u.input_tokens + u.cache_read_input_tokens + u.cache_write_5m_tokens + u.cache_write_1h_tokens,
    };
  }

  /** A sub-agent's run's spend, rolled up into this run's ledger and attributed to the agent. */
  addSubAgent(agent: string, ledger: CostLedger): void {
    if (this.ledger) this.ledger = addSubAgentToLedger(this.ledger, agent, ledger);
  }

  /** Tokens of every kind billed so far. */
  spentTokens(): number {
    return Object.values(this.ledger?.byModel ?? {}).reduce((n, s) => n + billedTokens(s), 0);
  }

  /** What the next call may cost (see the module comment). */
  estimate(run: AgentRun, config: RunConfig): CallEstimate {
    let fixed = this.fixedBytes.get(config);
    if (fixed === undefined) {
      fixed = jsonBytes(config.request.system ?? '') + jsonBytes(config.request.tools ?? []);
      this.fixedBytes.set(config, fixed);
    }
    const promptTokens = Math.ceil((fixed + conversationBytes(run.messages)) / BYTES_PER_TOKEN);
    const maxOut = config.request.max_tokens;
    const price = config.pricing?.price;
    if (!price) return { usd: null, tokens: promptTokens + maxOut };
    const caching = config.promptCaching;
    const ttlMs = caching?.ttl === '1h' ? 3_600_000 : 300_000;
    const cached =
      caching && this.lastCall && Date.now() - this.lastCall.at < ttlMs ? Math.min(this.lastCall.promptTokens, promptTokens) : 0;
    const r = price.longPrompt && promptTokens > price.longPrompt.aboveTokens ? price.longPrompt : price;
    const freshRate = caching ? (caching.ttl === '1h' ? r.cacheWrite1h : r.cacheWrite5m) : r.input;
    const usd = (cached * r.cacheRead + (promptTokens - cached) * freshRate + maxOut * r.output) / 1_000_000;
    return { usd, tokens: promptTokens + maxOut };
  }

  /** Why the next call does not fit the budget, or null when it does (or there is none). */
  shortfall(run: AgentRun, config: RunConfig): string | null {
    const limits = this.limits;
    if (!limits || !this.ledger) return null;
    const next = this.estimate(run, config);
    const spentUsd = this.ledger.usd;
    if (limits.maxCostUsd !== undefined && spentUsd !== null && next.usd !== null && spentUsd + next.usd > limits.maxCostUsd) {
      return `spent ${formatUsd(spentUsd)} of ${formatUsd(limits.maxCostUsd)}; the next model call may cost up to ${formatUsd(next.usd)}`;
    }
    const spent = this.spentTokens();
    if (limits.maxTotalTokens !== undefined && spent + next.tokens > limits.maxTotalTokens) {
      return `used ${spent} of ${limits.maxTotalTokens} tokens; the next model call may use up to ${next.tokens}`;
    }
    return null;
  }

  /**
   * Before a model call: true when it fits the budget. Otherwise false (the run stops at its
   * budget), or, for an agent that pauses, true once a raise makes it fit.
   */
  async allows(run: AgentRun, config: RunConfig): Promise<boolean> {
    for (;;) {
      const short = this.shortfall(run, config);
      if (!short) return true;
      this.stopDetail = short;
      if (config.budget?.onExceeded !== 'pause') return false;
      const raises = this.raises;
      run.phase = 'awaiting_budget';
      run.publish('running');
      const timeout = msToNumber(config.budget.pauseTimeout ?? DEFAULT_BUDGET_PAUSE_TIMEOUT);
      const raised = await condition(() => this.raises !== raises || run.cancelled, timeout);
      if (!raised || run.cancelled) return false;
      this.stopDetail = undefined;
    }
  }

  /** The budget as the `state` query shows it. */
  state(run: AgentRun, config: RunConfig | undefined): BudgetState | undefined {
    if (!this.limits) return undefined;
    return {
      ...this.limits,
      spentUsd: this.ledger?.usd ?? null,
      spentTokens: this.spentTokens(),
      ...(config && { nextCall: this.estimate(run, config) }),
      ...(this.stopDetail && { shortfall: this.stopDetail }),
    };
  }

  private checkRaise(args: BudgetArgs, done: boolean): void {
    if (typeof args !== 'object' || args === null) throw new Error('a raise needs { addUsd?: number, addTokens?: number }');
    const { addUsd, addTokens, by } = args as Record<string, unknown>;
    if (addUsd === undefined && addTokens === undefined) throw new Error('a raise needs addUsd and/or addTokens');
    if (addUsd !== undefined && (typeof addUsd !== 'number' || !Number.isFinite(addUsd) || addUsd <= 0 || addUsd > MAX_BUDGET_USD)) {
      throw new Error(`addUsd must be a number of dollars above 0 and at most ${MAX_BUDGET_USD}`);
    }
    if (
      addTokens !== undefined &&
      (typeof addTokens !== 'number' || !Number.isInteger(addTokens) || addTokens < 1 || addTokens > MAX_TOKEN_RAISE)
    ) {
      throw new Error('addTokens must be a positive integer');
    }
    if (by !== undefined && (typeof by !== 'string' || by.length > 200)) throw new Error('by must be a short string naming who raises it');
    if (done) throw new Error('the run has ended: there is no budget to raise');
    if (!this.limits) throw new Error('this run has no budget: start it with --max-cost-usd or --max-total-tokens to give it one');
    if (addUsd !== undefined && this.limits.maxCostUsd === undefined)
      throw new Error('this run has no USD budget (only a token budget): raise it with --add-tokens');
    if (addTokens !== undefined && this.limits.maxTotalTokens === undefined)
      throw new Error('this run has no token budget (only a USD budget): raise it with --add-usd');
  }
}
