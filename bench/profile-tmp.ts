import { FakeMessagesApi } from '../devtools/fake-api/server.js';
import { spawnBenchWorker } from './processes.js';
import { BENCH_API_KEY, buildBundle, startStack } from './stack.js';
import { TimedBrain, benchPrompt } from './timed-brain.js';
import { mkdirSync } from 'node:fs';
const agent = process.argv[2] ?? 'toolbox';
const brain = new TimedBrain();
const fake = await FakeMessagesApi.start({ apiKey: BENCH_API_KEY, brain: brain.brain });
const bundle = await buildBundle();
const stack = await startStack(['--dynamic-config-value', 'history.transferProcessorMaxPollRPS=1000']);
mkdirSync('/tmp/prof', { recursive: true });
const worker = spawnBenchWorker({
  address: stack.server.address,
  taskQueue: 'prof',
  baseURL: fake.url,
  apiKey: BENCH_API_KEY,
  bundlePath: bundle.path,
  maxActivities: 100,
  nodeArgs: ['--cpu-prof', '--cpu-prof-dir=/tmp/prof'],
});
await worker.ready;
const runner = await stack.runner('prof');
for (let i = 0; i < 3; i++)
  await (
    await runner.start(agent, benchPrompt(`w${i}-${Date.now()}`, 10), { workflowId: `w${i}-${Date.now()}`, overrides: { maxTurns: 10 } })
  ).result();
const t0 = performance.now();
const tags = Array.from({ length: 5 }, (_, i) => `p${i}-${Date.now()}`);
for (const tag of tags)
  await (await runner.start(agent, benchPrompt(tag, 100), { workflowId: tag, overrides: { maxTurns: 100 } })).result();
console.log('500 turns in', (performance.now() - t0).toFixed(0), 'ms');
await worker.stop(10000);
await stack.close();
await fake.close();
bundle.remove();
process.exit(0);
