/**
 * Spend from the command line: `budget` shows a run's budget and spend, or raises it (a run
 * paused at its budget goes on); `start --max-cost-usd / --max-total-tokens` give a run its own.
 */
import { formatUsd } from '../contract/prices.js';
import type { RunOverrides } from '../contract/run.js';
import { stateQuery } from '../contract/workflow.js';
import { flag, json, str, UsageError, type Command, type Values } from './cli-kit.js';
import { oneLine } from './format.js';

const DOLLARS = /^\d+(\.\d+)?$/;
const COUNT = /^[1-9]\d{0,14}$/;

/** The budget overrides of `start`, checked: a bad value is bad usage. */
export function budgetOverrides(values: Values): RunOverrides | undefined {
  const usd = str(values, 'max-cost-usd');
  const tokens = str(values, 'max-total-tokens');
  if (usd === undefined && tokens === undefined) return undefined;
  const bad = (m: string) => new UsageError(m, { command: 'start' });
  if (usd !== undefined && (!DOLLARS.test(usd) || Number(usd) <= 0))
    throw bad('--max-cost-usd must be a number of dollars above 0, e.g. 0.50');
  if (tokens !== undefined && !COUNT.test(tokens)) throw bad('--max-total-tokens must be a positive integer, e.g. 200000');
  return { ...(usd !== undefined && { maxCostUsd: Number(usd) }), ...(tokens !== undefined && { maxTotalTokens: Number(tokens) }) };
}

/** The spend commands, merged into the CLI's table. */
export const SPEND_COMMANDS: Record<string, Command> = {
  budget: {
    args: '<workflowId>',
    arity: [1, 1],
    takes: '<workflowId>',
    summary: "Show a run's budget and spend; with --add-usd / --add-tokens, raise it (a run paused at its budget goes on).",
    options: {
      'add-usd': { type: 'string', value: 'USD', help: 'dollars to add to the run’s USD budget' },
      'add-tokens': { type: 'string', value: 'N', help: 'tokens to add to the run’s token budget' },
      by: { type: 'string', value: 'NAME', help: 'who you are (shown by watch)' },
      json,
    },
    async run({ args: [id = ''], values, io, connect }) {
      const addUsd = str(values, 'add-usd');
      const addTokens = str(values, 'add-tokens');
      const bad = (m: string) => new UsageError(m, { command: 'budget' });
      if (addUsd !== undefined && (!DOLLARS.test(addUsd) || Number(addUsd) <= 0))
        throw bad('--add-usd must be a number of dollars above 0, e.g. 1');
      if (addTokens !== undefined && !COUNT.test(addTokens)) throw bad('--add-tokens must be a positive integer');
      const runner = await connect();
      if (addUsd === undefined && addTokens === undefined) {
        const state = await (await runner.get(id)).temporal.query(stateQuery);
        if (flag(values, 'json')) io.out(JSON.stringify({ budget: state.budget ?? null, cost: state.cost ?? null }));
        else {
          const b = state.budget;
          io.out(
            `spent ${formatUsd(state.cost?.usd)}${b ? ` · ${b.spentTokens} tokens` : ''} · status ${oneLine(state.phase.replace('_', ' '))}`,
          );
          if (!b) io.out('no budget: start a run with --max-cost-usd or --max-total-tokens to give it one');
          else {
            io.out(
              `budget ${b.maxCostUsd !== undefined ? formatUsd(b.maxCostUsd) : ''}${b.maxCostUsd !== undefined && b.maxTotalTokens !== undefined ? ' and ' : ''}` +
                `${b.maxTotalTokens !== undefined ? `${b.maxTotalTokens} tokens` : ''}` +
                (b.nextCall ? ` · next model call up to ${formatUsd(b.nextCall.usd)} / ${b.nextCall.tokens} tokens` : ''),
            );
            if (b.shortfall) io.out(`stopped at the budget: ${oneLine(b.shortfall)}`);
          }
        }
        return 0;
      }
      const by = str(values, 'by');
      const r = await runner.raiseBudget(id, {
        ...(addUsd !== undefined && { addUsd: Number(addUsd) }),
        ...(addTokens !== undefined && { addTokens: Number(addTokens) }),
        ...(by && { by }),
      });
      if (flag(values, 'json')) io.out(JSON.stringify(r));
      else
        io.out(
          `budget of ${oneLine(id)} now ${[r.maxCostUsd !== undefined && formatUsd(r.maxCostUsd), r.maxTotalTokens !== undefined && `${r.maxTotalTokens} tokens`].filter(Boolean).join(' and ')}` +
            ` (spent ${formatUsd(r.spentUsd)}, ${r.spentTokens} tokens)`,
        );
      return 0;
    },
  },
};
