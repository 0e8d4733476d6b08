/**
 * Where the runner's Temporal lives, read from the environment in one place.
 *
 * | variable | default |
 * |---|---|
 * | TEMPORAL_ADDRESS | `localhost:7233` |
 * | TEMPORAL_NAMESPACE | `default` |
 * | TEMPORAL_API_KEY, TEMPORAL_TLS*, TEMPORAL_PROFILE | via `@temporalio/envconfig` (Temporal Cloud) |
 * | AGENT_RUNNER_TASK_QUEUE | `agent-runner` |
 * | TEMPORAL_UI_URL | `http://localhost:8233` (for the links printed to the run) |
 */
import { loadClientConnectConfig, type ClientConnectConfig } from '@temporalio/envconfig';

/** The default task queue of workers and runs. */
export const DEFAULT_TASK_QUEUE = 'agent-runner';

/** Connection settings shared by the client, the CLI and the worker. */
export interface RunnerSettings {
  connection: ClientConnectConfig['connectionOptions'] & { address: string };
  namespace: string;
  taskQueue: string;
  uiUrl: string;
}

/** Read the settings from the environment (and the envconfig TOML profile, if any). */
export function runnerSettings(env: NodeJS.ProcessEnv = process.env): RunnerSettings {
  const vars = Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
  const { connectionOptions, namespace } = loadClientConnectConfig({ overrideEnvVars: vars });
  return {
    connection: { ...connectionOptions, address: connectionOptions.address ?? 'localhost:7233' },
    namespace: namespace ?? 'default',
    taskQueue: env.AGENT_RUNNER_TASK_QUEUE || DEFAULT_TASK_QUEUE,
    uiUrl: (env.TEMPORAL_UI_URL || 'http://localhost:8233').replace(/\/+$/, ''),
  };
}

/** Link to a run in the Temporal Web UI. */
export function runUrl(settings: Pick<RunnerSettings, 'uiUrl' | 'namespace'>, workflowId: string): string {
  return `${settings.uiUrl}/namespaces/${encodeURIComponent(settings.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}
