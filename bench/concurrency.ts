/**
 * Concurrency: N runs of 5 turns each at 200 ms model latency, all on one worker process, started
 * concurrently with bounded parallelism. Measures the start phase, the makespan (first start →
 * last completion) against the ideal (5 × 200 ms + tool time ≈ 1 s), the worker's peak RSS, and
 * the CPU each process spent (the measured cause when the makespan misses the ideal).
 */
import type { AgentRunner, RunHandle } from '../client/runner.js';
import { cpuMeter, sampleRss, type BenchWorker } from './processes.js';
import { perTurnCalls } from './stack.js';
import { mapLimit, median, p95 } from './stats.js';
import { benchPrompt } from './timed-brain.js';

/** Turns per run and model latency, as the brief fixes them. */
export const CONC_TURNS = 5;
export const CONC_LATENCY_MS = 200;
/** 5 model calls × 200 ms; the echo tool takes ~0 ms. */
export const IDEAL_MS = CONC_TURNS * CONC_LATENCY_MS;

/** What one concurrency level measured. */
export interface ConcurrencyResult {
  runs: number;
  completed: number;
  failed: number;
  /** First start call → last start acknowledged, ms. */
  startPhaseMs: number;
  /** First start call → last run completed, ms. */
  makespanMs: number;
  /** Start acknowledged → result, per run, ms. */
  runMs: number[];
  turnsPerSecond: number;
  peakRss: number;
  hwm: number;
  /** CPU ms spent by each process during the phase. */
  cpu: Record<string, number>;
  /** The server's persistence calls per turn, by operation. */
  persistencePerTurn: Map<string, number>;
  /** Set when runs did not finish within the time limit. */
  timedOut?: boolean;
}

/**
 * Start `runs` runs (at most `startParallelism` start calls in flight) and wait for all of them.
 * `pids` are the processes whose CPU is metered (server, worker, bench).
 */
export async function measureConcurrency(opts: {
  label: string;
  runner: AgentRunner;
  worker: BenchWorker;
  runs: number;
  /** The agent the runs use (default `toolbox`, bench/agents.ts). */
  agent?: string;
  startParallelism: number;
  pids: Record<string, number>;
  timeLimitMs: number;
  persistenceCalls: () => Promise<Map<string, number>>;
}): Promise<ConcurrencyResult> {
  const { label, runner, runs } = opts;
  const agent = opts.agent ?? 'toolbox';
  // Warm-up: the worker's first workflow contexts, HTTP pools and JIT, off the clock.
  await Promise.all(
    Array.from({ length: 10 }, async (_, i) => {
      const tag = `${label}-warm-${i}-${Date.now()}`;
      await (await runner.start(agent, benchPrompt(tag, 2), { workflowId: tag, overrides: { maxTurns: 2 } })).result();
    }),
  );
  const callsBefore = await opts.persistenceCalls();
  const rss = sampleRss(opts.worker.pid, 200);
  const cpu = cpuMeter(opts.pids);
  const stamp = Date.now();
  const t0 = performance.now();
  const started: { handle: RunHandle; at: number }[] = [];
  let lastStart = t0;
  // Results are awaited as soon as each run starts, so early runs are not held back by the start phase.
  const done: Promise<{ ok: boolean; ms: number; at: number }>[] = [];
  await mapLimit(
    Array.from({ length: runs }, (_, i) => i),
    opts.startParallelism,
    async (i) => {
      const tag = `${label}-${stamp}-${i}`;
      const handle = await runner.start(agent, benchPrompt(tag, CONC_TURNS), { workflowId: tag, overrides: { maxTurns: CONC_TURNS } });
      const at = performance.now();
      lastStart = Math.max(lastStart, at);
      started.push({ handle, at });
      done.push(
        handle.result().then(
          (r) => ({ ok: r.status === 'completed' && r.turns === CONC_TURNS, ms: performance.now() - at, at: performance.now() }),
          () => ({ ok: false, ms: performance.now() - at, at: performance.now() }),
        ),
      );
    },
  );
  const startPhaseMs = lastStart - t0;
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), opts.timeLimitMs)));
  const outcome = await Promise.race([Promise.all(done), limit]);
  clearTimeout(timer);
  const cpuUsed = cpu.stop();
  const mem = rss.stop();
  if (outcome === 'timeout') {
    // Leave nothing running behind the bench: terminate what did not finish.
    await mapLimit(started, 50, async ({ handle }) => handle.temporal.terminate('bench time limit').catch(() => undefined));
    return {
      runs,
      completed: 0,
      failed: runs,
      startPhaseMs,
      makespanMs: Number.NaN,
      runMs: [],
      turnsPerSecond: Number.NaN,
      peakRss: mem.peakRss,
      hwm: mem.hwm,
      cpu: cpuUsed,
      persistencePerTurn: new Map(),
      timedOut: true,
    };
  }
  const last = Math.max(...outcome.map((o) => o.at));
  const makespanMs = last - t0;
  const persistencePerTurn = perTurnCalls(callsBefore, await opts.persistenceCalls(), runs * CONC_TURNS);
  return {
    runs,
    completed: outcome.filter((o) => o.ok).length,
    failed: outcome.filter((o) => !o.ok).length,
    startPhaseMs,
    makespanMs,
    runMs: outcome.map((o) => o.ms),
    turnsPerSecond: (runs * CONC_TURNS) / (makespanMs / 1000),
    peakRss: mem.peakRss,
    hwm: mem.hwm,
    cpu: cpuUsed,
    persistencePerTurn,
  };
}

/** One line per level, for the console. */
export function describeConcurrency(r: ConcurrencyResult): string {
  if (r.timedOut) return `${r.runs} runs: did not finish within the time limit (start phase ${(r.startPhaseMs / 1000).toFixed(1)} s)`;
  return (
    `${r.runs} runs × ${CONC_TURNS} turns: makespan ${(r.makespanMs / 1000).toFixed(2)} s vs ideal ${(IDEAL_MS / 1000).toFixed(1)} s ` +
    `(${(r.makespanMs / IDEAL_MS).toFixed(2)}×), start phase ${(r.startPhaseMs / 1000).toFixed(2)} s, ${r.turnsPerSecond.toFixed(0)} turns/s, ` +
    `run latency median ${(median(r.runMs) / 1000).toFixed(2)} s p95 ${(p95(r.runMs) / 1000).toFixed(2)} s, ` +
    `worker peak RSS ${(r.peakRss / 2 ** 20).toFixed(0)} MB (VmHWM ${(r.hwm / 2 ** 20).toFixed(0)} MB), ${r.completed}/${r.runs} completed`
  );
}
