/**
 * Starts and stops the Temporal CLI's dev server (`temporal server start-dev`) with the
 * project's search attributes registered. Used by `npm run server`, the demo and the tests.
 */
import { Connection } from '@temporalio/client';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname } from 'node:path';
import { SEARCH_ATTRIBUTES } from '../contract/search-attributes.js';
import { endWithThisProcess } from './child-guard.js';
import { ensureTemporalCli } from './temporal-cli.js';

/** Options of {@link startDevServer}. */
export interface DevServerOptions {
  /** gRPC port (default: a free one). */
  port?: number;
  /** Web UI port, or `false` for none (default: a free one). */
  uiPort?: number | false;
  /** SQLite file to keep state in (default: in memory). */
  dbFile?: string;
  namespace?: string;
  /** Codec server the UI should use to decode payloads. */
  codecEndpoint?: string;
  /** More `temporal server start-dev` arguments (e.g. dynamic config). */
  extraArgs?: string[];
  /**
   * Apply {@link DEV_SERVER_TUNING} (and {@link DEV_SERVER_FILE_PRAGMAS} with a `dbFile`; default true). `false` gives the stock dev server, which the
   * benchmark uses as its baseline.
   */
  tuned?: boolean;
  /**
   * Register the project's search attributes (default true). `false` gives a namespace without
   * them, like a cluster nobody has set up yet (the tests check what `start` says there).
   */
  searchAttributes?: boolean;
  /** More environment for the server process (e.g. Go runtime settings such as GOMEMLIMIT). */
  env?: Record<string, string>;
  /** Where to send the server's own log lines (default: kept in memory, shown if it fails). */
  onLog?: (line: string) => void;
  log?: (line: string) => void;
}

/** A running dev server. */
export interface DevServer {
  address: string;
  namespace: string;
  uiUrl: string | undefined;
  process: ChildProcess;
  /** Stop it and wait for it to exit. */
  stop(): Promise<void>;
}

/**
 * Dynamic config the dev server gets by default (measured in BENCHMARKS.md, "Dev-server configuration"):
 *
 * - `history.transferProcessorMaxPollRPS=1000`: the history service's transfer queue (which hands
 *   each new workflow task to matching) may read its store only 20 times a second by default, so
 *   once the bucket's burst is spent every workflow task waits for the next 50 ms tick — two per
 *   agent turn. Reads are driven by new-task notifications, so a higher cap costs nothing when idle
 *   and, in memory or with the pragmas below, no throughput at 100 runs either.
 * - `system.forceSearchAttributesCacheRefreshOnRead=false`: the CLI's dev server re-reads the
 *   search-attribute definitions from its database on every use (so attributes created at run
 *   time show at once): 2–3 reads per start, describe and upsert, ~6–9 of a turn's ~23
 *   persistence calls at 100 runs. Off, they come from a 60 s cache; the project's attributes are
 *   registered when the server starts, so nothing waits for it.
 */
export const DEV_SERVER_TUNING = [
  '--dynamic-config-value',
  'history.transferProcessorMaxPollRPS=1000',
  '--dynamic-config-value',
  'system.forceSearchAttributesCacheRefreshOnRead=false',
];

/**
 * SQLite pragmas of a tuned dev server that keeps its state in a file (`npm run server`). With
 * SQLite's defaults (rollback journal, `synchronous=FULL`) every commit is an fsync, and the dev
 * server uses one connection for everything: 100 concurrent runs took 2.4× as long as in memory.
 * Write-ahead log with `synchronous=normal` commits without an fsync; the database survives the
 * server being killed (the fault suite does that), and only an OS crash or power loss can roll
 * back the last transactions.
 */
export const DEV_SERVER_FILE_PRAGMAS = ['--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', 'synchronous=normal'];

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** Whether a Temporal frontend answers at `address` (within `timeoutMs`). */
export async function temporalAnswers(address: string, namespace = 'default', timeoutMs = 2_000): Promise<boolean> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address, connectTimeout: timeoutMs });
    await connection.withDeadline(Date.now() + timeoutMs, () => connection!.workflowService.describeNamespace({ namespace }));
    return true;
  } catch {
    return false;
  } finally {
    await connection?.close().catch(() => undefined);
  }
}

/** Start a dev server and wait until its namespace answers. */
export async function startDevServer(opts: DevServerOptions = {}): Promise<DevServer> {
  const cli = ensureTemporalCli(opts.log);
  const namespace = opts.namespace ?? 'default';
  const port = opts.port ?? (await freePort());
  const uiPort = opts.uiPort === false ? undefined : (opts.uiPort ?? (await freePort()));
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--namespace', namespace, '--log-level', 'warn'];
  args.push(...(uiPort === undefined ? ['--headless'] : ['--ui-port', String(uiPort)]));
  if (opts.dbFile) {
    mkdirSync(dirname(opts.dbFile), { recursive: true });
    args.push('--db-filename', opts.dbFile);
  }
  if (opts.searchAttributes !== false)
    for (const key of SEARCH_ATTRIBUTES) args.push('--search-attribute', `${key.name}=${searchAttributeCliType(key.type)}`);
  if (opts.codecEndpoint) args.push('--ui-codec-endpoint', opts.codecEndpoint);
  if (opts.tuned !== false) args.push(...DEV_SERVER_TUNING, ...(opts.dbFile ? DEV_SERVER_FILE_PRAGMAS : []));
  args.push(...(opts.extraArgs ?? []));

  const child = spawn(cli, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(opts.env && { env: { ...process.env, ...opts.env } }) });
  const tail: string[] = [];
  const onLine = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      if (opts.onLog) opts.onLog(line);
      tail.push(line);
      if (tail.length > 20) tail.shift();
    }
  };
  child.stdout?.on('data', onLine);
  child.stderr?.on('data', onLine);
  let exited: number | null | undefined;
  const exit = new Promise<void>((resolve) => child.on('exit', (code) => ((exited = code), resolve())));
  const killOnExit = () => child.kill('SIGKILL');
  process.on('exit', killOnExit);
  // And when this process dies without running exit handlers (SIGKILL, out of memory).
  endWithThisProcess(child);

  const address = `127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  while (!(await temporalAnswers(address, namespace, 1_000))) {
    if (exited !== undefined || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(
        `the Temporal dev server did not start (${exited !== undefined ? `exit code ${exited}` : 'no answer in 60 s'}): ${tail.slice(-5).join(' | ')}`,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    address,
    namespace,
    uiUrl: uiPort === undefined ? undefined : `http://localhost:${uiPort}`,
    process: child,
    async stop() {
      process.off('exit', killOnExit);
      if (exited !== undefined) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exit;
      clearTimeout(timer);
    },
  };
}

function searchAttributeCliType(t: string): string {
  const map: Record<string, string> = {
    KEYWORD: 'Keyword',
    TEXT: 'Text',
    INT: 'Int',
    DOUBLE: 'Double',
    BOOL: 'Bool',
    DATETIME: 'Datetime',
    KEYWORD_LIST: 'KeywordList',
  };
  const v = map[t];
  if (!v) throw new Error(`unsupported search attribute type ${t}`);
  return v;
}
