/**
 * Worker configuration, read from the environment in one place and checked at start.
 *
 * | variable | default | meaning |
 * |---|---|---|
 * | AGENT_RUNNER_AGENTS | agents/index.ts | module whose `agents` export this worker serves |
 * | AGENT_RUNNER_WORKFLOW_BUNDLE | (bundle at start) | a prebuilt workflow bundle (`bundleWorkflowCode`) |
 * | AGENT_RUNNER_SHUTDOWN_GRACE | 30s | how long in-flight activities may finish after SIGTERM/SIGINT |
 * | AGENT_RUNNER_MAX_ACTIVITIES | 100 | activities run at once (model calls + tools) |
 * | ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL | SDK defaults | the model endpoint, read by the SDK itself |
 * | TEMPORAL_*, AGENT_RUNNER_TASK_QUEUE | see connection/settings.ts | where the worker polls |
 */
import { existsSync } from 'node:fs';

/** The worker's own settings (connection settings: connection/settings.ts). */
export interface WorkerConfig {
  workflowBundlePath: string | undefined;
  shutdownGraceTime: string;
  maxConcurrentActivities: number;
}

const DURATION = /^\d+(ms|s|m|h)$/;

/** Read and check; throws one line naming the variable and what to do. */
export function workerConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const bundle = env.AGENT_RUNNER_WORKFLOW_BUNDLE || undefined;
  if (bundle && !existsSync(bundle))
    throw new Error(`AGENT_RUNNER_WORKFLOW_BUNDLE=${bundle} does not exist: build it or unset the variable`);
  const grace = env.AGENT_RUNNER_SHUTDOWN_GRACE || '30s';
  if (!DURATION.test(grace)) throw new Error(`AGENT_RUNNER_SHUTDOWN_GRACE=${grace} is not a duration such as 30s or 2m`);
  const max = Number(env.AGENT_RUNNER_MAX_ACTIVITIES || 100);
  if (!Number.isInteger(max) || max < 1)
    throw new Error(`AGENT_RUNNER_MAX_ACTIVITIES=${env.AGENT_RUNNER_MAX_ACTIVITIES} must be a positive integer`);
  return { workflowBundlePath: bundle, shutdownGraceTime: grace, maxConcurrentActivities: max };
}
