/**
 * Cancel latency: how long from the cancel signal to the run being closed, and to the model's
 * HTTP stream being aborted, while a model call is streaming. Embedded dev server, one worker,
 * the fake Messages API streaming a long answer. `npm run bench:cancel [-- N]`.
 */
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { dataConverter } from '../connection/codecs.js';
import { AgentRunner } from '../client/runner.js';
import { startDevServer } from '../scripts/dev-server.js';
import { text } from '../devtools/fake-api/replies.js';
import { FakeMessagesApi } from '../devtools/fake-api/server.js';
import { toolboxAgent } from './agents.js';
import { createAgentWorker } from '../worker/create-worker.js';

const N = Number(process.argv[2] ?? 20);

function stats(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  return `median ${q(0.5)} ms · p95 ${q(0.95)} ms · max ${s.at(-1)} ms (n=${s.length})`;
}

/** Run the measurement; returns the figures (also used by `npm run bench`). */
export async function measureCancelLatency(n = N): Promise<{ closed: number[]; aborted: number[] }> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const server = await startDevServer({ uiPort: false });
  const fake = await FakeMessagesApi.start({ apiKey: 'bench' });
  const native = await NativeConnection.connect({ address: server.address });
  const worker = await createAgentWorker({
    connection: native,
    namespace: 'default',
    taskQueue: 'bench-cancel',
    agents: [toolboxAgent],
    endpoint: { apiKey: 'bench', baseURL: fake.url },
    shutdownGraceTime: '1s',
  });
  const connection = await Connection.connect({ address: server.address });
  const runner = await AgentRunner.connect({
    client: new Client({ connection, dataConverter: dataConverter() }),
    settings: { taskQueue: 'bench-cancel' },
  });
  const closed: number[] = [];
  const aborted: number[] = [];
  try {
    await worker.runUntil(async () => {
      for (let i = 0; i < n; i++) {
        fake.clear();
        fake.script(text('word '.repeat(300), { chunks: 200, chunkDelayMs: 100 })); // ~20 s of streaming
        const run = await runner.start('toolbox', 'a long answer, please', { workflowId: `bench-cancel-${Date.now()}-${i}` });
        while (fake.requests.length === 0) await new Promise((r) => setTimeout(r, 10));
        await new Promise((r) => setTimeout(r, 300)); // well into the stream
        const t0 = performance.now();
        const wall0 = Date.now();
        await runner.cancel(run.workflowId, 'bench');
        const r = await run.result();
        closed.push(Math.round(performance.now() - t0));
        if (r.status !== 'cancelled') throw new Error(`run ${run.workflowId} ended ${r.status}`);
        while (fake.requests[0]?.abortedAt === undefined) await new Promise((res) => setTimeout(res, 5));
        aborted.push(fake.requests[0].abortedAt - wall0);
      }
    });
  } finally {
    await runner.close();
    await native.close();
    await fake.close();
    await server.stop();
  }
  return { closed, aborted };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { closed, aborted } = await measureCancelLatency();
  console.log(`cancel → run closed:         ${stats(closed)}`);
  console.log(`cancel → HTTP stream aborted: ${stats(aborted)}`);
}
