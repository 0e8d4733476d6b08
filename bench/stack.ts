/**
 * The bench's world: one real Temporal dev server (with the server flags of a profile), a client
 * and an AgentRunner on it, and the workflow bundle built once for every worker process.
 */
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dataConverter } from '../connection/codecs.js';
import { AgentRunner } from '../client/runner.js';
import { freePort, startDevServer, type DevServer } from '../scripts/dev-server.js';
import { BUNDLE_OPTIONS } from '../worker/create-worker.js';

/** The key the fake Messages API expects from the workers. */
export const BENCH_API_KEY = 'sk-ant-bench-not-a-real-key';

/** A dev server with a client on it. */
export interface Stack {
  server: DevServer;
  connection: Connection;
  client: Client;
  /** A runner on `taskQueue`. */
  runner(taskQueue: string): Promise<AgentRunner>;
  /** The server's persistence calls so far, by operation (from its Prometheus endpoint). */
  persistenceCalls(): Promise<Map<string, number>>;
  close(): Promise<void>;
}

/** How {@link startStack} starts its dev server besides the dynamic config. */
export interface StackOptions {
  /** Keep state in a SQLite file in a temporary folder, as `npm run server` does (default: in memory). */
  dbFile?: boolean;
  /** Serve the Web UI, as `npm run server` and a bare `temporal server start-dev` do (default: headless). */
  ui?: boolean;
  /** More environment for the server process. */
  env?: Record<string, string>;
}

/** Start a dev server with `extraArgs` (dynamic config) and connect a client. */
export async function startStack(extraArgs: string[] = [], opts: StackOptions = {}): Promise<Stack> {
  const dbDir = opts.dbFile ? mkdtempSync(join(tmpdir(), 'agent-runner-bench-db-')) : undefined;
  const removeDb = () => dbDir && rmSync(dbDir, { recursive: true, force: true });
  if (dbDir) process.on('exit', removeDb);
  let metricsPort = 0;
  let server: DevServer | undefined;
  // Free ports are picked before the server binds them, and other processes on the machine (other
  // test suites' dev servers) may take one in between: a bind failure is retried with new ports.
  for (let attempt = 1; !server; attempt++) {
    // The server's own metrics say what it does per turn (persistence calls), the measured cause
    // behind its CPU time.
    metricsPort = await freePort();
    try {
      // tuned: false — the stock dev server; the tuned profile passes its flags in extraArgs.
      server = await startDevServer({
        uiPort: opts.ui ? undefined : false,
        tuned: false,
        ...(dbDir && { dbFile: join(dbDir, `dev-${attempt}.db`) }),
        ...(opts.env && { env: opts.env }),
        extraArgs: ['--metrics-port', String(metricsPort), ...extraArgs],
      });
    } catch (e) {
      if (attempt >= 3 || !/address already in use/.test((e as Error).message)) throw e;
    }
  }
  const connection = await Connection.connect({ address: server.address });
  // The workers' payload codecs (connection/codecs.ts, from the same environment), or results cannot be read.
  const client = new Client({ connection, namespace: 'default', dataConverter: dataConverter() });
  return {
    server,
    connection,
    client,
    runner: (taskQueue) => AgentRunner.connect({ client, settings: { taskQueue } }),
    async persistenceCalls() {
      const read = async () => {
        const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
        const calls = new Map<string, number>();
        for (const line of text.split('\n')) {
          const kind = line.startsWith('persistence_requests{')
            ? ''
            : line.startsWith('visibility_persistence_requests{')
              ? 'visibility '
              : undefined;
          const op = kind === undefined ? undefined : /operation="([^"]+)"/.exec(line)?.[1];
          if (op) calls.set(kind + op, (calls.get(kind + op) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
        }
        return calls;
      };
      // The server exports its counters periodically, not live: read until they stop moving.
      let last = await read();
      const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
      for (let i = 0; i < 20; i++) {
        await new Promise((r) => setTimeout(r, 500));
        const next = await read();
        const moved = total(next) !== total(last);
        last = next;
        if (!moved && i >= 2) break;
      }
      return last;
    },
    async close() {
      await connection.close();
      await server.stop();
      if (dbDir) {
        process.off('exit', removeDb);
        removeDb();
      }
    },
  };
}

/** The workflow bundle (default: agent-runner's), built once and written to a temp file every worker process loads. */
export async function buildBundle(workflowsPath?: string): Promise<{ path: string; remove(): void }> {
  const options = workflowsPath ? { workflowsPath } : BUNDLE_OPTIONS;
  const { code } = await bundleWorkflowCode({ ...options, logger: new DefaultLogger('ERROR') });
  const dir = mkdtempSync(join(tmpdir(), 'agent-runner-bench-'));
  const path = join(dir, 'workflow-bundle.js');
  writeFileSync(path, code);
  const remove = () => rmSync(dir, { recursive: true, force: true });
  // Also on Ctrl-C, when the caller's finally does not run.
  process.on('exit', remove);
  return {
    path,
    remove() {
      process.off('exit', remove);
      remove();
    },
  };
}

/** Calls per turn between two readings of the server's counters, biggest first. */
export function perTurnCalls(before: Map<string, number>, after: Map<string, number>, turns: number): Map<string, number> {
  const rows = [...after].map(([op, n]) => [op, (n - (before.get(op) ?? 0)) / turns] as const).filter(([, n]) => n > 0.005);
  return new Map(rows.sort((a, b) => b[1] - a[1]));
}
