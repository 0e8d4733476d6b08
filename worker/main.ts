/**
 * `npm run worker`: a worker process serving the agent catalog (agents/index.ts, or the module
 * in AGENT_RUNNER_AGENTS).
 *
 * Reads the Temporal connection from the environment (connection/settings.ts), its own settings
 * (worker/config.ts) and the model endpoint from the SDK's own ANTHROPIC_API_KEY /
 * ANTHROPIC_BASE_URL. SIGINT/SIGTERM shut it down gracefully: polling stops, in-flight
 * activities get the shutdown grace time to finish, then are cancelled (and retried elsewhere).
 */
import { NativeConnection, Runtime, DefaultLogger } from '@temporalio/worker';
import { loadAgents } from '../agents/catalog.js';
import { runnerSettings } from '../connection/settings.js';
import { workerConfig } from './config.js';
import { createAgentWorkers, modelTaskQueue } from './create-worker.js';
import { metricsFromEnv, tracingFromEnv } from './telemetry.js';

async function run(): Promise<void> {
  const metrics = metricsFromEnv();
  Runtime.install({
    logger: new DefaultLogger('WARN'),
    shutdownSignals: ['SIGINT', 'SIGTERM'],
    ...(metrics && { telemetryOptions: { metrics } }),
  });
  const s = runnerSettings();
  const config = workerConfig();
  const tracing = tracingFromEnv();
  const agents = await loadAgents();
  let connection: NativeConnection;
  try {
    connection = await NativeConnection.connect(s.connection);
  } catch (e) {
    throw new Error(
      `cannot reach Temporal at ${s.connection.address} (${(e as Error).message.split('\n')[0]}): start it with \`npm run server\` or set TEMPORAL_ADDRESS`,
    );
  }
  try {
    const workers = await createAgentWorkers({
      connection,
      namespace: s.namespace,
      taskQueue: s.taskQueue,
      agents,
      ...(config.workflowBundlePath && { workflowBundle: { codePath: config.workflowBundlePath } }),
      shutdownGraceTime: config.shutdownGraceTime,
      prices: config.prices,
      ...(config.modelQueue && { modelQueue: config.modelQueue }),
      extra: { maxConcurrentActivityTaskExecutions: config.maxConcurrentActivities, ...(tracing && { plugins: [tracing.plugin] }) },
    });
    const endpoint = shownUrl(process.env.ANTHROPIC_BASE_URL ?? 'https://api.anthropic.com');
    console.log(
      `worker: serving ${agents.map((a) => a.name).join(', ')} on task queue "${s.taskQueue}" at ${s.connection.address} (namespace ${s.namespace}), pid ${process.pid}`,
    );
    console.log(
      `worker: model endpoint ${endpoint}${process.env.ANTHROPIC_API_KEY ? '' : ' — warning: ANTHROPIC_API_KEY is not set, model calls will fail'}`,
    );
    if (tracing) {
      const note = config.workflowBundlePath
        ? ' (activity, model and tool spans; workflow spans need the workflows bundled at start: unset AGENT_RUNNER_WORKFLOW_BUNDLE)'
        : '';
      console.log(`worker: traces to ${shownUrl(tracing.endpoint)}${note}`);
    }
    if (metrics && 'prometheus' in metrics) console.log(`worker: metrics at http://${metrics.prometheus.bindAddress}/metrics`);
    if (config.modelQueue) {
      const { requestsPerSecond: rps, maxConcurrentCalls: n } = config.modelQueue;
      console.log(
        `worker: model calls on task queue "${modelTaskQueue(s.taskQueue)}"${rps ? `, at most ${rps}/s across all workers` : ''}${n ? `, ${n} at once here` : ''}`,
      );
    }
    await workers.run();
  } finally {
    await tracing?.shutdown(); // flush the last spans
    await connection.close();
  }
  console.log('worker: stopped');
}

/** A URL as it may be printed: no userinfo, query or fragment (they can carry credentials). */
function shownUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    u.search = '';
    u.hash = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return '(ANTHROPIC_BASE_URL is not a URL)';
  }
}

run().catch((e: unknown) => {
  console.error(`error: ${(e as Error).message.split('\n')[0]}`);
  process.exit(1);
});
