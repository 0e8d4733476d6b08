/**
 * What the bench compares: the system as shipped, and with the tuning the measurements point at.
 */
import { DEV_SERVER_FILE_PRAGMAS, DEV_SERVER_TUNING } from '../scripts/dev-server.js';
import type { TuningOptions } from './worker-process.js';

/** Dev-server flags of the tuned profile: what the project ships (scripts/dev-server.ts), plus one for long runs. */
export const TUNED_SERVER_ARGS: string[] = [
  ...DEV_SERVER_TUNING,
  // A run that continues as new less than this long after its previous execution started has its
  // first workflow task held back for the rest of it (default 1 s, a guard against tight
  // continue-as-new loops). Late in a long run, executions last ~1 s (the conversation is large),
  // so every other continue-as-new cost a ~1 s stall; the real fix is fewer, longer executions.
  '--dynamic-config-value',
  'history.workflowIdReuseMinimalInterval="0s"',
];

/**
 * WorkerOptions of the tuned profile (on top of worker/create-worker.ts's own, and of
 * maxConcurrentActivityTaskExecutions, which the bench sets per level via AGENT_RUNNER_MAX_ACTIVITIES).
 */
export const TUNED_WORKER_OPTIONS: TuningOptions = {
  // More pollers waiting on each queue, so a task finds a poller at once instead of being
  // written to matching's backlog and read back (fewer CreateTasks per turn in the server's
  // counters). The defaults are 10 each, of which only 2 poll the non-sticky queue that every
  // new run's first workflow task goes to. Autoscaling pollers were tried too: no better here.
  workflowTaskPollerBehavior: { type: 'simple-maximum', maximum: 40 },
  activityTaskPollerBehavior: { type: 'simple-maximum', maximum: 40 },
  // Workflow tasks are short (no local activities); the worker mostly waits on the server.
  maxConcurrentWorkflowTaskExecutions: 100,
  // Every running run stays cached (no full-history replays): explicit, because the default comes
  // from the heap limit and is far lower in a small container (≈ 480 at a 1 GB heap).
  maxCachedWorkflows: 2000,
};

/** A configuration under test. */
export interface Profile {
  name: string;
  /** One line saying what it is. */
  what: string;
  /**
   * Which dev server it runs against: `stock` (`temporal server start-dev` as it comes, in memory),
   * `shipped` (as `npm run server` starts it: DEV_SERVER_TUNING, a SQLite file with
   * DEV_SERVER_FILE_PRAGMAS, Web UI on), `tuned` (DEV_SERVER_TUNING and the long-run setting, in memory).
   */
  server: 'stock' | 'shipped' | 'tuned';
  /** undefined: the shipped worker entry (worker/main.ts). */
  tuning: TuningOptions | undefined;
  /** The agent the runs use (default `toolbox`, bench/agents.ts). */
  agent?: string;
}

export const BASELINE: Profile = {
  name: 'baseline',
  what: 'stock `temporal server start-dev`, shipped worker (`worker/main.ts`, only AGENT_RUNNER_MAX_ACTIVITIES set)',
  server: 'stock',
  tuning: undefined,
};

/** What a user gets with the defaults: `npm run server` and `npm run worker`. */
export const SHIPPED: Profile = {
  name: 'shipped',
  what: `dev server as \`npm run server\` starts it (${[...DEV_SERVER_TUNING, ...DEV_SERVER_FILE_PRAGMAS]
    .filter((a) => !a.startsWith('--'))
    .map((a) => `\`${a}\``)
    .join(', ')}, state in a SQLite file, Web UI on), shipped worker (\`worker/main.ts\`)`,
  server: 'shipped',
  tuning: undefined,
};

/** The same, with an agent whose model call and tools are local activities (`toolbox-local`). */
export const SHIPPED_LOCAL: Profile = {
  ...SHIPPED,
  name: 'shipped-local',
  what: 'as **shipped**, the agent `toolbox-local` (`localActivities: { tools: true, model: true }`)',
  agent: 'toolbox-local',
};

export const TUNED: Profile = {
  name: 'tuned',
  what: `dev server with ${TUNED_SERVER_ARGS.filter((a) => !a.startsWith('--'))
    .map((a) => `\`${a}\``)
    .join(', ')} (in memory), \`bench/worker-process.ts\` with ${JSON.stringify(TUNED_WORKER_OPTIONS)}`,
  server: 'tuned',
  tuning: TUNED_WORKER_OPTIONS,
};
