/**
 * The bench's "engines side by side" section (the issue's table): the plain in-process loop,
 * agent-runner as shipped, and the textbook Temporal loop on the stock dev server and on the
 * server configuration the project ships, measured in one bench run, interleaved round by round.
 *
 * Per round and engine (the order rotates each round): a fresh dev server and worker process,
 * 10 warm-up runs, the wave (100 runs × 5 turns started at once, 0 ms model latency; RSS of
 * server + worker sampled from /proc every 100 ms), then overhead pairs — a plain run, then the
 * engine's run of the same length — of 20 turns (several) and of 200 turns (one).
 */
import { FakeMessagesApi } from '../devtools/fake-api/server.js';
import {
  overheadPair,
  quietly,
  SHIPPED_SERVER,
  startEngine,
  STOCK_SERVER,
  TEXTBOOK_WORKFLOWS,
  waitForQuiet,
  warmUp,
  wave,
  type EngineSetup,
  type OverheadPair,
  type WaveResult,
} from './engines.js';
import { progress, type Output } from './report.js';
import { BENCH_API_KEY, buildBundle } from './stack.js';
import { fmt, median } from './stats.js';
import { TimedBrain } from './timed-brain.js';

export const PLAIN: EngineSetup = { name: 'plain in-process loop', engine: 'plain' };
export const AGENT_RUNNER_SHIPPED: EngineSetup = { name: 'agent-runner, as shipped', engine: 'agent-runner', server: SHIPPED_SERVER };
export const TEXTBOOK_STOCK: EngineSetup = { name: 'textbook Temporal loop, stock dev server', engine: 'textbook', server: STOCK_SERVER };
export const TEXTBOOK_SHIPPED: EngineSetup = {
  name: "textbook Temporal loop, the project's server configuration",
  engine: 'textbook',
  server: SHIPPED_SERVER,
};
/** The per-agent choice of local activities (bench/agents.ts), on what ships otherwise. */
export const AGENT_RUNNER_LOCAL_TOOLS: EngineSetup = {
  name: 'agent-runner, agent with local tools',
  engine: 'agent-runner',
  server: SHIPPED_SERVER,
  agent: 'toolbox-local-tools',
};
export const AGENT_RUNNER_LOCAL_ALL: EngineSetup = {
  name: 'agent-runner, agent with local model call and tools',
  engine: 'agent-runner',
  server: SHIPPED_SERVER,
  agent: 'toolbox-local',
};
export const ENGINE_SETUPS = [
  PLAIN,
  AGENT_RUNNER_SHIPPED,
  AGENT_RUNNER_LOCAL_TOOLS,
  AGENT_RUNNER_LOCAL_ALL,
  TEXTBOOK_STOCK,
  TEXTBOOK_SHIPPED,
];

/** The issue's targets. */
export const ENGINE_TARGETS = { overheadMs: 10, waveVsPlain: 3, rssBytes: 500 * 2 ** 20, lateVsEarly: 1.2 };

export interface EnginePlan {
  rounds: number;
  /** 20-turn overhead pairs per round. */
  shortPairs: number;
  shortTurns: number;
  longTurns: number;
  waveRuns: number;
  waveTurns: number;
}

export interface EngineResult {
  setup: EngineSetup;
  waves: WaveResult[];
  short: OverheadPair[];
  long: OverheadPair[];
}

/** Measure every setup, interleaved. */
export async function measureEngines(plan: EnginePlan, agentRunnerBundle: string, setups = ENGINE_SETUPS): Promise<EngineResult[]> {
  const textbook = await buildBundle(TEXTBOOK_WORKFLOWS);
  const brain = new TimedBrain();
  const fake = await FakeMessagesApi.start({ apiKey: BENCH_API_KEY, brain: brain.brain });
  const bundles = { agentRunner: agentRunnerBundle, textbook: textbook.path };
  const results = setups.map((setup): EngineResult => ({ setup, waves: [], short: [], long: [] }));
  try {
    const plain = await startEngine(PLAIN, fake.url, bundles);
    for (let r = 0; r < plan.rounds; r++) {
      for (let i = 0; i < results.length; i++) {
        const res = results[(i + r) % results.length]!;
        progress(`engines, round ${r + 1}/${plan.rounds}: ${res.setup.name}`);
        await waitForQuiet();
        const live = res.setup.engine === 'plain' ? plain : await startEngine(res.setup, fake.url, bundles);
        const tag = `eng${r}-${res.setup.engine}-${res.setup.server?.name ?? 'none'}-${Date.now()}`;
        try {
          await warmUp(live, tag);
          let take = 0;
          const { value: w } = await quietly(live, () => wave(live, `${tag}-wave${take++}`, plan.waveRuns, plan.waveTurns));
          if (w.errors.length) progress(`  ${w.errors.length} run(s) failed in the wave: ${w.errors[0]}`);
          res.waves.push(w);
          await waitForQuiet();
          let t = 0;
          const pair = async (name: string, turns: number) =>
            (await quietly(live, () => overheadPair(live, plain, brain, `${tag}-${name}-${t++}`, turns))).value;
          for (let k = 0; k < plan.shortPairs; k++) res.short.push(await pair(`s${k}`, plan.shortTurns));
          res.long.push(await pair('l', plan.longTurns));
          const last = res.long.at(-1)!;
          progress(
            `  wave ${fmt(w.makespanMs / 1000, 2)} s, RSS ${fmt(w.peakRss / 2 ** 20, 0)} MB; ` +
              `overhead ${plan.shortTurns} turns ${fmt(median(res.short.slice(-plan.shortPairs).map((p) => p.overhead)))} ms, ` +
              `${plan.longTurns} turns ${fmt(last.overhead)} ms; others' CPU in the wave ${fmt((w.cpu.others ?? 0) / 1000)} s`,
          );
        } finally {
          if (live !== plain) await live.close();
        }
      }
    }
  } finally {
    await fake.close();
    textbook.remove();
  }
  return results;
}

/** "median (min–max)" of a list, or the one value. */
function spread(xs: number[], digits = 1, unit = ''): string {
  if (xs.length === 0) return '–';
  if (xs.some((x) => !Number.isFinite(x))) return 'n/a';
  const m = `${fmt(median(xs), digits)}${unit}`;
  return xs.length > 1 ? `${m} (${fmt(Math.min(...xs), digits)}–${fmt(Math.max(...xs), digits)})` : m;
}

/** Median per-turn time of turns [from, to] (1-based, turn k = request k → k+1) of a run. */
function window(times: number[], from: number, to: number): number {
  return median(times.slice(from - 1, to));
}

/** Turn 190 / turn 10 of a 200-turn run (medians of the 10 turns around each). */
export function lateVsEarly(p: OverheadPair): number {
  return window(p.engine, 186, 195) / window(p.engine, 6, 15);
}

const waveSeconds = (r: EngineResult) => r.waves.map((w) => w.makespanMs / 1000);
const rssMB = (r: EngineResult) => r.waves.map((w) => w.peakRss / 2 ** 20);
const overheads = (ps: OverheadPair[]) => ps.map((p) => p.overhead);

/** The section's tables (the issue's targets are reported with the rest of the bench's, see {@link engineTargetRows}). */
export function reportEngines(out: Output, plan: EnginePlan, results: EngineResult[]): void {
  out.line(`### Engines side by side`);
  out.line();
  out.line(
    `One run = ${plan.shortTurns} (or ${plan.longTurns}) turns, each a model call to the fake Messages API at 0 ms latency answering one ` +
      `\`tool_use\` of an in-process \`echo\` tool; then ${plan.waveRuns} runs of ${plan.waveTurns} turns started at once. ` +
      `Overhead = median per-turn time of the engine's run − that of a plain-loop run of the same length made just before it. ` +
      `${plan.rounds} round(s), engines interleaved (order rotated each round), each engine on a fresh dev server and worker ` +
      `process per round; ${plan.shortPairs} pair(s) of ${plan.shortTurns} turns and 1 of ${plan.longTurns} per round. ` +
      `Peak RSS: the sum of the server's and the worker's VmRSS (/proc) sampled every 100 ms during the wave. ` +
      `Turn 190 / turn 10: medians of turns 186–195 and 6–15 of the ${plan.longTurns}-turn run. Medians (min–max over rounds/pairs).`,
  );
  out.line();
  out.line(`Servers: **stock** = ${STOCK_SERVER.what}; **the project's** = ${SHIPPED_SERVER.what}. ` + 'Textbook loop: `bench/textbook/`.');
  out.line();
  out.table(
    [
      'engine',
      `overhead per turn, N=${plan.shortTurns}`,
      `overhead per turn, N=${plan.longTurns}`,
      `${plan.waveRuns} × ${plan.waveTurns}-turn runs at once`,
      'peak RSS, server + worker',
      `turn 190 / turn 10 (N=${plan.longTurns})`,
    ],
    results.map((r) =>
      r.setup.engine === 'plain'
        ? [
            `${r.setup.name} (per turn: ${spread(
              r.short.map((p) => median(p.plain)),
              1,
              ' ms',
            )} / ${spread(
              r.long.map((p) => median(p.plain)),
              1,
              ' ms',
            )})`,
            '0 (baseline)',
            '0 (baseline)',
            spread(waveSeconds(r), 2, ' s'),
            '– (in the bench process)',
            spread(r.long.map(lateVsEarly), 2, '×'),
          ]
        : [
            r.setup.name,
            spread(overheads(r.short), 1, ' ms'),
            spread(overheads(r.long), 1, ' ms'),
            spread(waveSeconds(r), 2, ' s'),
            spread(rssMB(r), 0, ' MB'),
            spread(r.long.map(lateVsEarly), 2, '×'),
          ],
    ),
  );
  const cpuPerTurn = (w: WaveResult, k: string) => (w.cpu[k] ?? 0) / (w.runs * w.turns);
  out.table(
    [
      'engine',
      `per turn, N=${plan.shortTurns} / N=${plan.longTurns}`,
      'wave: CPU ms per turn, server / worker / bench process',
      "wave: other processes' CPU",
      'wave: peak RSS server / worker',
      'wave: runs completed',
    ],
    results.map((r) => [
      r.setup.name,
      `${spread(
        r.short.map((p) => median(p.engine)),
        1,
        ' ms',
      )} / ${spread(
        r.long.map((p) => median(p.engine)),
        1,
        ' ms',
      )}`,
      `${spread(r.waves.map((w) => cpuPerTurn(w, 'server')))} / ${spread(r.waves.map((w) => cpuPerTurn(w, 'worker')))} / ${spread(
        r.waves.map((w) => cpuPerTurn(w, 'bench')),
      )}`,
      spread(
        r.waves.map((w) => (w.cpu.others ?? 0) / 1000),
        1,
        ' s',
      ),
      r.setup.engine === 'plain'
        ? '–'
        : `${spread(
            r.waves.map((w) => (w.peakRssBy.server ?? 0) / 2 ** 20),
            0,
          )} / ${spread(
            r.waves.map((w) => (w.peakRssBy.worker ?? 0) / 2 ** 20),
            0,
          )} MB`,
      r.waves.map((w) => `${w.completed}/${w.runs}`).join(', '),
    ]),
  );
}

/**
 * Rows of the issue's targets table that the engines measure: [target, measured, beside its
 * baseline, verdict]. agent-runner as shipped, unless a row names the agent with local activities.
 */
export function engineTargetRows(plan: EnginePlan, results: EngineResult[]): string[][] {
  const find = (s: EngineSetup) => results.find((r) => r.setup === s);
  const ar = find(AGENT_RUNNER_SHIPPED);
  const plain = find(PLAIN);
  const tbShipped = find(TEXTBOOK_SHIPPED);
  if (!ar) return [];
  const rows: string[][] = [];
  const verdict = (ok: boolean) => (ok ? 'met' : '**not met**');
  const m = (xs: number[]) => median(xs);
  const locals = [find(AGENT_RUNNER_LOCAL_ALL), find(AGENT_RUNNER_LOCAL_TOOLS)].filter((x): x is EngineResult => !!x);
  const besideTextbook = (f: (r: EngineResult) => string) => (tbShipped ? `textbook loop, project's server: ${f(tbShipped)}` : '');

  const short = (r: EngineResult) => m(overheads(r.short));
  rows.push([
    `overhead per turn ≤ ${ENGINE_TARGETS.overheadMs} ms median (N=${plan.shortTurns}), default configuration`,
    `${fmt(short(ar))} ms (N=${plan.longTurns}: ${fmt(m(overheads(ar.long)))} ms)`,
    besideTextbook((t) => `${fmt(short(t))} ms`),
    verdict(short(ar) <= ENGINE_TARGETS.overheadMs),
  ]);
  for (const local of locals)
    rows.push([
      `… ${local.setup.name.replace(/^agent-runner, agent /, '')}`,
      `${fmt(short(local))} ms (N=${plan.longTurns}: ${fmt(m(overheads(local.long)))} ms)`,
      '',
      verdict(short(local) <= ENGINE_TARGETS.overheadMs),
    ]);

  for (const tb of [tbShipped, find(TEXTBOOK_STOCK)]) {
    if (!tb) continue;
    const figures: [string, number, number][] = [
      [`overhead N=${plan.shortTurns}`, short(ar), short(tb)],
      [`overhead N=${plan.longTurns}`, m(overheads(ar.long)), m(overheads(tb.long))],
      ['wave makespan', m(waveSeconds(ar)), m(waveSeconds(tb))],
      ['peak RSS', m(rssMB(ar)), m(rssMB(tb))],
    ];
    const behind = figures.filter(([, a, t]) => a > t);
    rows.push([
      tb === tbShipped
        ? "never behind the textbook loop on any figure, on the project's server: agent-runner / textbook"
        : '(for reference) the same against the textbook loop on the stock dev server',
      figures.map(([name, a, t]) => `${name} ${fmt(a / t, 2)}×`).join(', '),
      figures
        .map(([name, , t]) => (name === 'peak RSS' ? `${fmt(t, 0)} MB` : name === 'wave makespan' ? `${fmt(t, 2)} s` : `${fmt(t)} ms`))
        .join(' / '),
      tb === tbShipped
        ? behind.length
          ? `**not met** (${behind.map(([n]) => n).join(', ')})`
          : 'met'
        : behind.length
          ? `behind on ${behind.map(([n]) => n).join(', ')}`
          : 'never behind',
    ]);
  }

  if (plain) {
    const p = m(waveSeconds(plain));
    for (const r of [ar, ...locals]) {
      const ratio = m(waveSeconds(r)) / p;
      rows.push([
        r === ar
          ? `${plan.waveRuns} × ${plan.waveTurns}-turn runs at once within ${ENGINE_TARGETS.waveVsPlain}× of the plain loop's makespan`
          : `… ${r.setup.name.replace(/^agent-runner, agent /, '')}`,
        `${fmt(m(waveSeconds(r)), 2)} s = ${fmt(ratio, 1)}×`,
        r === ar
          ? `plain loop ${fmt(p, 2)} s; ${besideTextbook((t) => `${fmt(m(waveSeconds(t)), 2)} s = ${fmt(m(waveSeconds(t)) / p, 1)}×`)}`
          : '',
        verdict(ratio <= ENGINE_TARGETS.waveVsPlain),
      ]);
    }
  }

  for (const r of [ar, ...locals]) {
    const rss = m(rssMB(r));
    const split = `server ${fmt(m(r.waves.map((w) => (w.peakRssBy.server ?? 0) / 2 ** 20)), 0)} + worker ${fmt(
      m(r.waves.map((w) => (w.peakRssBy.worker ?? 0) / 2 ** 20)),
      0,
    )}`;
    rows.push([
      r === ar
        ? `peak memory server + worker ≤ ${ENGINE_TARGETS.rssBytes / 2 ** 20} MB at ${plan.waveRuns} runs`
        : `… ${r.setup.name.replace(/^agent-runner, agent /, '')}`,
      `${fmt(rss, 0)} MB (${split})`,
      r === ar ? besideTextbook((t) => `${fmt(m(rssMB(t)), 0)} MB`) : '',
      verdict(rss * 2 ** 20 <= ENGINE_TARGETS.rssBytes),
    ]);
  }

  const late = m(ar.long.map(lateVsEarly));
  rows.push([
    `turn 190 within ${ENGINE_TARGETS.lateVsEarly}× of turn 10 (${plan.longTurns}-turn run)`,
    `${fmt(late, 2)}×`,
    besideTextbook((t) => `${fmt(m(t.long.map(lateVsEarly)), 2)}×`) +
      (plain ? `; plain loop ${fmt(m(plain.long.map(lateVsEarly)), 2)}×` : ''),
    verdict(late <= ENGINE_TARGETS.lateVsEarly),
  ]);
  return rows;
}
