/**
 * A real Temporal cluster on PostgreSQL, the way a production install runs it: the server 1.32.2
 * built from source (scripts/cluster/binaries.ts), PostgreSQL with a data directory of the
 * project's own (scripts/cluster/postgres.ts), and the four services frontend, history, matching
 * and worker, each its own process started from cluster/temporal.yaml. Optionally the Web UI
 * server, pointed at the project's codec server. Everything listens on 127.0.0.1.
 *
 * `npm run cluster` starts it in the foreground (Ctrl-C stops what it started); tests use
 * {@link startCluster}, which can also SIGKILL and restart one service on the same database.
 * Logs: `.artifacts/cluster/<process>.log`. Data: `.data/cluster/` (reused by the next start).
 */
import { Connection } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ensureClusterBinaries, PROJECT_ROOT, TEMPORAL_SERVER_VERSION, type ClusterBinaries } from './cluster/binaries.js';
import { LocalPostgres, TEMPORAL_DB_USER } from './cluster/postgres.js';
import { describeExit, lastLines, runCommand, spawnLogged, stopLive, type ManagedProcess } from './cluster/processes.js';
import { ensureTemporalCli } from './temporal-cli.js';

export { ensureClusterBinaries, TEMPORAL_SERVER_VERSION, TEMPORAL_UI_SERVER_VERSION, GO_TOOLCHAIN } from './cluster/binaries.js';
export type { ClusterBinaries } from './cluster/binaries.js';
export type { ManagedProcess } from './cluster/processes.js';

/** The Temporal services, each run as its own process. */
export const TEMPORAL_SERVICES = ['frontend', 'history', 'matching', 'worker'] as const;
export type TemporalService = (typeof TEMPORAL_SERVICES)[number];
/** Every process the cluster runs. */
export type ClusterProcessName = TemporalService | 'postgres' | 'ui';

/**
 * Search attributes registered on the namespace: the four the workflows keep up to date
 * (workflows/search-attributes.ts) and AgentCostUsd for cost tracking. The PostgreSQL visibility
 * store has 3 Int, 3 Double and 10 Keyword columns per namespace for custom attributes.
 */
export const CLUSTER_SEARCH_ATTRIBUTES = [
  { name: 'AgentName', type: 'Keyword' },
  { name: 'AgentStatus', type: 'Keyword' },
  { name: 'AgentTurns', type: 'Int' },
  { name: 'AgentTokens', type: 'Int' },
  { name: 'AgentCostUsd', type: 'Double' },
] as const;

/** temporal.api.enums.v1.IndexedValueType by CLI type name. */
const INDEXED_VALUE_TYPE: Record<string, number> = { Text: 1, Keyword: 2, Int: 3, Double: 4, Bool: 5, Datetime: 6, KeywordList: 7 };

export const CONFIG_FILE = join(PROJECT_ROOT, 'cluster', 'temporal.yaml');
export const DYNAMIC_CONFIG_FILE = join(PROJECT_ROOT, 'cluster', 'dynamicconfig.yaml');
const UI_CONFIG_DIR = 'cluster/ui';
const UI_CONFIG_ENV = 'agent-runner';
export const DEFAULT_DATA_DIR = join(PROJECT_ROOT, '.data', 'cluster');
export const DEFAULT_LOG_DIR = join(PROJECT_ROOT, '.artifacts', 'cluster');

/** Every port the cluster listens on (all on 127.0.0.1). */
export interface ClusterPorts {
  postgres: number;
  /** Frontend gRPC: the address clients and workers use. */
  frontend: number;
  frontendHttp: number;
  frontendMembership: number;
  history: number;
  historyMembership: number;
  matching: number;
  matchingMembership: number;
  worker: number;
  workerMembership: number;
  /** Web UI (only used with `ui`). */
  ui: number;
}

/**
 * Temporal's usual port layout around a frontend port: 7233 gives history 7234, matching 7235,
 * worker 7239, frontend HTTP 7243 and membership 6933/6934/6935/6939.
 */
export function portLayout(frontend = 7233, postgres = 5433, ui = 8233): ClusterPorts {
  if (!Number.isInteger(frontend) || frontend < 1324 || frontend > 65525)
    throw new Error(`frontend port ${frontend} must be between 1324 and 65525`);
  return {
    postgres,
    frontend,
    frontendHttp: frontend + 10,
    frontendMembership: frontend - 300,
    history: frontend + 1,
    historyMembership: frontend - 299,
    matching: frontend + 2,
    matchingMembership: frontend - 298,
    worker: frontend + 6,
    workerMembership: frontend - 294,
    ui,
  };
}

/** A free TCP port on 127.0.0.1. */
function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => (typeof a === 'object' && a ? res(a.port) : rej(new Error('no port'))));
    });
  });
}

function portFree(port: number): Promise<boolean> {
  return new Promise((res) => {
    const srv = createServer();
    srv.once('error', () => res(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => res(true)));
  });
}

/** Options of {@link startCluster}. */
export interface ClusterOptions {
  /** Ports: a full or partial set (the rest from {@link portLayout}), or `'auto'` for free ones. Default: {@link portLayout}(). */
  ports?: Partial<ClusterPorts> | 'auto';
  /** Where PostgreSQL keeps its data (default `.data/cluster`, or AGENT_RUNNER_CLUSTER_DIR). Reused when it exists. */
  dataDir?: string;
  /** Where each process logs (default `.artifacts/cluster`). */
  logDir?: string;
  /** Namespace registered with the search attributes (default `default`). */
  namespace?: string;
  /** Also run the Web UI server (built on first use). Default false. */
  ui?: boolean;
  /** Codec server the UI sends payloads to, e.g. `http://127.0.0.1:8888`. */
  codecEndpoint?: string;
  /** Temporal server log level (default `info`; the logs go to files). */
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** Progress lines (what is built or started, and how long it took). */
  log?: (line: string) => void;
}

/** A running cluster. */
export interface Cluster {
  /** Frontend gRPC address, e.g. `127.0.0.1:7233`. */
  address: string;
  namespace: string;
  ports: ClusterPorts;
  /** Web UI, when started with `ui`. */
  uiUrl: string | undefined;
  dataDir: string;
  logDir: string;
  /** The processes by name; an entry is replaced when that process is restarted. */
  processes: Partial<Record<ClusterProcessName, ManagedProcess>>;
  /** Stop everything this cluster started (Temporal services, then the UI, then PostgreSQL). */
  stop(): Promise<void>;
  /** Send `signal` (default SIGKILL) to one process and wait for it to exit. */
  killService(name: ClusterProcessName, signal?: NodeJS.Signals): Promise<void>;
  /** Stop one process if it runs (SIGTERM), start it again on the same data, and wait until it serves. */
  restartService(name: ClusterProcessName): Promise<void>;
}

function seconds(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(1)} s`;
}

/** The environment minus TEMPORAL_* variables, which the server and UI CLIs would read as flags. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TEMPORAL_')));
}

/**
 * PostgreSQL keeps each member's membership port in `cluster_membership.rpc_port`, a SMALLINT:
 * a membership port above 32767 makes the service die at start ("value out of range for type
 * smallint"). The kernel's free ports (32768+ on Linux) are therefore no good for them.
 */
const MAX_MEMBERSHIP_PORT = 32767;
const MEMBERSHIP_KEYS = ['frontendMembership', 'historyMembership', 'matchingMembership', 'workerMembership'] as const;

async function freeLowPort(taken: Set<number>): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = 20000 + Math.floor(Math.random() * (MAX_MEMBERSHIP_PORT - 20000));
    if (!taken.has(port) && (await portFree(port))) return port;
  }
  throw new Error('no free port between 20000 and 32767 for the membership ports');
}

async function resolvePorts(p: ClusterOptions['ports']): Promise<ClusterPorts> {
  let ports: ClusterPorts;
  if (p === 'auto') {
    const names = Object.keys(portLayout()) as (keyof ClusterPorts)[];
    ports = {} as ClusterPorts;
    const taken = new Set<number>();
    for (const n of names) {
      let port = (MEMBERSHIP_KEYS as readonly string[]).includes(n) ? await freeLowPort(taken) : await freePort();
      while (taken.has(port)) port = await freePort();
      taken.add(port);
      ports[n] = port;
    }
  } else {
    ports = { ...portLayout(p?.frontend ?? 7233, p?.postgres ?? 5433, p?.ui ?? 8233), ...p };
  }
  const tooHigh = MEMBERSHIP_KEYS.filter((k) => ports[k] > MAX_MEMBERSHIP_PORT);
  if (tooHigh.length) {
    throw new Error(
      `membership port${tooHigh.length > 1 ? 's' : ''} ${tooHigh.map((k) => `${k}=${ports[k]}`).join(', ')} above ${MAX_MEMBERSHIP_PORT}: ` +
        'Temporal stores them in a PostgreSQL SMALLINT column (use a frontend port of at most 33061, or set the membership ports)',
    );
  }
  return ports;
}

/** Start PostgreSQL and the four Temporal services (and the UI), and wait until the namespace serves. */
export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  const log = opts.log ?? (() => {});
  const started = Date.now();
  const namespace = opts.namespace ?? 'default';
  const dataDir = resolve(opts.dataDir ?? process.env.AGENT_RUNNER_CLUSTER_DIR ?? DEFAULT_DATA_DIR);
  const logDir = resolve(opts.logDir ?? DEFAULT_LOG_DIR);
  mkdirSync(logDir, { recursive: true });
  const ports = await resolvePorts(opts.ports);
  const address = `127.0.0.1:${ports.frontend}`;

  const bins = await ensureClusterBinaries({ ui: opts.ui, log });
  const cli = ensureTemporalCli(log);

  const wanted: [keyof ClusterPorts, number][] = (Object.entries(ports) as [keyof ClusterPorts, number][]).filter(
    ([k]) => k !== 'ui' || opts.ui,
  );
  const busy: string[] = [];
  for (const [name, port] of wanted) if (!(await portFree(port))) busy.push(`${port} (${name})`);
  if (busy.length) {
    throw new Error(
      `port${busy.length > 1 ? 's' : ''} ${busy.join(', ')} already in use on 127.0.0.1: stop what holds ${busy.length > 1 ? 'them' : 'it'} ` +
        '(another cluster, or `npm run server`?) or choose other ports (npm run cluster -- --port N / --pg-port N / --ui-port N)',
    );
  }

  const processes: Cluster['processes'] = {};
  let stopping = false;
  const stopAll = async () => {
    stopping = true;
    const running = (n: ClusterProcessName) => processes[n] && !processes[n]!.exitStatus;
    if (running('ui')) await processes.ui!.stop();
    if (running('frontend')) await processes.frontend!.stop();
    await Promise.all((['worker', 'matching', 'history'] as const).filter(running).map((n) => processes[n]!.stop()));
    // SIGINT is PostgreSQL's "fast" shutdown: roll back open transactions, checkpoint, exit.
    if (running('postgres')) await processes.postgres!.stop('SIGINT', 30_000);
  };

  try {
    let t = Date.now();
    const pg = await LocalPostgres.prepare({ dataDir, port: ports.postgres, logFile: join(logDir, 'postgres.log'), log });
    processes.postgres = await pg.start();
    await pg.ensureTemporalDatabases(bins.sqlTool, bins.postgresSchemaDir, log);
    await pg.forgetStaleMembers();
    log(`PostgreSQL ready on 127.0.0.1:${ports.postgres}, databases temporal and temporal_visibility up to date (${seconds(t)})`);

    const serviceEnv: NodeJS.ProcessEnv = {
      ...cleanEnv(),
      AR_PG_PORT: String(ports.postgres),
      AR_PG_USER: TEMPORAL_DB_USER,
      AR_PG_PASSWORD: pg.temporalPassword,
      AR_FRONTEND_GRPC_PORT: String(ports.frontend),
      AR_FRONTEND_HTTP_PORT: String(ports.frontendHttp),
      AR_FRONTEND_MEMBERSHIP_PORT: String(ports.frontendMembership),
      AR_HISTORY_GRPC_PORT: String(ports.history),
      AR_HISTORY_MEMBERSHIP_PORT: String(ports.historyMembership),
      AR_MATCHING_GRPC_PORT: String(ports.matching),
      AR_MATCHING_MEMBERSHIP_PORT: String(ports.matchingMembership),
      AR_WORKER_GRPC_PORT: String(ports.worker),
      AR_WORKER_MEMBERSHIP_PORT: String(ports.workerMembership),
      AR_DYNAMIC_CONFIG_FILE: DYNAMIC_CONFIG_FILE,
      AR_LOG_LEVEL: opts.logLevel ?? 'info',
    };
    const startService = (service: TemporalService) =>
      spawnLogged({
        name: service,
        command: bins.server,
        args: ['--config-file', CONFIG_FILE, '--allow-no-auth', 'start', `--service=${service}`],
        logFile: join(logDir, `${service}.log`),
        env: serviceEnv,
        cwd: PROJECT_ROOT,
      });

    t = Date.now();
    const running = () => TEMPORAL_SERVICES.map((s) => processes[s]).filter((p): p is ManagedProcess => p !== undefined);
    const probe = new Probe(address, namespace, running);
    try {
      // The frontend first: every service writes the cluster metadata from its config at start if
      // it differs from the stored one (e.g. another frontend port), and concurrent writers lose a
      // version check and exit ("SaveClusterMetadata encountered version mismatch").
      processes.frontend = await startService('frontend');
      await probe.frontendAnswers(120_000);
      for (const s of ['history', 'matching', 'worker'] as const) processes[s] = await startService(s);
      await ensureNamespace(probe, cli, namespace, log);
      await ensureSearchAttributes(probe, namespace, log);
      await probe.historyAndMatchingServe(120_000);
      await probe.workerServiceStarted(processes.worker!, 120_000);
    } finally {
      await probe.close();
    }
    log(`Temporal ${TEMPORAL_SERVER_VERSION} frontend, history, matching and worker up at ${address} (${seconds(t)})`);

    let uiUrl: string | undefined;
    const startUi = async () => {
      const proc = await spawnLogged({
        name: 'ui',
        command: bins.uiServer!,
        args: ['--root', PROJECT_ROOT, '--config', UI_CONFIG_DIR, '--env', UI_CONFIG_ENV, 'start'],
        logFile: join(logDir, 'ui.log'),
        env: {
          ...cleanEnv(),
          TEMPORAL_ADDRESS: address,
          TEMPORAL_UI_PORT: String(ports.ui),
          TEMPORAL_NAMESPACE: namespace,
          TEMPORAL_CODEC_ENDPOINT: opts.codecEndpoint ?? '',
        },
        cwd: PROJECT_ROOT,
      });
      try {
        await waitForHttp(`http://127.0.0.1:${ports.ui}/`, proc, 60_000);
      } catch (e) {
        await proc.stop();
        throw e;
      }
      return proc;
    };
    if (opts.ui) {
      t = Date.now();
      processes.ui = await startUi();
      uiUrl = `http://localhost:${ports.ui}`;
      log(`Web UI at ${uiUrl}${opts.codecEndpoint ? ` (codec server ${opts.codecEndpoint})` : ''} (${seconds(t)})`);
    }
    log(`cluster started in ${seconds(started)}`);

    const cluster: Cluster = {
      address,
      namespace,
      ports,
      uiUrl,
      dataDir,
      logDir,
      processes,
      stop: stopAll,
      async killService(name, signal = 'SIGKILL') {
        const p = processes[name];
        if (!p) throw new Error(`no ${name} process in this cluster`);
        if (p.exitStatus) return;
        p.child.kill(signal);
        await p.exited;
      },
      async restartService(name) {
        if (stopping) throw new Error('the cluster is stopping');
        const old = processes[name];
        if (!old) throw new Error(`no ${name} process in this cluster`);
        if (!old.exitStatus) await (name === 'postgres' ? old.stop('SIGINT', 30_000) : old.stop());
        if (name === 'postgres') {
          processes.postgres = await pg.start();
          return;
        }
        if (name === 'ui') {
          processes.ui = await startUi();
          return;
        }
        processes[name] = await startService(name);
        const p = new Probe(address, namespace, running);
        try {
          await p.frontendAnswers(120_000);
          await p.historyAndMatchingServe(120_000);
          if (name === 'worker') await p.workerServiceStarted(processes.worker!, 120_000);
        } finally {
          await p.close();
        }
      },
    };
    return cluster;
  } catch (e) {
    await stopAll();
    throw e;
  }
}

/** Readiness checks through the frontend, failing fast with a log tail when a service exits. */
class Probe {
  private connection: Connection | undefined;

  constructor(
    readonly address: string,
    private readonly namespace: string,
    private readonly services: () => ManagedProcess[],
  ) {}

  private checkAlive(): void {
    for (const p of this.services()) {
      if (p.exitStatus) {
        throw new Error(
          `the Temporal ${p.name} service exited (${describeExit(p)}); last lines of ${p.logFile}:\n  ${p.tail(12).join('\n  ')}`,
        );
      }
    }
  }

  private async conn(): Promise<Connection> {
    this.connection ??= await Connection.connect({ address: this.address, connectTimeout: 2_000 });
    return this.connection;
  }

  async close(): Promise<void> {
    await this.connection?.close().catch(() => undefined);
  }

  /** Poll `fn` until it returns true; `what` names it in the timeout error. */
  async until(what: string, timeoutMs: number, fn: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    for (;;) {
      this.checkAlive();
      try {
        if (await fn()) return;
      } catch (e) {
        last = (e as Error).message;
      }
      if (Date.now() > deadline) {
        const tails = this.services().map((p) => `${p.name}: ${p.tail(3).join(' / ')}`);
        throw new Error(
          `${what} not ready after ${timeoutMs / 1000} s${last ? ` (${last})` : ''}; logs in ${this.services()[0]?.logFile.replace(/[^/]+$/, '')}:\n  ${tails.join('\n  ')}`,
        );
      }
      await new Promise((r) => setTimeout(r, 300));
    }
  }

  frontendAnswers(timeoutMs: number): Promise<void> {
    return this.until(`the frontend at ${this.address}`, timeoutMs, async () => {
      const c = await this.conn();
      await c.withDeadline(Date.now() + 2_000, () => c.workflowService.getSystemInfo({}));
      return true;
    });
  }

  async namespaceExists(): Promise<boolean> {
    const c = await this.conn();
    try {
      await c.withDeadline(Date.now() + 5_000, () => c.workflowService.describeNamespace({ namespace: this.namespace }));
      return true;
    } catch (e) {
      if ((e as { code?: number }).code === 5) return false; // NOT_FOUND
      throw e;
    }
  }

  async searchAttributes(): Promise<Record<string, number>> {
    const c = await this.conn();
    const r = await c.withDeadline(Date.now() + 5_000, () => c.operatorService.listSearchAttributes({ namespace: this.namespace }));
    return (r.customAttributes ?? {}) as Record<string, number>;
  }

  async addSearchAttributes(searchAttributes: Record<string, number>): Promise<void> {
    const c = await this.conn();
    await c.withDeadline(Date.now() + 10_000, () => c.operatorService.addSearchAttributes({ namespace: this.namespace, searchAttributes }));
  }

  /**
   * History answers for every shard (DescribeWorkflowExecution of unknown ids reaches a shard and
   * says NOT_FOUND) and matching answers (DescribeTaskQueue).
   */
  historyAndMatchingServe(timeoutMs: number): Promise<void> {
    return this.until('the history and matching services', timeoutMs, async () => {
      const c = await this.conn();
      for (let i = 0; i < 16; i++) {
        try {
          await c.withDeadline(Date.now() + 3_000, () =>
            c.workflowService.describeWorkflowExecution({
              namespace: this.namespace,
              execution: { workflowId: `cluster-probe-${randomUUID()}` },
            }),
          );
        } catch (e) {
          if ((e as { code?: number }).code !== 5) throw e;
        }
      }
      await c.withDeadline(Date.now() + 3_000, () =>
        c.workflowService.describeTaskQueue({
          namespace: this.namespace,
          taskQueue: { name: `cluster-probe-${randomUUID()}` },
          taskQueueType: 1,
        }),
      );
      return true;
    });
  }

  /** The worker service logs this once its system workers run. */
  workerServiceStarted(worker: ManagedProcess, timeoutMs: number): Promise<void> {
    return this.until('the worker service', timeoutMs, async () => WORKER_READY.test(worker.logSinceStart()));
  }
}

/** What the worker service logs when it has started (server 1.32: service/worker/service.go). */
const WORKER_READY = /worker service started/i;

async function temporalCli(cli: string, address: string, args: string[]): Promise<void> {
  // No TEMPORAL_* variables and no config profile: this cluster, whatever the user's defaults are.
  const env = { ...cleanEnv(), TEMPORAL_CONFIG_FILE: '/dev/null' };
  const r = await runCommand(cli, [...args, '--address', address], { env, timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`temporal ${args.join(' ')}: ${lastLines(r.stderr || r.stdout)}`);
}

async function ensureNamespace(probe: Probe, cli: string, namespace: string, log: (line: string) => void): Promise<void> {
  if (await probe.namespaceExists().catch(() => false)) return;
  log(`registering namespace ${namespace} (temporal operator namespace create) …`);
  await probe.until(`namespace ${namespace}`, 60_000, async () => {
    if (await probe.namespaceExists()) return true;
    await temporalCli(cli, probe.address, ['operator', 'namespace', 'create', '--namespace', namespace, '--retention', '72h']);
    return probe.namespaceExists();
  });
}

/**
 * Registers the missing search attributes in one AddSearchAttributes request (the client's
 * operator service, not the CLI: the CLI takes one type per call, and with SQL visibility each
 * call computes its column assignment from the frontend's cached copy of the namespace, so
 * back-to-back calls clobber each other — seen here: two of five attributes lost).
 */
async function ensureSearchAttributes(probe: Probe, namespace: string, log: (line: string) => void): Promise<void> {
  let requestedAt = 0;
  await probe.until('search attributes', 60_000, async () => {
    const existing = await probe.searchAttributes();
    for (const a of CLUSTER_SEARCH_ATTRIBUTES) {
      if (existing[a.name] !== undefined && existing[a.name] !== INDEXED_VALUE_TYPE[a.type]) {
        throw new Error(`search attribute ${a.name} exists on namespace ${namespace} with another type (not ${a.type})`);
      }
    }
    const missing = CLUSTER_SEARCH_ATTRIBUTES.filter((a) => existing[a.name] === undefined);
    if (!missing.length) return true;
    // The namespace cache refreshes every 10 s: ask again only after that.
    if (Date.now() - requestedAt < 15_000) return false;
    log(`registering search attributes ${missing.map((a) => `${a.name} ${a.type}`).join(', ')} …`);
    await probe.addSearchAttributes(Object.fromEntries(missing.map((a) => [a.name, INDEXED_VALUE_TYPE[a.type]!])));
    requestedAt = Date.now();
    return false;
  });
}

async function waitForHttp(url: string, proc: ManagedProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.exitStatus)
      throw new Error(`${proc.name} exited (${describeExit(proc)}); last lines of ${proc.logFile}:\n  ${proc.tail(10).join('\n  ')}`);
    const ok = await fetch(url, { signal: AbortSignal.timeout(2_000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${url} did not answer in ${timeoutMs / 1000} s (log ${proc.logFile})`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

// ---------------------------------------------------------------------------------------------
// `npm run cluster`

const USAGE = `usage: npm run cluster [-- options]
  --port N        frontend gRPC port (default 7233, or AGENT_RUNNER_CLUSTER_PORT); the other
                  Temporal ports follow it (N+1 history, N+2 matching, N+6 worker, N+10 HTTP,
                  N-300.. membership)
  --pg-port N     PostgreSQL port (default 5433, or AGENT_RUNNER_CLUSTER_PG_PORT)
  --ui-port N     Web UI port (default 8233, or AGENT_RUNNER_CLUSTER_UI_PORT)
  --codec-port N  codec server port (default 8888, or AGENT_RUNNER_CODEC_PORT)
  --no-ui         no Web UI and no codec server
  --data-dir DIR  PostgreSQL data (default .data/cluster, or AGENT_RUNNER_CLUSTER_DIR)
  --build-only    only build/install what is missing, then exit`;

function intOption(v: string | undefined, env: string | undefined, def: number, what: string): number {
  const raw = v ?? env;
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0 || n > 65535) throw new Error(`${what} must be a port number, not ${raw}`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      'pg-port': { type: 'string' },
      'ui-port': { type: 'string' },
      'codec-port': { type: 'string' },
      'no-ui': { type: 'boolean' },
      'data-dir': { type: 'string' },
      'build-only': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const log = (l: string) => console.log(l);
  const ui = !values['no-ui'];
  if (values['build-only']) {
    const t = Date.now();
    const bins: ClusterBinaries = await ensureClusterBinaries({ ui, log });
    const { ensurePostgresBinaries } = await import('./cluster/postgres.js');
    const pg = await ensurePostgresBinaries(log);
    console.log(`ready (${seconds(t)}): ${bins.server}, ${bins.sqlTool}${bins.uiServer ? `, ${bins.uiServer}` : ''}, ${pg.postgres}`);
    return;
  }
  const frontend = intOption(values.port, process.env.AGENT_RUNNER_CLUSTER_PORT, 7233, '--port');
  const ports = portLayout(
    frontend,
    intOption(values['pg-port'], process.env.AGENT_RUNNER_CLUSTER_PG_PORT, 5433, '--pg-port'),
    intOption(values['ui-port'], process.env.AGENT_RUNNER_CLUSTER_UI_PORT, 8233, '--ui-port'),
  );
  const codecPort = intOption(values['codec-port'], process.env.AGENT_RUNNER_CODEC_PORT, 8888, '--codec-port');
  const dataDir = values['data-dir'] && !isAbsolute(values['data-dir']) ? resolve(values['data-dir']) : values['data-dir'];

  let codec: { url: string; close(): Promise<void> } | undefined;
  if (ui) {
    const { startCodecServer } = await import('../connection/codec-server.js');
    const { codecSettingsFromEnv, payloadCodecs } = await import('../connection/codecs.js');
    codec = await startCodecServer({
      codecs: payloadCodecs(codecSettingsFromEnv()),
      port: codecPort,
      allowedOrigins: [`http://localhost:${ports.ui}`, `http://127.0.0.1:${ports.ui}`],
    }).catch((e: Error) => {
      throw new Error(
        `cannot start the codec server on port ${codecPort} (${e.message}): free it, or use --codec-port / AGENT_RUNNER_CODEC_PORT`,
      );
    });
  }

  let cluster: Cluster | undefined;
  let shuttingDown = false;
  const shutdown = async (code: number) => {
    if (shuttingDown) return;
    shuttingDown = true;
    console.log('stopping the cluster …');
    await (cluster ? cluster.stop() : stopLive());
    await codec?.close();
    console.log('stopped.');
    process.exit(code);
  };
  // Ctrl-C while starting stops whatever has been started so far. `on`, not `once`: a Ctrl-C
  // reaches this process twice (from the terminal and relayed by tsx), and a second signal with
  // no handler would kill it halfway through stopping, leaving the rest running.
  process.on('SIGINT', () => void shutdown(130));
  process.on('SIGTERM', () => void shutdown(143));
  process.on('SIGHUP', () => void shutdown(129));
  try {
    cluster = await startCluster({ ports, dataDir, ui, codecEndpoint: codec?.url, log });
  } catch (e) {
    await codec?.close();
    throw e;
  }
  if (shuttingDown) {
    await cluster.stop();
    return;
  }
  console.log('');
  console.log(`Temporal cluster on PostgreSQL: ${cluster.address}, namespace ${cluster.namespace}`);
  if (cluster.uiUrl) console.log(`Web UI: ${cluster.uiUrl} (payloads decoded by the codec server at ${codec!.url})`);
  console.log(`PostgreSQL: 127.0.0.1:${cluster.ports.postgres}, data in ${cluster.dataDir}; logs in ${cluster.logDir}`);
  console.log(`Use it: TEMPORAL_ADDRESS=${cluster.address} npm run worker   (and TEMPORAL_ADDRESS=${cluster.address} npx agent-runner …)`);
  console.log('Ctrl-C to stop.');
  for (const p of Object.values(cluster.processes)) {
    void p.exited.then(() => {
      if (shuttingDown) return;
      console.error(`error: ${p.name} exited (${describeExit(p)}); last lines of ${p.logFile}:\n  ${p.tail(10).join('\n  ')}`);
      void shutdown(1);
    });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  main().catch((e: unknown) => {
    console.error(`error: ${(e as Error).message}`);
    process.exit(1);
  });
}
