/**
 * `npm run bench:servers [-- --rounds=2] [-- --only=stock,shipped,…] [-- --engines=textbook,agent-runner]`:
 * dev-server dynamic configurations side by side, for the textbook loop and agent-runner as
 * shipped, at 1 run (per-turn time of one 20-turn run, overhead over a plain run made just before)
 * and at 100 runs of 5 turns started at once (makespan), each configuration on a fresh server,
 * configurations interleaved round by round (the order rotates each round). Writes the
 * `bench:servers` region of BENCHMARKS.md unless `--only` or `--no-write` is given.
 */
import { readFileSync } from 'node:fs';
import { FakeMessagesApi } from '../devtools/fake-api/server.js';
import {
  overheadPair,
  quietly,
  startEngine,
  TEXTBOOK_WORKFLOWS,
  wave,
  waitForQuiet,
  warmUp,
  type EngineSetup,
  type WaveResult,
} from './engines.js';
import { SERVER_CONFIGS } from './server-setups.js';
import { environment, Output, progress, writeRegion } from './report.js';
import { BENCH_API_KEY, buildBundle, perTurnCalls } from './stack.js';
import { fmt, median } from './stats.js';
import { TimedBrain } from './timed-brain.js';

const args = process.argv.slice(2);
const flag = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const rounds = Number(flag('rounds') ?? 2);
const only = flag('only')?.split(',');
const engines = (flag('engines') ?? 'textbook,agent-runner').split(',') as ('textbook' | 'agent-runner')[];
const runs = Number(flag('runs') ?? 100);
const turns1 = Number(flag('turns') ?? 20);
const write = !only && !args.includes('--no-write');
const configs = only ? SERVER_CONFIGS.filter((c) => only.includes(c.name)) : SERVER_CONFIGS;

interface Sample {
  overhead: number;
  turn: number;
  wave: WaveResult;
  calls: Map<string, number>;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130));

async function main(): Promise<void> {
  const out = new Output();
  const env = environment();
  const brain = new TimedBrain();
  const fake = await FakeMessagesApi.start({ apiKey: BENCH_API_KEY, brain: brain.brain });
  const ar = await buildBundle();
  const tb = await buildBundle(TEXTBOOK_WORKFLOWS);
  const bundles = { agentRunner: ar.path, textbook: tb.path };
  const plain = await startEngine({ name: 'plain', engine: 'plain' }, fake.url, bundles);
  const samples = new Map<string, Sample[]>();
  const loads: string[] = [];
  try {
    for (let r = 0; r < rounds; r++) {
      const order = configs.map((_, i) => configs[(i + r) % configs.length]!);
      for (const server of order) {
        for (const engine of engines) {
          const setup: EngineSetup = { name: `${engine}-${server.name}`, engine, server };
          const key = `${server.name}|${engine}`;
          await waitForQuiet();
          const live = await startEngine(setup, fake.url, bundles);
          try {
            const stamp = Date.now();
            await warmUp(live, `${key}-${stamp}`);
            await waitForQuiet();
            let t = 0;
            const { value: pair } = await quietly(live, () =>
              overheadPair(live, plain, brain, `${setup.name}-one-${stamp}-${t++}`, turns1),
            );
            // The server's counters are read around each take, so a retaken wave counts once.
            const {
              value: { w, calls },
            } = await quietly(live, async () => {
              const before = await live.stack!.persistenceCalls();
              const w = await wave(live, `${setup.name}-wave-${stamp}-${t++}`, runs, 5);
              return { w, calls: perTurnCalls(before, await live.stack!.persistenceCalls(), runs * 5) };
            });
            const list = samples.get(key) ?? [];
            list.push({ overhead: pair.overhead, turn: median(pair.engine), wave: w, calls });
            samples.set(key, list);
            const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
            loads.push(load);
            progress(
              `round ${r + 1} ${key}: 1 run ${fmt(median(pair.engine))} ms/turn (overhead ${fmt(pair.overhead)}), ` +
                `${runs}×5 ${fmt(w.makespanMs / 1000, 2)} s, RSS ${fmt(w.peakRss / 2 ** 20, 0)} MB, ` +
                `CPU s server ${fmt((w.cpu.server ?? 0) / 1000)} worker ${fmt((w.cpu.worker ?? 0) / 1000)} others ${fmt((w.cpu.others ?? 0) / 1000)}, ` +
                `${w.completed}/${runs}${w.errors.length ? ` errors: ${w.errors[0]}` : ''}; load ${load}`,
            );
          } finally {
            await live.close();
          }
        }
      }
    }
  } finally {
    await fake.close();
    ar.remove();
    tb.remove();
  }

  out.line(`Command: \`npm run bench:servers -- ${args.join(' ')}\``);
  out.line();
  for (const [k, v] of Object.entries(env)) out.line(`- ${k}: ${v}`);
  out.line(`- load average after each measurement: ${loads.join('; ')}`);
  out.line();
  const spread = (xs: number[], d = 1) =>
    xs.length > 1 ? `${fmt(median(xs), d)} (${fmt(Math.min(...xs), d)}–${fmt(Math.max(...xs), d)})` : fmt(xs[0] ?? Number.NaN, d);
  const rows: string[][] = [];
  for (const server of configs) {
    for (const engine of engines) {
      const list = samples.get(`${server.name}|${engine}`) ?? [];
      const calls = (op: string) => median(list.map((s) => s.calls.get(op) ?? 0));
      const all = (s: Sample) => [...s.calls.values()].reduce((a, b) => a + b, 0);
      rows.push([
        `${server.name}: ${server.what}`,
        engine,
        spread(list.map((s) => s.turn)),
        spread(list.map((s) => s.overhead)),
        spread(
          list.map((s) => s.wave.makespanMs / 1000),
          2,
        ),
        spread(
          list.map((s) => ((s.wave.cpu.server ?? 0) + (s.wave.cpu.worker ?? 0)) / (runs * 5)),
          1,
        ),
        spread(
          list.map((s) => (s.wave.cpu.others ?? 0) / 1000),
          1,
        ),
        `${spread(
          list.map((s) => s.wave.peakRss / 2 ** 20),
          0,
        )} (${fmt(median(list.map((s) => (s.wave.peakRssBy.server ?? 0) / 2 ** 20)), 0)} / ${fmt(
          median(list.map((s) => (s.wave.peakRssBy.worker ?? 0) / 2 ** 20)),
          0,
        )})`,
        `${fmt(median(list.map(all)), 1)} (${fmt(calls('GetTransferTasks'), 2)} / ${fmt(calls('CreateTasks'), 2)})`,
        list.map((s) => `${s.wave.completed}/${s.wave.runs}`).join(', '),
      ]);
    }
  }
  out.table(
    [
      'server configuration',
      'engine',
      '1 run: ms per turn',
      '1 run: overhead per turn, ms',
      `${runs} × 5 turns at once: makespan, s`,
      'CPU ms per turn in the wave (server + worker)',
      'CPU s of other processes during the wave',
      'peak RSS server + worker, MB (server / worker, medians)',
      'persistence calls per turn in the wave (GetTransferTasks / CreateTasks)',
      'completed',
    ],
    rows,
  );
  out.line(`Medians (min–max) over ${rounds} round(s); each cell of a round on a fresh dev server and worker process.`);
  out.line();
  const columns = configs.flatMap((c) => engines.map((e) => [`${c.name} ${e}`, samples.get(`${c.name}|${e}`) ?? []] as const));
  const ops = new Map<string, number>();
  for (const [, list] of columns) for (const smp of list) for (const [op, n] of smp.calls) ops.set(op, Math.max(ops.get(op) ?? 0, n));
  const top = [...ops].sort((a, b) => b[1] - a[1]).slice(0, 16);
  out.table(
    ['persistence calls per turn in the wave (median)', ...columns.map(([n]) => n)],
    top.map(([op]) => [op, ...columns.map(([, list]) => fmt(median(list.map((smp) => smp.calls.get(op) ?? 0)), 2))]),
  );
  if (write) {
    writeRegion('servers', out.lines.join('\n'));
    progress('results written to BENCHMARKS.md (servers section)');
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(`bench failed: ${(e as Error).stack ?? String(e)}`);
    process.exit(1);
  },
);
