/**
 * The workflow under test with the outside world stubbed: Temporal's time-skipping test server
 * (no Temporal CLI; see scripts/test-server.ts) and a real worker running the real `agentRun`
 * workflow, whose activities are whatever the test gives. Timers and timeouts skip ahead while a
 * test awaits a result, so hours of waiting take milliseconds.
 */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, makeTelemetryFilterString, Runtime, type Worker } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import type { AgentDefinition } from '../../agents/define.js';
import type { AgentActivities } from '../../contract/activities.js';
import { ensureTestServer } from '../../scripts/test-server.js';
import { createAgentWorker, WORKFLOWS_PATH } from '../../worker/create-worker.js';

let runtimeInstalled = false;
let bundle: Promise<{ code: string }> | undefined;

/** Start the test server (call from `beforeAll`; `await env.teardown()` in `afterAll`). */
export async function startTimeSkipping(): Promise<TestWorkflowEnvironment> {
  if (!runtimeInstalled) {
    // The test server is an older server build: core warns about capabilities it lacks; keep errors only.
    Runtime.install({
      logger: new DefaultLogger('ERROR'),
      telemetryOptions: { logging: { forward: {}, filter: makeTelemetryFilterString({ core: 'ERROR' }) } },
    });
    runtimeInstalled = true;
  }
  return TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: ensureTestServer((l) => console.log(l)) } },
  });
}

/** A worker for the real workflow with stub activities, on a task queue of its own. */
export async function stubWorker(
  env: TestWorkflowEnvironment,
  agents: readonly AgentDefinition[],
  activities: Partial<AgentActivities>,
): Promise<{ worker: Worker; taskQueue: string }> {
  const taskQueue = `unit-${randomUUID().slice(0, 8)}`;
  const worker = await createAgentWorker({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    agents,
    activities,
    // One bundle for every worker of the run.
    workflowBundle: await (bundle ??= bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quiet })),
    // The test server's client has no payload codecs: neither does this worker.
    dataConverter: {},
    checkSearchAttributes: false,
  });
  return { worker, taskQueue };
}

const noop = () => undefined;
const quiet = { trace: noop, debug: noop, info: noop, warn: noop, error: (m: string) => console.error(m), log: noop };
