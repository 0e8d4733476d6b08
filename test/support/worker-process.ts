/**
 * A real worker *process* (`worker/main.ts`, the same entry point as `npm run worker`), for the
 * fault suite: it can be SIGKILLed or SIGTERMed like a production worker.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../worker/main.ts', import.meta.url));
const AGENTS = fileURLToPath(new URL('./agents.ts', import.meta.url));

/** A running worker process. */
export interface WorkerProcess {
  child: ChildProcess;
  /** When the process was spawned (ms since epoch). */
  spawnedAt: number;
  /** Resolves once the worker polls (its "serving" line), rejects if it exits first. */
  ready: Promise<void>;
  /** Resolves with the exit code (or the signal name) when the process ends. */
  exited: Promise<number | string>;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  kill(signal?: NodeJS.Signals): void;
}

/** Options of {@link spawnWorker}. */
export interface SpawnWorkerOptions {
  address: string;
  taskQueue: string;
  /** The fake Messages API. */
  baseURL: string;
  apiKey: string;
  bundlePath?: string;
  env?: NodeJS.ProcessEnv;
}

/** Start `worker/main.ts` in its own Node process, serving the test agents. */
export function spawnWorker(opts: SpawnWorkerOptions): WorkerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    cwd: fileURLToPath(new URL('../../', import.meta.url)),
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      TEMPORAL_ADDRESS: opts.address,
      AGENT_RUNNER_TASK_QUEUE: opts.taskQueue,
      AGENT_RUNNER_AGENTS: AGENTS,
      ANTHROPIC_BASE_URL: opts.baseURL,
      ANTHROPIC_API_KEY: opts.apiKey,
      ...(opts.bundlePath && { AGENT_RUNNER_WORKFLOW_BUNDLE: opts.bundlePath }),
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const spawnedAt = Date.now();
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      if (out.includes('worker: serving')) resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    void exited.then((code) =>
      reject(new Error(`worker exited (${code}) before it was ready: ${out.trim().split('\n').slice(-3).join(' | ')}`)),
    );
  });
  ready.catch(() => undefined); // observed by whoever awaits it
  return { child, spawnedAt, ready, exited, output: () => out, kill: (signal = 'SIGTERM') => void child.kill(signal) };
}
