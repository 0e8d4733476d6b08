/**
 * `npm run worker`: a worker process serving every agent in agents/.
 *
 * Reads the Temporal connection from the environment (see client/settings.ts) and the model
 * endpoint from the SDK's own ANTHROPIC_API_KEY / ANTHROPIC_BASE_URL. SIGINT/SIGTERM shut it
 * down gracefully: in-flight activities get `shutdownGraceTime` (30 s) to finish.
 */
import { NativeConnection, Runtime, DefaultLogger } from '@temporalio/worker';
import { agents } from '../agents/index.js';
import { runnerSettings } from '../client/settings.js';
import { createAgentWorker } from './create-worker.js';

async function run(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: ['SIGINT', 'SIGTERM'] });
  const s = runnerSettings();
  let connection: NativeConnection;
  try {
    connection = await NativeConnection.connect(s.connection);
  } catch (e) {
    throw new Error(`cannot reach Temporal at ${s.connection.address} (${(e as Error).message.split('\n')[0]}): start it with \`npm run server\` or set TEMPORAL_ADDRESS`);
  }
  const worker = await createAgentWorker({ connection, namespace: s.namespace, taskQueue: s.taskQueue, agents });
  const endpoint = process.env.ANTHROPIC_BASE_URL ?? 'https://api.anthropic.com';
  console.log(`worker: serving ${agents.map((a) => a.name).join(', ')} on task queue "${s.taskQueue}" at ${s.connection.address} (namespace ${s.namespace})`);
  console.log(`worker: model endpoint ${endpoint}${process.env.ANTHROPIC_API_KEY ? '' : ' — warning: ANTHROPIC_API_KEY is not set, model calls will fail'}`);
  try {
    await worker.run();
  } finally {
    await connection.close();
  }
  console.log('worker: stopped');
}

run().catch((e: unknown) => {
  console.error(`error: ${(e as Error).message.split('\n')[0]}`);
  process.exit(1);
});
