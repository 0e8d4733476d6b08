/**
 * One test's world: the shared dev server, a fake Messages API, a real worker on a task queue
 * of its own, and a client. `await h.close()` stops what it started.
 */
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { NativeConnection, Runtime, DefaultLogger, type Worker } from '@temporalio/worker';
import type { temporal } from '@temporalio/proto';
import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import type { AgentDefinition } from '../../agents/define.js';
import { dataConverter } from '../../connection/codecs.js';
import { AgentRunner, type StartOptions } from '../../client/runner.js';
import { createAgentWorkers, type AgentWorkerOptions } from '../../worker/create-worker.js';
import type { RunResult } from '../../contract/run.js';
import { FakeMessagesApi, type FakeMessagesApiOptions } from '../../devtools/fake-api/server.js';
import { testAgents } from './agents.js';

/** The key the fake API expects; tests check it never reaches history. */
export const TEST_API_KEY = 'sk-ant-test-DO-NOT-LEAK-7f3a9c';

let runtimeInstalled = false;

export interface Harness {
  fake: FakeMessagesApi;
  client: Client;
  runner: AgentRunner;
  worker: Worker;
  taskQueue: string;
  address: string;
  /** Start a run and wait for its result. */
  run(agent: string, prompt: string, opts?: StartOptions): Promise<RunResult & { handle: WorkflowHandle }>;
  history(workflowId: string): Promise<temporal.api.history.v1.IHistory>;
  close(): Promise<void>;
}

/** Start the harness (call from `beforeAll`). */
export async function startHarness(
  opts: { agents?: AgentDefinition[]; fake?: FakeMessagesApiOptions } & Pick<AgentWorkerOptions, 'prices' | 'modelQueue'> = {},
): Promise<Harness> {
  if (!runtimeInstalled) {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
    runtimeInstalled = true;
  }
  const address = inject('temporalAddress');
  const fake = await FakeMessagesApi.start({ apiKey: TEST_API_KEY, ...opts.fake });
  const taskQueue = `test-${randomUUID().slice(0, 8)}`;
  const nativeConnection = await NativeConnection.connect({ address });
  const workers = await createAgentWorkers({
    connection: nativeConnection,
    namespace: 'default',
    taskQueue,
    agents: opts.agents ?? testAgents,
    endpoint: { apiKey: TEST_API_KEY, baseURL: fake.url },
    workflowBundle: { codePath: inject('workflowBundlePath') },
    shutdownGraceTime: '1s',
    ...(opts.prices && { prices: opts.prices }),
    ...(opts.modelQueue && { modelQueue: opts.modelQueue }),
  });
  const worker = workers.main;
  const running = workers.run();
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, namespace: 'default', dataConverter: dataConverter() });
  const runner = await AgentRunner.connect({ client, settings: { taskQueue, uiUrl: inject('temporalUiUrl') } });
  return {
    fake,
    client,
    runner,
    worker,
    taskQueue,
    address,
    async run(agent, prompt, startOpts) {
      const run = await runner.start(agent, prompt, startOpts);
      return { ...(await run.result()), handle: run.temporal };
    },
    history: (workflowId) => client.workflow.getHandle(workflowId).fetchHistory(),
    async close() {
      workers.shutdown();
      await running;
      await nativeConnection.close();
      await connection.close();
      await fake.close();
    },
  };
}
