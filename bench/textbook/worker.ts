/**
 * The textbook loop's worker process: `Worker.create` with default options and the default data
 * converter. Reads TEMPORAL_ADDRESS, TEXTBOOK_TASK_QUEUE, ANTHROPIC_BASE_URL / ANTHROPIC_API_KEY,
 * and TEXTBOOK_WORKFLOW_BUNDLE (a prebuilt bundle, so the bench does not bundle at every start; it
 * changes nothing at run time). Prints `worker: serving` once it polls, like worker/main.ts.
 */
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { fileURLToPath } from 'node:url';
import * as activities from './activities.js';

export const TEXTBOOK_WORKFLOWS_PATH = fileURLToPath(new URL('./workflows.ts', import.meta.url));

async function run(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: ['SIGINT', 'SIGTERM'] });
  const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS ?? 'localhost:7233' });
  const bundle = process.env.TEXTBOOK_WORKFLOW_BUNDLE;
  const worker = await Worker.create({
    connection,
    taskQueue: process.env.TEXTBOOK_TASK_QUEUE ?? 'textbook',
    ...(bundle ? { workflowBundle: { codePath: bundle } } : { workflowsPath: TEXTBOOK_WORKFLOWS_PATH }),
    activities,
  });
  console.log(`worker: serving textbookAgent, pid ${process.pid}`);
  try {
    await worker.run();
  } finally {
    await connection.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  run().catch((e: unknown) => {
    console.error(`error: ${(e as Error).message.split('\n')[0]}`);
    process.exit(1);
  });
}
