/**
 * Builds a worker that serves a set of agents: the workflow bundle plus the activities over
 * those agents. Used by `npm run worker`, the demo and the tests alike.
 */
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createActivities, type ModelEndpoint } from '../activities/index.js';
import { McpSessions } from '../activities/mcp/sessions.js';
import type { AgentDefinition } from '../agents/define.js';
import { AgentRegistry } from '../agents/registry.js';
import { dataConverter, ENCODE_FAILURES_FLAG, ENCODED_FAILURES_PATH, WORKFLOW_FAILURES_PATH } from '../connection/codecs.js';
import type { AgentActivities } from '../contract/activities.js';
import { ensureSearchAttributes } from './search-attributes.js';

const require = createRequire(import.meta.url);

/** Path of the workflow bundle's entry point. */
export const WORKFLOWS_PATH = require.resolve('../workflows/index.ts');

/**
 * What a prebuilt workflow bundle is built from (`bundleWorkflowCode({ ...BUNDLE_OPTIONS })`): the
 * workflows, and a failure converter the worker can switch to encoding when encryption is on.
 */
export const BUNDLE_OPTIONS = { workflowsPath: WORKFLOWS_PATH, failureConverterPath: WORKFLOW_FAILURES_PATH } as const;

/**
 * A prebuilt bundle for a worker whose failures must be encoded: the bundle's failure converter
 * (connection/workflow-failures.cjs) reads a global set before the bundle runs.
 */
export async function bundleEncodingFailures(bundle: NonNullable<WorkerOptions['workflowBundle']>): Promise<{ code: string }> {
  const code = 'code' in bundle ? bundle.code : await readFile(bundle.codePath, 'utf8');
  if (!code.includes(ENCODE_FAILURES_FLAG)) {
    const where = 'codePath' in bundle ? ` ${bundle.codePath}` : '';
    throw new Error(
      `the workflow bundle${where} was built without agent-runner's failure converter, so with encryption on it would store failure messages in clear: rebuild it with \`npm run build:bundle\``,
    );
  }
  // Same line as the bundle's first statement, so the inline source map's line numbers still hold.
  return { code: `globalThis.${ENCODE_FAILURES_FLAG} = true; ${code}` };
}

/** Options of {@link createAgentWorker}. */
export interface AgentWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  agents: readonly AgentDefinition[];
  endpoint?: ModelEndpoint;
  /** A prebuilt bundle (`bundleWorkflowCode`); by default the workflows are bundled at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** How long in-flight activities may finish after a shutdown signal (default `'30s'`). */
  shutdownGraceTime?: WorkerOptions['shutdownGraceTime'];
  /**
   * Replacement activities (some or all), e.g. stubs in workflow tests: the workflow is the real
   * one, the outside world is whatever the test says.
   */
  activities?: Partial<AgentActivities>;
  /** Payload codecs; default: from the environment (connection/codecs.ts), as clients use. */
  dataConverter?: WorkerOptions['dataConverter'];
  /**
   * Check at start that the runs' search attributes exist on the namespace, registering them where
   * the worker may (default true; the time-skipping test server has no use for them).
   */
  checkSearchAttributes?: boolean;
  /** Where start-up notes go (default console.log). */
  log?: (line: string) => void;
  /** Any other worker option (tuning). */
  extra?: Partial<WorkerOptions>;
}

/** Create the worker; throws a clear error if an agent definition is invalid. */
export async function createAgentWorker(opts: AgentWorkerOptions): Promise<Worker> {
  const registry = new AgentRegistry(opts.agents);
  const searchAttributesRegistered =
    opts.checkSearchAttributes !== false &&
    (await ensureSearchAttributes(opts.connection, opts.namespace, opts.log ?? ((l) => console.log(l))));
  const converter = opts.dataConverter ?? dataConverter();
  // Bundled at start, the workflows get the data converter's failure converter; a prebuilt bundle is told.
  let bundle = opts.workflowBundle;
  if (bundle && converter.failureConverterPath === ENCODED_FAILURES_PATH) bundle = await bundleEncodingFailures(bundle);
  // One MCP session per agent's server, shared by every run on this worker; closed (stdio
  // servers stopped) when the worker stops running.
  const mcp = new McpSessions({ log: opts.log ?? ((l) => console.log(l)) });
  const closeMcp = {
    name: 'agent-runner-mcp-sessions',
    async runWorker(worker: Worker, next: (w: Worker) => Promise<void>): Promise<void> {
      try {
        await next(worker);
      } finally {
        await mcp.close();
      }
    },
  };
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    ...(bundle ? { workflowBundle: bundle } : { workflowsPath: WORKFLOWS_PATH }),
    activities: {
      ...createActivities({ registry, searchAttributesRegistered, mcp, ...(opts.endpoint && { endpoint: opts.endpoint }) }),
      ...opts.activities,
    },
    dataConverter: converter,
    shutdownGraceTime: opts.shutdownGraceTime ?? '30s',
    // Cancellation reaches an activity only through a heartbeat's response, so heartbeats are sent
    // at most 1 s apart (the defaults are 30–60 s): a cancelled run aborts its model stream and
    // signals its tools within about a second. Each streaming activity costs ≤ 1 heartbeat RPC/s.
    maxHeartbeatThrottleInterval: '1s',
    defaultHeartbeatThrottleInterval: '1s',
    // After a worker dies, its runs' next workflow tasks wait this long on its sticky queue before
    // any worker may take them (Temporal's default is 10 s). Agent turns take seconds, so 3 s.
    stickyQueueScheduleToStartTimeout: '3s',
    ...opts.extra,
    plugins: [...(opts.extra?.plugins ?? []), closeMcp],
  });
}
