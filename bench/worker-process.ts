/**
 * The benchmark's own worker process: `worker/main.ts` plus WorkerOptions from the environment,
 * so the bench can try tuning (pollers, slots, cache, eager activities) on a real separate
 * process without touching the shipped worker wiring (worker/create-worker.ts).
 *
 * Reads what worker/main.ts reads (TEMPORAL_ADDRESS, AGENT_RUNNER_TASK_QUEUE, AGENT_RUNNER_AGENTS,
 * AGENT_RUNNER_WORKFLOW_BUNDLE, AGENT_RUNNER_MAX_ACTIVITIES, AGENT_RUNNER_SHUTDOWN_GRACE,
 * ANTHROPIC_BASE_URL, ANTHROPIC_API_KEY) and BENCH_WORKER_OPTIONS: a JSON object of the tuning
 * options below, passed to `createAgentWorker({ extra })` as is.
 */
import { DefaultLogger, NativeConnection, Runtime, type WorkerOptions } from '@temporalio/worker';
import { loadAgents } from '../agents/catalog.js';
import { runnerSettings } from '../connection/settings.js';
import { workerConfig } from '../worker/config.js';
import { createAgentWorker } from '../worker/create-worker.js';

/** The WorkerOptions the bench may set (all JSON-expressible). */
export type TuningOptions = Partial<
  Pick<
    WorkerOptions,
    | 'maxConcurrentActivityTaskExecutions'
    | 'maxConcurrentWorkflowTaskExecutions'
    | 'maxConcurrentActivityTaskPolls'
    | 'maxConcurrentWorkflowTaskPolls'
    | 'workflowTaskPollerBehavior'
    | 'activityTaskPollerBehavior'
    | 'nonStickyToStickyPollRatio'
    | 'maxCachedWorkflows'
    | 'maxEagerActivityReservationsPerWorkflowTask'
    | 'reuseV8Context'
    | 'workflowThreadPoolSize'
    | 'stickyQueueScheduleToStartTimeout'
  >
>;

const TUNING_KEYS: readonly string[] = [
  'maxConcurrentActivityTaskExecutions',
  'maxConcurrentWorkflowTaskExecutions',
  'maxConcurrentActivityTaskPolls',
  'maxConcurrentWorkflowTaskPolls',
  'workflowTaskPollerBehavior',
  'activityTaskPollerBehavior',
  'nonStickyToStickyPollRatio',
  'maxCachedWorkflows',
  'maxEagerActivityReservationsPerWorkflowTask',
  'reuseV8Context',
  'workflowThreadPoolSize',
  'stickyQueueScheduleToStartTimeout',
];

/** Parse BENCH_WORKER_OPTIONS; unknown keys are refused so a typo cannot silently measure the defaults. */
function parseTuning(json: string | undefined): TuningOptions {
  if (!json) return {};
  const parsed: unknown = JSON.parse(json);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('BENCH_WORKER_OPTIONS must be a JSON object');
  for (const key of Object.keys(parsed)) {
    if (!TUNING_KEYS.includes(key))
      throw new Error(`BENCH_WORKER_OPTIONS: unsupported option "${key}" (use one of ${TUNING_KEYS.join(', ')})`);
  }
  return parsed as TuningOptions;
}

async function run(): Promise<void> {
  // ERROR only: at 1,000 concurrent runs, WARN-level lines would cost CPU the bench is measuring.
  Runtime.install({ logger: new DefaultLogger('ERROR'), shutdownSignals: ['SIGINT', 'SIGTERM'] });
  const s = runnerSettings();
  const config = workerConfig();
  const tuning = parseTuning(process.env.BENCH_WORKER_OPTIONS);
  const agents = await loadAgents();
  const connection = await NativeConnection.connect(s.connection);
  try {
    const worker = await createAgentWorker({
      connection,
      namespace: s.namespace,
      taskQueue: s.taskQueue,
      agents,
      ...(config.workflowBundlePath && { workflowBundle: { codePath: config.workflowBundlePath } }),
      shutdownGraceTime: config.shutdownGraceTime,
      extra: { maxConcurrentActivityTaskExecutions: config.maxConcurrentActivities, ...tuning },
    });
    // Same readiness line as worker/main.ts, so one spawner serves both entries.
    console.log(
      `worker: serving ${agents.map((a) => a.name).join(', ')} on task queue "${s.taskQueue}", pid ${process.pid}, options ${JSON.stringify(tuning)}`,
    );
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
