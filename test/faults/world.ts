/**
 * The fault suite's world: a Temporal server (the shared one, or a test's own), the fake
 * Messages API, real worker processes on a task queue of their own, a client, and a scratch
 * folder for the tools' event log and the ticket store.
 */
import { Client, Connection } from '@temporalio/client';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { listTickets, type Ticket } from '../../agents/triage/tickets.js';
import { dataConverter } from '../../connection/codecs.js';
import { AgentRunner, type StartOptions } from '../../client/runner.js';
import type { RunResult } from '../../contract/run.js';
import { FakeMessagesApi, type FakeMessagesApiOptions } from '../../devtools/fake-api/server.js';
import { spawnWorker, type WorkerProcess } from '../support/worker-process.js';

/** The key the fake expects (and that must never leak). */
export const FAULT_API_KEY = 'sk-ant-fault-SECRET-91c2e0';

/** One event a test tool logged from whichever process ran it. */
export interface ToolEvent {
  event: 'start' | 'done';
  tool: string;
  key: string;
  attempt: number;
  pid: number;
  at: number;
  created?: boolean;
  ticket?: string;
}

export interface FaultWorld {
  address: string;
  fake: FakeMessagesApi;
  client: Client;
  runner: AgentRunner;
  taskQueue: string;
  dir: string;
  workers: WorkerProcess[];
  /** Start a run and wait for its result. */
  run(agent: string, prompt: string, opts?: StartOptions): Promise<RunResult>;
  /** Start a worker process and wait until it polls. */
  startWorker(env?: NodeJS.ProcessEnv): Promise<WorkerProcess>;
  toolEvents(): ToolEvent[];
  tickets(): Ticket[];
  close(): Promise<void>;
}

export async function startFaultWorld(opts: { address?: string; fake?: FakeMessagesApiOptions } = {}): Promise<FaultWorld> {
  const address = opts.address ?? inject('temporalAddress');
  const fake = await FakeMessagesApi.start({ apiKey: FAULT_API_KEY, ...opts.fake });
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, namespace: 'default', dataConverter: dataConverter() });
  const taskQueue = `faults-${randomUUID().slice(0, 8)}`;
  const runner = await AgentRunner.connect({ client, settings: { taskQueue, uiUrl: 'http://localhost:8233' } });
  const dir = mkdtempSync(join(tmpdir(), 'agent-runner-faults-'));
  const log = join(dir, 'tools.jsonl');
  const workers: WorkerProcess[] = [];
  return {
    address,
    fake,
    client,
    runner,
    taskQueue,
    dir,
    workers,
    async startWorker(env = {}) {
      const w = spawnWorker({
        address,
        taskQueue,
        baseURL: fake.url,
        apiKey: FAULT_API_KEY,
        bundlePath: inject('workflowBundlePath'),
        env: { AGENT_RUNNER_TEST_LOG: log, AGENT_RUNNER_DATA_DIR: dir, AGENT_RUNNER_SHUTDOWN_GRACE: '10s', ...env },
      });
      workers.push(w);
      await w.ready;
      return w;
    },
    async run(agent, prompt, startOpts) {
      return (await runner.start(agent, prompt, startOpts)).result();
    },
    toolEvents: () =>
      existsSync(log)
        ? readFileSync(log, 'utf8')
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l) as ToolEvent)
        : [],
    tickets: () => listTickets(join(dir, 'tickets')),
    async close() {
      for (const w of workers) w.kill('SIGKILL');
      await Promise.all(workers.map((w) => w.exited));
      await connection.close();
      await fake.close();
    },
  };
}

/** Poll until `probe` gives a value (not undefined/false). */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
