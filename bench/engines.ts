/**
 * Engines side by side: the plain in-process loop, agent-runner and the textbook Temporal loop
 * (bench/textbook/), each on a dev server configuration of its own, measured in the same bench
 * run, interleaved. What is measured on each:
 *
 * - per-turn time of one run of N turns at 0 ms model latency (request-to-request gaps at the
 *   fake API), and the overhead = its median minus the median of a plain-loop run made just
 *   before it;
 * - a wave of R runs of T turns started at once (makespan: first start → last result), with the
 *   RSS of the server and worker processes sampled from /proc (peak of their sum) and their CPU.
 */
import { Client } from '@temporalio/client';
import { fileURLToPath } from 'node:url';
import { DEV_SERVER_FILE_PRAGMAS, DEV_SERVER_TUNING } from '../scripts/dev-server.js';
import { toolboxAgent } from './agents.js';
import { plainLoop } from './overhead.js';
import { cpus } from 'node:os';
import { cpuMeter, machineBusyMs, procStatusBytes, spawnBenchWorker } from './processes.js';
import { progress } from './report.js';
import { BENCH_API_KEY, startStack, type Stack } from './stack.js';
import { gaps, median } from './stats.js';
import { benchPrompt, type TimedBrain } from './timed-brain.js';
import type { TuningOptions } from './worker-process.js';
import type { RunResult } from '../contract/run.js';

/** The textbook loop's worker entry and workflows (bundled once by the bench). */
export const TEXTBOOK_WORKER = fileURLToPath(new URL('./textbook/worker.ts', import.meta.url));
export const TEXTBOOK_WORKFLOWS = fileURLToPath(new URL('./textbook/workflows.ts', import.meta.url));

/** How a dev server is started. */
export interface ServerSetup {
  name: string;
  what: string;
  /** `temporal server start-dev` arguments besides address, namespace and search attributes. */
  args: string[];
  /** State in a SQLite file (as `npm run server`) instead of in memory. */
  dbFile: boolean;
  /** Web UI served by the same process. */
  ui: boolean;
  /** More environment for the server process. */
  env?: Record<string, string>;
}

/** `temporal server start-dev` as it comes: in-memory SQLite, UI on, no dynamic config. */
export const STOCK_SERVER: ServerSetup = {
  name: 'stock',
  what: '`temporal server start-dev` as it comes (in-memory SQLite, Web UI on, no dynamic config)',
  args: [],
  dbFile: false,
  ui: true,
};

/** What `npm run server` starts (scripts/server.ts), minus the codec server (a separate process). */
export const SHIPPED_SERVER: ServerSetup = {
  name: 'shipped',
  what: `as \`npm run server\` starts it: ${[...DEV_SERVER_TUNING, ...DEV_SERVER_FILE_PRAGMAS]
    .filter((a) => !a.startsWith('--'))
    .map((a) => `\`${a}\``)
    .join(', ')}, state in a SQLite file, Web UI on`,
  args: [...DEV_SERVER_TUNING, ...DEV_SERVER_FILE_PRAGMAS],
  dbFile: true,
  ui: true,
};

/** One engine configuration under test (a row of the table). */
export interface EngineSetup {
  name: string;
  engine: 'plain' | 'agent-runner' | 'textbook';
  server?: ServerSetup;
  /** agent-runner only: WorkerOptions on top of the shipped ones (bench/worker-process.ts); none = worker/main.ts as shipped. */
  tuning?: TuningOptions;
  /** More environment for the worker process (e.g. AGENT_RUNNER_COMPRESSION). */
  env?: Record<string, string>;
  /** agent-runner only: the agent the runs use (default `toolbox`, bench/agents.ts). */
  agent?: string;
  /**
   * agent-runner only: how the bench waits for a run — `runner` (default): `RunHandle.result()`, as
   * shipped, which also checks every 2 s whether the run is stuck (a describe per check);
   * `temporal`: the Temporal handle's own `result()` (one long poll, nothing else).
   */
  waitWith?: 'runner' | 'temporal';
  /** Extra Node flags for the worker process (e.g. `--cpu-prof`). */
  nodeArgs?: string[];
  /** agent-runner only: run another revision's worker (bench/levers.ts exports it) with its own workflow bundle. */
  checkout?: { root: string; bundle: string };
}

/** Prebuilt workflow bundles. */
export interface Bundles {
  agentRunner: string;
  textbook: string;
}

/** A started engine: its server and worker processes, and how to make one run. */
export interface LiveEngine {
  setup: EngineSetup;
  /** Processes whose RSS and CPU count (server, worker); none for the plain loop. */
  pids: Record<string, number>;
  stack: Stack | undefined;
  /** One run of `turns` turns of the echo script, tagged `tag`; rejects unless it completed all of them. */
  run(tag: string, turns: number): Promise<void>;
  close(): Promise<void>;
}

/** Start an engine's dev server and worker process (nothing for the plain loop). */
export async function startEngine(setup: EngineSetup, fakeUrl: string, bundles: Bundles): Promise<LiveEngine> {
  if (setup.engine === 'plain') {
    return {
      setup,
      pids: {},
      stack: undefined,
      async run(tag, turns) {
        const n = await plainLoop(fakeUrl, toolboxAgent, [{ role: 'user', content: benchPrompt(tag, turns) }], turns);
        if (n !== turns) throw new Error(`plain run ${tag}: ${n} of ${turns} turns`);
      },
      close: async () => undefined,
    };
  }
  const server = setup.server ?? STOCK_SERVER;
  const stack = await startStack(server.args, { dbFile: server.dbFile, ui: server.ui, ...(server.env && { env: server.env }) });
  const taskQueue = `engines-${setup.name.replace(/[^a-z0-9-]+/gi, '-')}`;
  const textbook = setup.engine === 'textbook';
  const worker = spawnBenchWorker({
    address: stack.server.address,
    taskQueue,
    baseURL: fakeUrl,
    apiKey: BENCH_API_KEY,
    bundlePath: setup.checkout?.bundle ?? bundles.agentRunner,
    ...(setup.checkout && { root: setup.checkout.root }),
    maxActivities: 100,
    ...(setup.tuning && { tuning: setup.tuning }),
    ...(textbook && { entry: TEXTBOOK_WORKER }),
    ...(setup.nodeArgs && { nodeArgs: setup.nodeArgs }),
    env: {
      ...(textbook && { TEXTBOOK_TASK_QUEUE: taskQueue, TEXTBOOK_WORKFLOW_BUNDLE: bundles.textbook }),
      ...setup.env,
    },
  });
  try {
    await worker.ready;
  } catch (e) {
    await worker.stop();
    await stack.close();
    throw e;
  }
  const pids = { server: stack.server.process.pid!, worker: worker.pid };
  const close = async () => {
    await worker.stop();
    await stack.close();
  };
  if (textbook) {
    // The default data converter, as the textbook worker uses.
    const client = new Client({ connection: stack.connection, namespace: 'default' });
    return {
      setup,
      pids,
      stack,
      async run(tag, turns) {
        const handle = await client.workflow.start('textbookAgent', { taskQueue, workflowId: tag, args: [benchPrompt(tag, turns), turns] });
        const r = (await handle.result()) as { turns: number };
        if (r.turns !== turns) throw new Error(`textbook run ${tag}: ${r.turns} of ${turns} turns`);
      },
      close,
    };
  }
  const runner = await stack.runner(taskQueue);
  const agent = setup.agent ?? 'toolbox';
  return {
    setup,
    pids,
    stack,
    async run(tag, turns) {
      const run = await runner.start(agent, benchPrompt(tag, turns), { workflowId: tag, overrides: { maxTurns: turns } });
      const r = setup.waitWith === 'temporal' ? ((await run.temporal.result()) as RunResult) : await run.result();
      if (r.status !== 'completed' || r.turns !== turns)
        throw new Error(`run ${tag} ended ${r.status} after ${r.turns} turns: ${r.error ?? ''}`);
    },
    close,
  };
}

/** Per-turn times (ms) of one run of `turns` turns. */
export async function turnTimes(engine: LiveEngine, brain: TimedBrain, tag: string, turns: number): Promise<number[]> {
  await engine.run(tag, turns);
  return gaps(brain.of(tag));
}

/**
 * One overhead sample: an unmeasured 10-turn run of the engine, a plain run, then the engine's
 * measured run of the same length. The unmeasured run puts the server in the steady state of a
 * busy one: the history service's transfer-queue reads are rate limited by a token bucket whose
 * burst equals its rate (20 a second by default), so after a quiet second the next 20 reads — ten
 * turns — would go through without the wait every later turn pays.
 */
export interface OverheadPair {
  turns: number;
  plain: number[];
  engine: number[];
  /** median(engine) − median(plain), ms. */
  overhead: number;
}

export async function overheadPair(
  engine: LiveEngine,
  plain: LiveEngine,
  brain: TimedBrain,
  tag: string,
  turns: number,
): Promise<OverheadPair> {
  if (engine !== plain) await engine.run(`${tag}-prime`, 10);
  const p = await turnTimes(plain, brain, `${tag}-plain`, turns);
  const e = engine === plain ? p : await turnTimes(engine, brain, `${tag}-engine`, turns);
  return { turns, plain: p, engine: e, overhead: median(e) - median(p) };
}

/** What a wave measured. */
export interface WaveResult {
  runs: number;
  turns: number;
  completed: number;
  /** First start call → last result, ms. */
  makespanMs: number;
  /** Peak of the summed VmRSS of the engine's processes, sampled every 100 ms (NaN for the plain loop). */
  peakRss: number;
  /** Peak VmRSS of each process. */
  peakRssBy: Record<string, number>;
  /** CPU ms of each process (and the rest of the machine) during the wave. */
  cpu: Record<string, number>;
  errors: string[];
}

/** `runs` runs of `turns` turns, all started at once; waits for every one. */
export async function wave(engine: LiveEngine, label: string, runs: number, turns: number): Promise<WaveResult> {
  const pids = Object.entries(engine.pids);
  const peakBy: Record<string, number> = {};
  let peak = 0;
  const sample = () => {
    let sum = 0;
    for (const [k, pid] of pids) {
      const rss = procStatusBytes(pid, 'VmRSS');
      peakBy[k] = Math.max(peakBy[k] ?? 0, rss);
      sum += rss;
    }
    peak = Math.max(peak, sum);
  };
  sample();
  const timer = setInterval(sample, 100);
  const cpu = cpuMeter({ ...engine.pids, bench: process.pid });
  const errors: string[] = [];
  const t0 = performance.now();
  const outcomes = await Promise.all(
    Array.from({ length: runs }, (_, i) =>
      engine.run(`${label}-${i}`, turns).then(
        () => true,
        (e: unknown) => {
          errors.push((e as Error).message.split('\n')[0] ?? String(e));
          return false;
        },
      ),
    ),
  );
  const makespanMs = performance.now() - t0;
  clearInterval(timer);
  sample();
  return {
    runs,
    turns,
    completed: outcomes.filter(Boolean).length,
    makespanMs,
    peakRss: pids.length ? peak : Number.NaN,
    peakRssBy: peakBy,
    cpu: cpu.stop(),
    errors,
  };
}

/** A few short runs at once, off the clock: JIT, workflow contexts, sticky queues, HTTP pools. */
export async function warmUp(engine: LiveEngine, label: string): Promise<void> {
  await Promise.all(Array.from({ length: 10 }, (_, i) => engine.run(`${label}-warm-${i}`, 2)));
  await engine.run(`${label}-warm-serial`, 5);
}

/**
 * Wait (up to `maxMs`) until the rest of the machine is quiet: other engineers' test suites share
 * these two cores, and a measurement taken while they run measures them. Quiet = less than
 * `busyShare` of all cores busy over a 2 s sample (the bench's own processes idle between cells).
 * Returns the busy share seen last.
 */
export async function waitForQuiet(maxMs = 180_000, busyShare = 0.2): Promise<number> {
  const cores = cpus().length;
  const deadline = Date.now() + maxMs;
  let share = 1;
  let said = false;
  while (Date.now() < deadline) {
    const before = machineBusyMs();
    await new Promise((r) => setTimeout(r, 2_000));
    share = (machineBusyMs() - before) / (2_000 * cores);
    if (share < busyShare) return share;
    if (!said) {
      progress(`waiting for the machine to be quiet (${(share * 100).toFixed(0)} % busy)…`);
      said = true;
    }
  }
  progress(`the machine stayed busy (${(share * 100).toFixed(0)} %): measuring anyway`);
  return share;
}

/**
 * Run a measurement and check that the rest of the machine stayed quiet meanwhile: if other
 * processes used more than `maxShare` of the cores during it, wait for quiet and take it again
 * (at most `retries` times; the last take stands). Returns the result and how many takes it needed.
 */
export async function quietly<T>(
  engine: LiveEngine,
  fn: () => Promise<T>,
  retries = 2,
  maxShare = 0.15,
): Promise<{ value: T; takes: number }> {
  const cores = cpus().length;
  for (let take = 1; ; take++) {
    const meter = cpuMeter({ ...engine.pids, bench: process.pid });
    const t0 = performance.now();
    const value = await fn();
    const others = meter.stop().others ?? 0;
    const share = others / ((performance.now() - t0) * cores);
    if (share <= maxShare || take > retries) return { value, takes: take };
    progress(`  other processes used ${(share * 100).toFixed(0)} % of the machine during that measurement: taking it again`);
    await waitForQuiet();
  }
}
