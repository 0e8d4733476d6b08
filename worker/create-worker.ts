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
import { BASE_SEARCH_ATTRIBUTES, AgentCostUsd } from '../contract/search-attributes.js';
import type { PriceTable } from '../contract/prices.js';
import { RateGate } from '../activities/rate-gate.js';
import { registeredSearchAttributes } from './search-attributes.js';

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
  /** The price table runs are billed at (default: the built-in one; `AGENT_RUNNER_PRICES` in worker/config.ts). */
  prices?: PriceTable;
  /**
   * Model calls on their own task queue (`<taskQueue>-model`), polled by a second worker with
   * Temporal's server-side rate limit: `requestsPerSecond` is shared by every worker polling that
   * queue (all runs, all workers: one account-wide limit); `maxConcurrentCalls` is per worker.
   * Only {@link createAgentWorkers} runs that second worker.
   */
  modelQueue?: { requestsPerSecond?: number; maxConcurrentCalls?: number };
  /** Any other worker option (tuning). */
  extra?: Partial<WorkerOptions>;
}

/** Create the worker; throws a clear error if an agent definition is invalid. */
export async function createAgentWorker(opts: AgentWorkerOptions): Promise<Worker> {
  return (await buildWorkers(opts, false)).main;
}

/** The workers of one process: the agent worker, and the model-queue worker when `modelQueue` is set. */
export interface AgentWorkers {
  main: Worker;
  model: Worker | undefined;
  /** Run both until shut down (or until one fails: the other is then shut down too). */
  run(): Promise<void>;
  shutdown(): void;
}

/** {@link createAgentWorker}, plus the model-queue worker when `modelQueue` is set. */
export async function createAgentWorkers(opts: AgentWorkerOptions): Promise<AgentWorkers> {
  const { main, model } = await buildWorkers(opts, true);
  const shutdown = () => {
    for (const w of [main, model]) if (w && w.getState() === 'RUNNING') w.shutdown();
  };
  return {
    main,
    model,
    shutdown,
    async run() {
      const runs = [main.run(), ...(model ? [model.run()] : [])];
      try {
        await Promise.all(runs.map((p) => p.catch((e: unknown) => (shutdown(), Promise.reject(e)))));
      } finally {
        await Promise.allSettled(runs);
      }
    },
  };
}

/** The model-call task queue of an agent task queue. */
export function modelTaskQueue(taskQueue: string): string {
  return `${taskQueue}-model`;
}

async function buildWorkers(opts: AgentWorkerOptions, withModelQueue: boolean): Promise<{ main: Worker; model: Worker | undefined }> {
  const registry = new AgentRegistry(opts.agents);
  const found =
    opts.checkSearchAttributes !== false
      ? await registeredSearchAttributes(opts.connection, opts.namespace, opts.log ?? ((l) => console.log(l)))
      : new Set<string>();
  const searchAttributesRegistered = BASE_SEARCH_ATTRIBUTES.every((k) => found.has(k.name));
  const modelQueue = withModelQueue && opts.modelQueue ? modelTaskQueue(opts.taskQueue) : undefined;
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
  // One gate per process: every model call of every run on this worker waits behind a 429.
  const gate = new RateGate();
  const activities = {
    ...createActivities({
      registry,
      searchAttributesRegistered,
      costSearchAttribute: found.has(AgentCostUsd.name),
      gate,
      mcp,
      ...(opts.prices && { prices: opts.prices }),
      ...(modelQueue && { modelTaskQueue: modelQueue }),
      ...(opts.endpoint && { endpoint: opts.endpoint }),
    }),
    ...opts.activities,
  };
  const converter = opts.dataConverter ?? dataConverter();
  // Bundled at start, the workflows get the data converter's failure converter; a prebuilt bundle is told.
  let bundle = opts.workflowBundle;
  if (bundle && converter.failureConverterPath === ENCODED_FAILURES_PATH) bundle = await bundleEncodingFailures(bundle);
  const common = {
    connection: opts.connection,
    namespace: opts.namespace,
    dataConverter: converter,
    shutdownGraceTime: opts.shutdownGraceTime ?? '30s',
    maxHeartbeatThrottleInterval: '1s',
    defaultHeartbeatThrottleInterval: '1s',
  } as const;
  const model = modelQueue
    ? await Worker.create({
        ...common,
        taskQueue: modelQueue,
        activities: { callModel: activities.callModel },
        ...(opts.modelQueue?.requestsPerSecond && { maxTaskQueueActivitiesPerSecond: opts.modelQueue.requestsPerSecond }),
        ...(opts.modelQueue?.maxConcurrentCalls && { maxConcurrentActivityTaskExecutions: opts.modelQueue.maxConcurrentCalls }),
        ...(opts.extra?.plugins && { plugins: opts.extra.plugins }),
      })
    : undefined;
  const main = await Worker.create({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    ...(bundle ? { workflowBundle: bundle } : { workflowsPath: WORKFLOWS_PATH }),
    activities,
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
  return { main, model };
}
