/**
 * `npm run bench:levers -- --variant="label=before;rev=HEAD~1" --variant="label=after;rev=HEAD" [--server=shipped] [--rounds=3]`:
 * agent-runner variants measured side by side in one run, interleaved — a change before and after,
 * by git revision. Each revision is exported (`git archive`) to a temporary folder that shares
 * this checkout's node_modules; its worker and workflow bundle come from there, so workflow and
 * activity changes are measured as they would ship. The client is this checkout's.
 *
 * A variant is `;`-separated `key=value`: `label`, `rev` (default HEAD), `agent` (default
 * toolbox), `wait` (`runner` | `temporal`, see EngineSetup.waitWith), `tuning` (JSON WorkerOptions,
 * bench/worker-process.ts), `env.NAME=value` (worker environment), `server` (a name of
 * bench/server-setups.ts; default --server), `node` (extra Node flags for the worker, `,`-separated,
 * e.g. `node=--import=/abs/path/bench/no-vm-watchdog.ts`).
 *
 * Per round and variant (order rotated each round): fresh dev server + worker, warm-up, the
 * wave (--runs runs × 5 turns at once, 0 ms model latency), then --pairs overhead pairs of
 * --turns turns (plain run, then the variant's run), and with --long=N one pair of N turns (turn 190 / turn 10). Reports per-turn overhead, makespan, CPU per
 * turn, persistence calls per turn, and per turn of the single runs: history events, workflow
 * tasks, history bytes.
 */
import type { Client } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { execSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FakeMessagesApi } from '../devtools/fake-api/server.js';
import {
  overheadPair,
  quietly,
  startEngine,
  TEXTBOOK_WORKFLOWS,
  waitForQuiet,
  warmUp,
  wave,
  type EngineSetup,
  type OverheadPair,
  type WaveResult,
} from './engines.js';
import { lateVsEarly } from './engines-section.js';
import { environment, Output, progress, writeRegion } from './report.js';
import { SERVER_CONFIGS } from './server-setups.js';
import { BENCH_API_KEY, buildBundle, perTurnCalls } from './stack.js';
import { fmt, median } from './stats.js';
import { TimedBrain } from './timed-brain.js';
import type { TuningOptions } from './worker-process.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** A revision exported to a temporary folder, with its workflow bundle. */
async function exportRevision(rev: string): Promise<{ root: string; bundle: string; commit: string; remove(): void }> {
  const commit = execSync(`git rev-parse --short ${rev}`, { cwd: ROOT, encoding: 'utf8' }).trim();
  const root = mkdtempSync(join(tmpdir(), `agent-runner-rev-${commit}-`));
  const remove = () => rmSync(root, { recursive: true, force: true });
  process.on('exit', remove);
  execSync(`git archive ${commit} | tar -x -C ${root}`, { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  symlinkSync(join(ROOT, 'node_modules'), join(root, 'node_modules'));
  const { code } = await bundleWorkflowCode({ workflowsPath: join(root, 'workflows/index.ts'), logger: new DefaultLogger('ERROR') });
  const bundle = join(root, 'workflow-bundle.js');
  writeFileSync(bundle, code);
  return { root, bundle, commit, remove };
}

interface VariantSpec {
  label: string;
  rev: string;
  agent: string;
  wait: 'runner' | 'temporal';
  tuning?: TuningOptions;
  env: Record<string, string>;
  server?: string;
  /** Extra Node flags for the worker (`node=--import=…`, `,`-separated). */
  nodeArgs?: string[];
}

function parseVariant(text: string): VariantSpec {
  const spec: VariantSpec = { label: '', rev: 'HEAD', agent: 'toolbox', wait: 'runner', env: {} };
  for (const part of text.split(';').filter(Boolean)) {
    const eq = part.indexOf('=');
    const key = part.slice(0, eq);
    const value = part.slice(eq + 1);
    if (key === 'label') spec.label = value;
    else if (key === 'rev') spec.rev = value;
    else if (key === 'agent') spec.agent = value;
    else if (key === 'wait') spec.wait = value === 'temporal' ? 'temporal' : 'runner';
    else if (key === 'tuning') spec.tuning = JSON.parse(value) as TuningOptions;
    else if (key === 'server') spec.server = value;
    else if (key === 'node') spec.nodeArgs = value.split(',');
    else if (key.startsWith('env.')) spec.env[key.slice(4)] = value;
    else throw new Error(`--variant: unknown key ${key}`);
  }
  spec.label ||= `${spec.rev} ${spec.agent}`;
  return spec;
}

/** Per turn of one run's (current) execution: history events, workflow tasks, markers, bytes. */
async function historyPerTurn(client: Client, workflowId: string, turns: number) {
  const handle = client.workflow.getHandle(workflowId);
  const [history, d] = await Promise.all([handle.fetchHistory(), handle.describe()]);
  const events = history.events ?? [];
  return {
    events: events.length / turns,
    wfts: events.filter((e) => e.workflowTaskCompletedEventAttributes).length / turns,
    markers: events.filter((e) => e.markerRecordedEventAttributes).length / turns,
    activities: events.filter((e) => e.activityTaskScheduledEventAttributes).length / turns,
    bytes: Number(d.raw.workflowExecutionInfo?.historySizeBytes ?? 0) / turns,
  };
}

interface Sample {
  wave: WaveResult;
  pairs: OverheadPair[];
  calls: Map<string, number>;
  history: Awaited<ReturnType<typeof historyPerTurn>>;
  /** The --long run's pair, when asked. */
  long?: OverheadPair;
  load: string;
}

const args = process.argv.slice(2);
const flag = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const variants = args.filter((a) => a.startsWith('--variant=')).map((a) => parseVariant(a.slice('--variant='.length)));
const rounds = Number(flag('rounds') ?? 3);
const runs = Number(flag('runs') ?? 100);
const turns = Number(flag('turns') ?? 20);
const pairs = Number(flag('pairs') ?? 2);
const longTurns = Number(flag('long') ?? 0);
const defaultServer = flag('server') ?? 'shipped';
const title = flag('title');

for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130));

async function main(): Promise<void> {
  if (variants.length === 0) throw new Error('give at least one --variant="label=…;rev=…"');
  const out = new Output();
  const env = environment();
  const brain = new TimedBrain();
  const fake = await FakeMessagesApi.start({ apiKey: BENCH_API_KEY, brain: brain.brain });
  const textbook = await buildBundle(TEXTBOOK_WORKFLOWS);
  const checkouts = new Map<string, Awaited<ReturnType<typeof exportRevision>>>();
  for (const v of variants) if (!checkouts.has(v.rev)) checkouts.set(v.rev, await exportRevision(v.rev));
  const bundles = { agentRunner: [...checkouts.values()][0]!.bundle, textbook: textbook.path };
  const plain = await startEngine({ name: 'plain', engine: 'plain' }, fake.url, bundles);
  const samples = new Map<string, Sample[]>(variants.map((v) => [v.label, []]));
  try {
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < variants.length; i++) {
        const v = variants[(i + r) % variants.length]!;
        const server = SERVER_CONFIGS.find((c) => c.name === (v.server ?? defaultServer));
        if (!server) throw new Error(`unknown server configuration ${v.server ?? defaultServer}`);
        const checkout = checkouts.get(v.rev)!;
        const setup: EngineSetup = {
          name: v.label,
          engine: 'agent-runner',
          server,
          agent: v.agent,
          waitWith: v.wait,
          env: v.env,
          checkout: { root: checkout.root, bundle: checkout.bundle },
          ...(v.tuning && { tuning: v.tuning }),
          ...(v.nodeArgs && { nodeArgs: v.nodeArgs }),
        };
        await waitForQuiet();
        const live = await startEngine(setup, fake.url, bundles);
        const tag = `lever${r}-${i}-${Date.now()}`;
        try {
          await warmUp(live, tag);
          let take = 0;
          // The server's counters are read around each take, so a retaken wave counts once.
          const {
            value: { w, calls },
          } = await quietly(live, async () => {
            const before = await live.stack!.persistenceCalls();
            const w = await wave(live, `${tag}-wave${take++}`, runs, 5);
            return { w, calls: perTurnCalls(before, await live.stack!.persistenceCalls(), runs * 5) };
          });
          await waitForQuiet();
          const ps: OverheadPair[] = [];
          for (let k = 0; k < pairs; k++) {
            let t = 0;
            ps.push((await quietly(live, () => overheadPair(live, plain, brain, `${tag}-p${k}${t++ ? `-${t}` : ''}`, turns))).value);
          }
          const history = await historyPerTurn(live.stack!.client, `${tag}-p0-engine`, turns);
          let t = 0;
          const long = longTurns
            ? (await quietly(live, () => overheadPair(live, plain, brain, `${tag}-long${t++}`, longTurns))).value
            : undefined;
          const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
          samples.get(v.label)!.push({ wave: w, pairs: ps, calls, history, load, ...(long && { long }) });
          progress(
            `round ${r + 1} ${v.label}: overhead ${ps.map((p) => fmt(p.overhead)).join(', ')} ms; wave ${fmt(w.makespanMs / 1000, 2)} s ` +
              `(${w.completed}/${runs}${w.errors.length ? `, ${w.errors[0]}` : ''}); CPU ms/turn server ${fmt((w.cpu.server ?? 0) / (runs * 5))} ` +
              `worker ${fmt((w.cpu.worker ?? 0) / (runs * 5))}, others ${fmt((w.cpu.others ?? 0) / 1000)} s; ` +
              `${fmt(history.events)} events, ${fmt(history.wfts, 2)} WFTs per turn; load ${load}`,
          );
        } finally {
          await live.close();
        }
      }
    }
  } finally {
    await fake.close();
    textbook.remove();
    for (const c of checkouts.values()) c.remove();
  }

  const spread = (xs: number[], d = 1) =>
    xs.length > 1 ? `${fmt(median(xs), d)} (${fmt(Math.min(...xs), d)}–${fmt(Math.max(...xs), d)})` : fmt(xs[0] ?? Number.NaN, d);
  out.line(`#### ${title ?? 'Levers'}`);
  out.line();
  out.line(
    `Command: \`npm run bench:levers -- ${args.map((a) => (a.includes(';') || a.includes(' ') ? `'${a}'` : a)).join(' ')}\`; ` +
      `${env.date}, load average at start ${env['load average at start']}, after each cell: ${[...samples.values()]
        .flat()
        .map((s) => s.load.split(' ')[0])
        .join(', ')}.`,
  );
  out.line();
  out.line(
    `Revisions: ${[...checkouts].map(([rev, c]) => `${rev} = ${c.commit}`).join(', ')}. ${rounds} round(s), variants interleaved; ` +
      `${pairs} pair(s) of ${turns} turns and a wave of ${runs} × 5 turns per round, each on a fresh dev server (default \`${defaultServer}\`) and worker. Medians (min–max).`,
  );
  out.line();
  out.table(
    [
      'variant',
      `overhead per turn, N=${turns}, ms`,
      `${runs} × 5 at once, s`,
      'wave CPU ms per turn: server / worker',
      'persistence calls per turn (wave)',
      "others' CPU in the wave, s",
      'wave peak RSS: server / worker, MB',
      `per turn (N=${turns}): events / WFTs / markers / activities / history bytes`,
      ...(longTurns ? [`N=${longTurns}: overhead per turn, ms`, `N=${longTurns}: turn 190 / turn 10`] : []),
    ],
    variants.map((v) => {
      const list = samples.get(v.label)!;
      const cpu = (k: string) => list.map((s) => (s.wave.cpu[k] ?? 0) / (s.wave.runs * 5));
      const h = (k: keyof Sample['history']) => median(list.map((s) => s.history[k]));
      return [
        v.label,
        spread(list.flatMap((s) => s.pairs.map((p) => p.overhead))),
        spread(
          list.map((s) => s.wave.makespanMs / 1000),
          2,
        ),
        `${spread(cpu('server'))} / ${spread(cpu('worker'))}`,
        spread(list.map((s) => [...s.calls.values()].reduce((a, b) => a + b, 0))),
        spread(list.map((s) => (s.wave.cpu.others ?? 0) / 1000)),
        `${spread(
          list.map((s) => (s.wave.peakRssBy.server ?? 0) / 2 ** 20),
          0,
        )} / ${spread(
          list.map((s) => (s.wave.peakRssBy.worker ?? 0) / 2 ** 20),
          0,
        )}`,
        `${fmt(h('events'), 1)} / ${fmt(h('wfts'), 2)} / ${fmt(h('markers'), 2)} / ${fmt(h('activities'), 2)} / ${fmt(h('bytes'), 0)} B`,
        ...(longTurns
          ? [
              spread(list.flatMap((s) => (s.long ? [s.long.overhead] : []))),
              spread(
                list.flatMap((s) => (s.long ? [lateVsEarly(s.long)] : [])),
                2,
              ),
            ]
          : []),
      ];
    }),
  );
  const ops = new Map<string, number>();
  for (const list of samples.values()) for (const s of list) for (const [op, n] of s.calls) ops.set(op, Math.max(ops.get(op) ?? 0, n));
  out.table(
    ['persistence calls per turn in the wave (median)', ...variants.map((v) => v.label)],
    [...ops]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 12)
      .map(([op]) => [op, ...variants.map((v) => fmt(median(samples.get(v.label)!.map((s) => s.calls.get(op) ?? 0)), 2))]),
  );
  const region = flag('write');
  if (region) {
    writeRegion(`levers:${region}`, out.lines.join('\n'));
    progress(`results written to BENCHMARKS.md (levers:${region})`);
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(`bench failed: ${(e as Error).stack ?? String(e)}`);
    process.exit(1);
  },
);
