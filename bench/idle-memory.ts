/**
 * `npx tsx bench/idle-memory.ts`: what the server and worker processes hold before any work, after
 * a warm-up (10 runs of 2 turns and one of 5), and at the peak of a 100 × 5-turn wave — the floor
 * under the "peak memory at 100 runs" figure. agent-runner as shipped and the textbook loop, each
 * on the project's server; VmRSS from /proc. Prints a markdown table; writes nothing.
 */
import { FakeMessagesApi } from '../devtools/fake-api/server.js';
import { AGENT_RUNNER_SHIPPED, TEXTBOOK_SHIPPED } from './engines-section.js';
import { startEngine, TEXTBOOK_WORKFLOWS, waitForQuiet, warmUp, wave, type EngineSetup } from './engines.js';
import { procStatusBytes } from './processes.js';
import { Output, progress } from './report.js';
import { BENCH_API_KEY, buildBundle } from './stack.js';
import { fmt, median, sleep } from './stats.js';
import { TimedBrain } from './timed-brain.js';

const rounds = Number(process.argv.find((a) => a.startsWith('--rounds='))?.slice('--rounds='.length) ?? 2);

for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130));

async function main(): Promise<void> {
  const fake = await FakeMessagesApi.start({ apiKey: BENCH_API_KEY, brain: new TimedBrain().brain });
  const ar = await buildBundle();
  const tb = await buildBundle(TEXTBOOK_WORKFLOWS);
  const rows = new Map<string, Record<string, number[]>>();
  const add = (setup: EngineSetup, k: string, bytes: number) => {
    const r = rows.get(setup.name) ?? {};
    (r[k] ??= []).push(bytes / 2 ** 20);
    rows.set(setup.name, r);
  };
  try {
    for (let round = 0; round < rounds; round++) {
      for (const setup of [AGENT_RUNNER_SHIPPED, TEXTBOOK_SHIPPED]) {
        await waitForQuiet();
        progress(`round ${round + 1}: ${setup.name}`);
        const live = await startEngine(setup, fake.url, { agentRunner: ar.path, textbook: tb.path });
        try {
          await sleep(3_000);
          const rss = (k: string) => procStatusBytes(live.pids[k]!, 'VmRSS');
          add(setup, 'server idle', rss('server'));
          add(setup, 'worker idle', rss('worker'));
          await warmUp(live, `idle-${round}-${Date.now()}`);
          await sleep(1_000);
          add(setup, 'server warm', rss('server'));
          add(setup, 'worker warm', rss('worker'));
          const w = await wave(live, `idle-wave-${round}-${Date.now()}`, 100, 5);
          add(setup, 'server peak', w.peakRssBy.server ?? 0);
          add(setup, 'worker peak', w.peakRssBy.worker ?? 0);
        } finally {
          await live.close();
        }
      }
    }
  } finally {
    await fake.close();
    ar.remove();
    tb.remove();
  }
  const out = new Output();
  const cell = (r: Record<string, number[]>, k: string) => `${fmt(median(r[k] ?? []), 0)} MB`;
  out.table(
    ['engine (project’s server)', 'server: idle / warm / peak in the wave', 'worker: idle / warm / peak in the wave'],
    [...rows].map(([name, r]) => [
      name,
      `${cell(r, 'server idle')} / ${cell(r, 'server warm')} / ${cell(r, 'server peak')}`,
      `${cell(r, 'worker idle')} / ${cell(r, 'worker warm')} / ${cell(r, 'worker peak')}`,
    ]),
  );
  out.line(`VmRSS, medians of ${rounds} round(s), each on a fresh dev server and worker process.`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(`bench failed: ${(e as Error).stack ?? String(e)}`);
    process.exit(1);
  },
);
