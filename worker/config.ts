/**
 * Worker configuration, read from the environment in one place and checked at start.
 *
 * | variable | default | meaning |
 * |---|---|---|
 * | AGENT_RUNNER_AGENTS | agents/index.ts | module whose `agents` export this worker serves |
 * | AGENT_RUNNER_WORKFLOW_BUNDLE | (bundle at start) | a prebuilt workflow bundle (`bundleWorkflowCode`) |
 * | AGENT_RUNNER_SHUTDOWN_GRACE | 30s | how long in-flight activities may finish after SIGTERM/SIGINT |
 * | AGENT_RUNNER_MAX_ACTIVITIES | 100 | activities run at once (model calls + tools) |
 * | AGENT_RUNNER_MODEL_RPS | (none) | model calls per second across all workers: model calls go to their own task queue with this server-side rate limit |
 * | AGENT_RUNNER_MODEL_CONCURRENCY | (none) | model calls at once on this worker (also moves them to their own task queue) |
 * | AGENT_RUNNER_PRICES | (built-in table) | a JSON file of prices laid over the built-in table (contract/prices.ts) |
 * | ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL | SDK defaults | the model endpoint, read by the SDK itself |
 * | TEMPORAL_*, AGENT_RUNNER_TASK_QUEUE | see connection/settings.ts | where the worker polls |
 */
import { existsSync, readFileSync } from 'node:fs';
import { builtInPrices, mergePrices, priceTableProblem, type PriceTable } from '../contract/prices.js';

/** The worker's own settings (connection settings: connection/settings.ts). */
export interface WorkerConfig {
  workflowBundlePath: string | undefined;
  shutdownGraceTime: string;
  maxConcurrentActivities: number;
  /** Set when model calls get their own, rate-limited task queue. */
  modelQueue: { requestsPerSecond?: number; maxConcurrentCalls?: number } | undefined;
  /** The built-in prices, with AGENT_RUNNER_PRICES laid over them. */
  prices: PriceTable;
}

const DURATION = /^\d+(ms|s|m|h)$/;

/** Read and check; throws one line naming the variable and what to do. */
export function workerConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const bundle = env.AGENT_RUNNER_WORKFLOW_BUNDLE || undefined;
  if (bundle && !existsSync(bundle))
    throw new Error(`AGENT_RUNNER_WORKFLOW_BUNDLE=${bundle} does not exist: build it or unset the variable`);
  const grace = env.AGENT_RUNNER_SHUTDOWN_GRACE || '30s';
  if (!DURATION.test(grace)) throw new Error(`AGENT_RUNNER_SHUTDOWN_GRACE=${grace} is not a duration such as 30s or 2m`);
  const max = Number(env.AGENT_RUNNER_MAX_ACTIVITIES || 100);
  if (!Number.isInteger(max) || max < 1)
    throw new Error(`AGENT_RUNNER_MAX_ACTIVITIES=${env.AGENT_RUNNER_MAX_ACTIVITIES} must be a positive integer`);
  const rps = positive(env, 'AGENT_RUNNER_MODEL_RPS', false);
  const concurrency = positive(env, 'AGENT_RUNNER_MODEL_CONCURRENCY', true);
  const modelQueue =
    rps === undefined && concurrency === undefined
      ? undefined
      : { ...(rps !== undefined && { requestsPerSecond: rps }), ...(concurrency !== undefined && { maxConcurrentCalls: concurrency }) };
  return { workflowBundlePath: bundle, shutdownGraceTime: grace, maxConcurrentActivities: max, modelQueue, prices: pricesFrom(env) };
}

function positive(env: NodeJS.ProcessEnv, name: string, integer: boolean): number | undefined {
  const raw = env[name];
  if (!raw) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n)))
    throw new Error(`${name}=${raw} must be a positive ${integer ? 'integer' : 'number'}`);
  return n;
}

/** The price table: built in, with the JSON file in AGENT_RUNNER_PRICES laid over it. */
function pricesFrom(env: NodeJS.ProcessEnv): PriceTable {
  const path = env.AGENT_RUNNER_PRICES;
  if (!path) return builtInPrices();
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(
      `AGENT_RUNNER_PRICES=${path} cannot be read as JSON (${(e as Error).message.split('\n')[0]}): fix the file or unset the variable`,
    );
  }
  const problem = priceTableProblem(parsed);
  if (problem) throw new Error(`AGENT_RUNNER_PRICES=${path}: ${problem}`);
  return mergePrices(builtInPrices(), parsed as Partial<PriceTable>);
}
