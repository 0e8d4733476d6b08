import { FakeMessagesApi } from '../devtools/fake-api/server.js';
import { startEngine, TEXTBOOK_WORKFLOWS, warmUp, type EngineSetup } from './engines.js';
import { SERVER_CONFIGS } from './server-setups.js';
import { BENCH_API_KEY, buildBundle } from './stack.js';
import { TimedBrain } from './timed-brain.js';
import { mkdirSync, rmSync } from 'node:fs';
const [engine, agent, dir, turnsArg] = process.argv.slice(2) as ['textbook' | 'agent-runner', string, string, string];
const turns = Number(turnsArg ?? 20);
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const brain = new TimedBrain();
const fake = await FakeMessagesApi.start({ apiKey: BENCH_API_KEY, brain: brain.brain });
const ar = await buildBundle();
const tb = await buildBundle(TEXTBOOK_WORKFLOWS);
const setup: EngineSetup = {
  name: 'prof',
  engine,
  agent,
  server: SERVER_CONFIGS.find((c) => c.name === 'rps1000')!,
  nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`],
};
const e = await startEngine(setup, fake.url, { agentRunner: ar.path, textbook: tb.path });
await warmUp(e, `w${Date.now()}`);
const t0 = performance.now();
for (let i = 0; i < 500 / turns; i++) await e.run(`p${i}-${Date.now()}`, turns);
console.log(engine, agent, '500 turns in', (performance.now() - t0).toFixed(0), 'ms');
await e.close();
await fake.close();
ar.remove();
tb.remove();
process.exit(0);
