/**
 * `npm run bench:cluster [-- --quick] [-- --rounds=N]`: the durable loop on the real cluster of
 * `npm run cluster` (Temporal 1.32.2 as four processes on PostgreSQL) beside the dev server as the
 * project ships it, with the harness of `npm run bench` (bench/overhead.ts, bench/concurrency.ts,
 * the fake Messages API, worker processes from bench/processes.ts):
 *
 * 1. overhead per turn: durable loop vs the plain in-process loop, 0 ms model latency;
 * 2. 100 concurrent runs × 5 turns at 200 ms model latency: wall time, per-run latency p50 / p95;
 * 3. peak memory of the server processes (PostgreSQL summed over its backends) and of the worker,
 *    and the CPU each spent.
 *
 * Each round measures both servers, in alternating order (a drifting machine then favours neither);
 * every server is fresh (new database) for its round. The results go to stdout and into
 * BENCHMARKS.md between the `bench:cluster` markers (`--quick`: printed only).
 */
import { FakeMessagesApi } from '../devtools/fake-api/server.js';
import { TEMPORAL_SERVER_VERSION } from '../scripts/cluster.js';
import { clusterTarget, devServerTarget, sampleTreeMemory, treeCpuMeter, type MemoryPeaks, type Target } from './cluster-targets.js';
import { CONC_LATENCY_MS, CONC_TURNS, IDEAL_MS, measureConcurrency, type ConcurrencyResult } from './concurrency.js';
import { measureOverhead, type OverheadResult } from './overhead.js';
import { spawnBenchWorker } from './processes.js';
import { environment, Output, progress, writeRegion } from './report.js';
import { BENCH_API_KEY, buildBundle } from './stack.js';
import { fmt, median, p95 } from './stats.js';
import { TimedBrain } from './timed-brain.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const rounds = Number(args.find((a) => a.startsWith('--rounds='))?.slice('--rounds='.length) ?? (quick ? 1 : 2));
const plan = { overheadTurns: quick ? 30 : 60, overheadRuns: quick ? 2 : 3, concurrentRuns: 100 };
/** Durable turns the overhead phase runs: the measured runs and 2 warm-up runs of 10 turns. */
const overheadDurableTurns = plan.overheadTurns * plan.overheadRuns + 2 * 10;
/** Turns the concurrency phase runs: the measured runs and 10 warm-up runs of 2 turns. */
const concurrencyTurns = plan.concurrentRuns * CONC_TURNS + 10 * 2;

// Ctrl-C: exit normally so the exit hooks stop the servers and worker processes we started.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130));

/** What one round measured on one server. */
interface Measured {
  overhead: OverheadResult;
  concurrency: ConcurrencyResult;
  /** Server trees (and the worker's) at rest after start, and their peaks over both phases. */
  idle: MemoryPeaks;
  peak: MemoryPeaks;
  /** CPU ms by process tree over each phase (server trees, worker, bench, others). */
  overheadCpu: Record<string, number>;
  concurrencyCpu: Record<string, number>;
}

async function overheadPhase(t: Target, bundlePath: string, label: string) {
  const brain = new TimedBrain();
  const fake = await FakeMessagesApi.start({ apiKey: BENCH_API_KEY, brain: brain.brain });
  const taskQueue = `bench-cluster-overhead-${label}`;
  const worker = spawnBenchWorker({
    address: t.address,
    taskQueue,
    baseURL: fake.url,
    apiKey: BENCH_API_KEY,
    bundlePath,
    maxActivities: 100,
  });
  try {
    await worker.ready;
    const cpu = treeCpuMeter({ ...t.serverPids, worker: worker.pid }, { bench: process.pid });
    const result = await measureOverhead({
      label,
      client: t.client,
      runner: await t.runner(taskQueue),
      taskQueue,
      brain,
      baseURL: fake.url,
      turns: plan.overheadTurns,
      runs: plan.overheadRuns,
      pids: { worker: worker.pid, bench: process.pid },
      persistenceCalls: async () => new Map(),
    });
    if (fake.problems.length) throw new Error(`fake API problems: ${fake.problems.join('; ')}`);
    return { result, cpu: cpu.stop() };
  } finally {
    await worker.stop();
    await fake.close();
  }
}

async function concurrencyPhase(t: Target, bundlePath: string, label: string) {
  const fake = await FakeMessagesApi.start({ apiKey: BENCH_API_KEY, brain: new TimedBrain().brain, latencyMs: CONC_LATENCY_MS });
  const taskQueue = `bench-cluster-conc-${label}`;
  const worker = spawnBenchWorker({
    address: t.address,
    taskQueue,
    baseURL: fake.url,
    apiKey: BENCH_API_KEY,
    bundlePath,
    maxActivities: 100,
  });
  try {
    await worker.ready;
    const cpu = treeCpuMeter({ ...t.serverPids, worker: worker.pid }, { bench: process.pid });
    const result = await measureConcurrency({
      label,
      runner: await t.runner(taskQueue),
      worker,
      runs: plan.concurrentRuns,
      startParallelism: 50,
      pids: { worker: worker.pid, bench: process.pid },
      timeLimitMs: 180_000,
      persistenceCalls: async () => new Map(),
    });
    return { result, cpu: cpu.stop() };
  } finally {
    await worker.stop();
  }
}

async function measure(start: () => Promise<Target>, bundlePath: string, round: number): Promise<[Target['name'], Measured]> {
  const t = await start();
  const label = `${t.name.replace(/\W+/g, '-')}-${round}-${Date.now()}`;
  try {
    await new Promise((r) => setTimeout(r, 2_000)); // let start-up work settle before the idle reading
    const idle = sampleTreeMemory(t.serverPids).stop();
    const mem = sampleTreeMemory(t.serverPids);
    progress(`${t.name}, round ${round}: overhead per turn (${plan.overheadRuns} × ${plan.overheadTurns} turns)`);
    const o = await overheadPhase(t, bundlePath, label);
    progress(`${t.name}, round ${round}: ${plan.concurrentRuns} concurrent runs`);
    const c = await concurrencyPhase(t, bundlePath, label);
    return [t.name, { overhead: o.result, concurrency: c.result, idle, peak: mem.stop(), overheadCpu: o.cpu, concurrencyCpu: c.cpu }];
  } finally {
    await t.close();
  }
}

const out = new Output();
const ms = (x: number) => `${fmt(x, 1)} ms`;
const s = (x: number) => `${fmt(x / 1000, 2)} s`;
const MB = (b: number) => `${fmt(b / 2 ** 20, 0)} MB`;
const pooled = (rs: Measured[], f: (r: Measured) => number[]) => rs.flatMap(f);
const each = (rs: Measured[], f: (r: Measured) => string) => rs.map(f).join(' · ');
const serverCpu = (cpu: Record<string, number>) =>
  Object.entries(cpu)
    .filter(([k]) => !['worker', 'bench', 'others'].includes(k))
    .reduce((n, [, v]) => n + v, 0);

function reportOverhead(results: Map<string, Measured[]>): void {
  const names = [...results.keys()];
  const col = (f: (rs: Measured[]) => string) => names.map((n) => f(results.get(n)!));
  const durable = (rs: Measured[]) => pooled(rs, (r) => r.overhead.durable);
  const plain = (rs: Measured[]) => pooled(rs, (r) => r.overhead.plain);
  const seg = (rs: Measured[], k: keyof OverheadResult['segments'][number]) =>
    median(pooled(rs, (r) => r.overhead.segments.map((x) => x[k])));
  out.line(`#### Overhead per turn`);
  out.line();
  out.table(
    ['per turn', ...names],
    [
      ['durable loop, median / p95', ...col((rs) => `${ms(median(durable(rs)))} / ${ms(p95(durable(rs)))}`)],
      ['plain loop, median / p95', ...col((rs) => `${ms(median(plain(rs)))} / ${ms(p95(plain(rs)))}`)],
      [
        '**added by Temporal**, median / p95',
        ...col((rs) => `**${ms(median(durable(rs)) - median(plain(rs)))}** / ${ms(p95(durable(rs)) - p95(plain(rs)))}`),
      ],
      ['  workflow tasks: scheduled → started (×2), median', ...col((rs) => ms(seg(rs, 'wftDispatch')))],
      ['  workflow tasks: started → completed (×2), median', ...col((rs) => ms(seg(rs, 'wftExecution')))],
      ['  activities: scheduled → started (×2), median', ...col((rs) => ms(seg(rs, 'modelDispatch') + seg(rs, 'toolDispatch')))],
      ['  activities: started → completed (×2), median', ...col((rs) => ms(seg(rs, 'modelExecution') + seg(rs, 'toolExecution')))],
      ['CPU per durable turn: server processes / worker', ...col((rs) => cpuPerTurn(rs, (r) => r.overheadCpu, overheadDurableTurns))],
    ],
  );
}

function cpuPerTurn(rs: Measured[], f: (r: Measured) => Record<string, number>, turns: number): string {
  const server = median(rs.map((r) => serverCpu(f(r)) / turns));
  const worker = median(rs.map((r) => (f(r).worker ?? 0) / turns));
  return `${ms(server)} / ${ms(worker)}`;
}

/** Each server process's CPU per turn in the concurrency phase (median over rounds). */
function serverSplit(rs: Measured[], turns: number): string {
  const names = Object.keys(rs[0]!.concurrencyCpu).filter((k) => !['worker', 'bench', 'others'].includes(k));
  return names.map((n) => `${n} ${ms(median(rs.map((r) => (r.concurrencyCpu[n] ?? 0) / turns)))}`).join(', ');
}

function reportConcurrency(results: Map<string, Measured[]>): void {
  const names = [...results.keys()];
  const col = (f: (rs: Measured[]) => string) => names.map((n) => f(results.get(n)!));
  const c = (r: Measured) => r.concurrency;
  out.line(`#### ${plan.concurrentRuns} concurrent runs`);
  out.line();
  out.table(
    ['each round (· separates rounds)', ...names],
    [
      ['wall time, first start → last result', ...col((rs) => each(rs, (r) => (c(r).timedOut ? 'timed out' : s(c(r).makespanMs))))],
      ['per-run latency, p50 / p95', ...col((rs) => each(rs, (r) => `${s(median(c(r).runMs))} / ${s(p95(c(r).runMs))}`))],
      ['start phase (100 start calls, 50 in flight)', ...col((rs) => each(rs, (r) => s(c(r).startPhaseMs)))],
      ['turns/s', ...col((rs) => each(rs, (r) => fmt(c(r).turnsPerSecond, 0)))],
      ['completed', ...col((rs) => each(rs, (r) => `${c(r).completed}/${c(r).runs}`))],
      ['CPU per turn: server processes / worker', ...col((rs) => cpuPerTurn(rs, (r) => r.concurrencyCpu, concurrencyTurns))],
      ['  server CPU per turn, by process', ...col((rs) => serverSplit(rs, concurrencyTurns))],
      [
        'CPU s: bench process (client + fake API) / rest of the machine',
        ...col((rs) =>
          each(rs, (r) => `${fmt((r.concurrencyCpu.bench ?? 0) / 1000, 1)} / ${fmt((r.concurrencyCpu.others ?? 0) / 1000, 1)}`),
        ),
      ],
    ],
  );
}

function reportMemory(results: Map<string, Measured[]>): void {
  const rows: string[][] = [];
  for (const [name, rs] of results) {
    for (const proc of Object.keys(rs[0]!.peak.byName)) {
      const peakPss = Math.max(...rs.map((r) => r.peak.byName[proc]!.pss));
      const peakRss = Math.max(...rs.map((r) => r.peak.byName[proc]!.rss));
      const idle = Math.max(...rs.map((r) => r.idle.byName[proc]!.pss));
      rows.push([name, proc, MB(idle), `${MB(peakPss)} (RSS ${MB(peakRss)})`]);
    }
    const total = (f: (r: Measured) => MemoryPeaks) => MB(Math.max(...rs.map((r) => f(r).totalPss)));
    rows.push([name, '**all server processes**', total((r) => r.idle), `**${total((r) => r.peak)}**`]);
    const worker = Math.max(...rs.map((r) => r.concurrency.peakRss));
    const hwm = Math.max(...rs.map((r) => r.concurrency.hwm));
    rows.push([name, 'worker process (100 concurrent runs)', '', `${MB(worker)} (VmHWM ${MB(hwm)})`]);
  }
  out.line(`#### Memory`);
  out.line();
  out.table(['server', 'process', 'at rest (PSS)', 'peak over both phases: PSS (RSS)'], rows);
}

async function main(): Promise<void> {
  const started = performance.now();
  out.line(`Command: \`npm run bench:cluster${quick ? ' -- --quick' : ''}\` (${rounds} round${rounds > 1 ? 's' : ''})`);
  out.line();
  for (const [k, v] of Object.entries(environment())) out.line(`- ${k}: ${v}`);
  out.line(
    `- cluster: Temporal server ${TEMPORAL_SERVER_VERSION} built from source, frontend/history/matching/worker processes, PostgreSQL`,
  );
  out.line(`- payload codecs: AGENT_RUNNER_COMPRESSION=${process.env.AGENT_RUNNER_COMPRESSION ?? '(unset: the project default)'}`);
  out.line();
  progress('bundling the workflows once for every worker process');
  const bundle = await buildBundle();
  const results = new Map<string, Measured[]>([
    ['dev server', []],
    ['cluster', []],
  ]);
  try {
    for (let round = 1; round <= rounds; round++) {
      const starts = [devServerTarget, () => clusterTarget((l) => progress(`cluster: ${l}`))];
      for (const start of round % 2 ? starts : starts.reverse()) {
        const [name, m] = await measure(start, bundle.path, round);
        results.get(name)!.push(m);
      }
    }
  } finally {
    bundle.remove();
  }
  out.line(
    `Overhead: ${plan.overheadRuns} runs × ${plan.overheadTurns} turns per server and round (after 2 warm-up runs), plain and durable alternating, ` +
      `0 ms model latency; the per-turn segments come from the history's timestamps. Concurrency: ${plan.concurrentRuns} runs × ${CONC_TURNS} turns at ` +
      `${CONC_LATENCY_MS} ms model latency (ideal ${s(IDEAL_MS)} per run), one worker process (AGENT_RUNNER_MAX_ACTIVITIES=100), after 10 warm-up runs. ` +
      `CPU: /proc, summed over each process tree, over the whole phase (warm-ups included) divided by its durable turns. Memory: sampled every 500 ms.`,
  );
  out.line();
  reportOverhead(results);
  reportConcurrency(results);
  reportMemory(results);
  out.line(`Bench wall time: ${s(performance.now() - started)}; load average at the end: ${environment()['load average at start']}.`);
  if (quick) progress('--quick: BENCHMARKS.md left unchanged');
  else {
    writeRegion('cluster', out.lines.join('\n'));
    progress('results written to BENCHMARKS.md (bench:cluster section)');
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(`bench:cluster failed: ${(e as Error).stack ?? String(e)}`);
    process.exit(1);
  },
);
