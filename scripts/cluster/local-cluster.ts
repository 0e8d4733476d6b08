/**
 * The running cluster: PostgreSQL, then the frontend, then history, matching and worker (each its
 * own `server --service=…` process from cluster/temporal.yaml), the namespace and the contract's
 * search attributes, and optionally the Web UI server. It can stop everything it started, and
 * SIGKILL or restart one process on the same database while runs are in flight.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ensureTemporalCli } from '../temporal-cli.js';
import { ensureClusterBinaries, PROJECT_ROOT, TEMPORAL_SERVER_VERSION, type ClusterBinaries } from './binaries.js';
import { ensureNamespace, ensureSearchAttributes } from './namespace.js';
import { assertPortsFree, resolvePorts, type ClusterPorts } from './ports.js';
import { LocalPostgres, TEMPORAL_DB_USER } from './postgres.js';
import { Probe, waitForHttp } from './probe.js';
import { cleanEnv, spawnLogged, type ManagedProcess } from './processes.js';

/** The Temporal services, each run as its own process. */
export const TEMPORAL_SERVICES = ['frontend', 'history', 'matching', 'worker'] as const;
export type TemporalService = (typeof TEMPORAL_SERVICES)[number];
/** Every process the cluster runs. */
export type ClusterProcessName = TemporalService | 'postgres' | 'ui';

export const CONFIG_FILE = join(PROJECT_ROOT, 'cluster', 'temporal.yaml');
export const DYNAMIC_CONFIG_FILE = join(PROJECT_ROOT, 'cluster', 'dynamicconfig.yaml');
const UI_CONFIG_DIR = 'cluster/ui';
const UI_CONFIG_ENV = 'agent-runner';
export const DEFAULT_DATA_DIR = join(PROJECT_ROOT, '.data', 'cluster');
export const DEFAULT_LOG_DIR = join(PROJECT_ROOT, '.artifacts', 'cluster');
const READY_TIMEOUT_MS = 120_000;

/** Options of {@link startCluster}. */
export interface ClusterOptions {
  /** Ports: a full or partial set (the rest from `portLayout`), or `'auto'` for free ones. Default: `portLayout()`. */
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
  /** How the Temporal services reach PostgreSQL (the `temporal` role, which may create databases). */
  database: { host: string; port: number; user: string; password: string };
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

/** Start PostgreSQL and the four Temporal services (and the UI), and wait until the namespace serves. */
export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  const log = opts.log ?? (() => {});
  const started = Date.now();
  const ports = await resolvePorts(opts.ports);
  const bins = await ensureClusterBinaries({ ui: opts.ui, log });
  const cli = ensureTemporalCli(log);
  await assertPortsFree(ports, opts.ui ?? false);
  const cluster = new LocalCluster(opts, ports, bins, cli, log);
  try {
    await cluster.start();
  } catch (e) {
    await cluster.stop();
    throw e;
  }
  log(`cluster started in ${seconds(started)}`);
  return cluster;
}

class LocalCluster implements Cluster {
  readonly address: string;
  readonly namespace: string;
  readonly dataDir: string;
  readonly logDir: string;
  uiUrl: string | undefined;
  readonly processes: Cluster['processes'] = {};
  private pg: LocalPostgres | undefined;
  private stopping = false;

  constructor(
    private readonly opts: ClusterOptions,
    readonly ports: ClusterPorts,
    private readonly bins: ClusterBinaries,
    private readonly cli: string,
    private readonly log: (line: string) => void,
  ) {
    this.address = `127.0.0.1:${ports.frontend}`;
    this.namespace = opts.namespace ?? 'default';
    this.dataDir = resolve(opts.dataDir ?? process.env.AGENT_RUNNER_CLUSTER_DIR ?? DEFAULT_DATA_DIR);
    this.logDir = resolve(opts.logDir ?? DEFAULT_LOG_DIR);
    mkdirSync(this.logDir, { recursive: true });
  }

  get database(): Cluster['database'] {
    if (!this.pg) throw new Error('PostgreSQL has not been prepared yet');
    return { host: '127.0.0.1', port: this.ports.postgres, user: TEMPORAL_DB_USER, password: this.pg.temporalPassword };
  }

  async start(): Promise<void> {
    await this.startPostgres();
    await this.startTemporal();
    if (this.opts.ui) {
      const t = Date.now();
      this.processes.ui = await this.spawnUi();
      this.uiUrl = `http://localhost:${this.ports.ui}`;
      const codec = this.opts.codecEndpoint ? ` (codec server ${this.opts.codecEndpoint})` : '';
      this.log(`Web UI at ${this.uiUrl}${codec} (${seconds(t)})`);
    }
  }

  /** PostgreSQL up, the `temporal` and `temporal_visibility` databases at the current schema. */
  private async startPostgres(): Promise<void> {
    const t = Date.now();
    const logFile = join(this.logDir, 'postgres.log');
    this.pg = await LocalPostgres.prepare({ dataDir: this.dataDir, port: this.ports.postgres, logFile, log: this.log });
    this.processes.postgres = await this.pg.start();
    await this.pg.ensureTemporalDatabases(this.bins.sqlTool, this.bins.postgresSchemaDir, this.log);
    await this.pg.forgetStaleMembers();
    this.log(`PostgreSQL ready on 127.0.0.1:${this.ports.postgres}, databases temporal and temporal_visibility up to date (${seconds(t)})`);
  }

  private async startTemporal(): Promise<void> {
    const t = Date.now();
    const probe = this.probe();
    try {
      // The frontend first: every service writes the cluster metadata from its config at start if
      // it differs from the stored one (e.g. another frontend port), and concurrent writers lose a
      // version check and exit ("SaveClusterMetadata encountered version mismatch").
      this.processes.frontend = await this.spawnService('frontend');
      await probe.frontendAnswers(READY_TIMEOUT_MS);
      for (const s of ['history', 'matching', 'worker'] as const) this.processes[s] = await this.spawnService(s);
      await ensureNamespace(probe, this.cli, this.namespace, this.log);
      await ensureSearchAttributes(probe, this.namespace, this.log);
      await probe.historyAndMatchingServe(READY_TIMEOUT_MS);
      await probe.workerServiceStarted(this.processes.worker!, READY_TIMEOUT_MS);
    } finally {
      await probe.close();
    }
    this.log(`Temporal ${TEMPORAL_SERVER_VERSION} frontend, history, matching and worker up at ${this.address} (${seconds(t)})`);
  }

  private probe(): Probe {
    const running = () => TEMPORAL_SERVICES.map((s) => this.processes[s]).filter((p): p is ManagedProcess => p !== undefined);
    return new Probe(this.address, this.namespace, running);
  }

  /** What cluster/temporal.yaml reads (`AR_*`), minus TEMPORAL_* variables the server would take as flags. */
  private serviceEnv(): NodeJS.ProcessEnv {
    const p = this.ports;
    return {
      ...cleanEnv(),
      AR_PG_PORT: String(p.postgres),
      AR_PG_USER: TEMPORAL_DB_USER,
      AR_PG_PASSWORD: this.database.password,
      AR_FRONTEND_GRPC_PORT: String(p.frontend),
      AR_FRONTEND_HTTP_PORT: String(p.frontendHttp),
      AR_FRONTEND_MEMBERSHIP_PORT: String(p.frontendMembership),
      AR_HISTORY_GRPC_PORT: String(p.history),
      AR_HISTORY_MEMBERSHIP_PORT: String(p.historyMembership),
      AR_MATCHING_GRPC_PORT: String(p.matching),
      AR_MATCHING_MEMBERSHIP_PORT: String(p.matchingMembership),
      AR_WORKER_GRPC_PORT: String(p.worker),
      AR_WORKER_MEMBERSHIP_PORT: String(p.workerMembership),
      AR_DYNAMIC_CONFIG_FILE: DYNAMIC_CONFIG_FILE,
      AR_LOG_LEVEL: this.opts.logLevel ?? 'info',
    };
  }

  private spawnService(service: TemporalService): Promise<ManagedProcess> {
    return spawnLogged({
      name: service,
      command: this.bins.server,
      args: ['--config-file', CONFIG_FILE, '--allow-no-auth', 'start', `--service=${service}`],
      logFile: join(this.logDir, `${service}.log`),
      env: this.serviceEnv(),
      cwd: PROJECT_ROOT,
    });
  }

  private async spawnUi(): Promise<ManagedProcess> {
    const proc = await spawnLogged({
      name: 'ui',
      command: this.bins.uiServer!,
      args: ['--root', PROJECT_ROOT, '--config', UI_CONFIG_DIR, '--env', UI_CONFIG_ENV, 'start'],
      logFile: join(this.logDir, 'ui.log'),
      env: {
        ...cleanEnv(),
        TEMPORAL_ADDRESS: this.address,
        TEMPORAL_UI_PORT: String(this.ports.ui),
        TEMPORAL_NAMESPACE: this.namespace,
        TEMPORAL_CODEC_ENDPOINT: this.opts.codecEndpoint ?? '',
      },
      cwd: PROJECT_ROOT,
    });
    try {
      await waitForHttp(`http://127.0.0.1:${this.ports.ui}/`, proc, 60_000);
    } catch (e) {
      await proc.stop();
      throw e;
    }
    return proc;
  }

  private isRunning(name: ClusterProcessName): boolean {
    const p = this.processes[name];
    return p !== undefined && !p.exitStatus;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.isRunning('ui')) await this.processes.ui!.stop();
    if (this.isRunning('frontend')) await this.processes.frontend!.stop();
    const backends = (['worker', 'matching', 'history'] as const).filter((n) => this.isRunning(n));
    await Promise.all(backends.map((n) => this.processes[n]!.stop()));
    // SIGINT is PostgreSQL's "fast" shutdown: roll back open transactions, checkpoint, exit.
    if (this.isRunning('postgres')) await this.processes.postgres!.stop('SIGINT', 30_000);
  }

  async killService(name: ClusterProcessName, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const p = this.processes[name];
    if (!p) throw new Error(`no ${name} process in this cluster`);
    if (p.exitStatus) return;
    p.child.kill(signal);
    await p.exited;
  }

  async restartService(name: ClusterProcessName): Promise<void> {
    if (this.stopping) throw new Error('the cluster is stopping');
    const old = this.processes[name];
    if (!old) throw new Error(`no ${name} process in this cluster`);
    if (!old.exitStatus) await (name === 'postgres' ? old.stop('SIGINT', 30_000) : old.stop());
    if (name === 'postgres') this.processes.postgres = await this.pg!.start();
    else if (name === 'ui') this.processes.ui = await this.spawnUi();
    else {
      this.processes[name] = await this.spawnService(name);
      await this.waitServing(name);
    }
  }

  private async waitServing(name: TemporalService): Promise<void> {
    const probe = this.probe();
    try {
      await probe.frontendAnswers(READY_TIMEOUT_MS);
      await probe.historyAndMatchingServe(READY_TIMEOUT_MS);
      if (name === 'worker') await probe.workerServiceStarted(this.processes.worker!, READY_TIMEOUT_MS);
    } finally {
      await probe.close();
    }
  }
}
