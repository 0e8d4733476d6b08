/**
 * A real Temporal cluster on PostgreSQL, the way a production install runs it: the server 1.32.2
 * built from source (scripts/cluster/binaries.ts), PostgreSQL with a data directory of the
 * project's own (scripts/cluster/postgres.ts), and the four services frontend, history, matching
 * and worker, each its own process started from cluster/temporal.yaml (scripts/cluster/local-cluster.ts),
 * with the namespace and the contract's search attributes registered (scripts/cluster/namespace.ts).
 * Optionally the Web UI server, pointed at the project's codec server. Everything listens on 127.0.0.1.
 *
 * `npm run cluster` (this file) starts it in the foreground (Ctrl-C stops what it started); tests
 * use {@link startCluster}, which can also SIGKILL and restart one service on the same database.
 * Logs: `.artifacts/cluster/<process>.log`. Data: `.data/cluster/` (reused by the next start).
 */
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ensureClusterBinaries } from './cluster/binaries.js';
import { startCluster, type Cluster } from './cluster/local-cluster.js';
import { portLayout, type ClusterPorts } from './cluster/ports.js';
import { describeExit, stopLive } from './cluster/processes.js';

export { ensureClusterBinaries, GO_TOOLCHAIN, TEMPORAL_SERVER_VERSION, TEMPORAL_UI_SERVER_VERSION } from './cluster/binaries.js';
export type { ClusterBinaries } from './cluster/binaries.js';
export {
  startCluster,
  TEMPORAL_SERVICES,
  CONFIG_FILE,
  DYNAMIC_CONFIG_FILE,
  DEFAULT_DATA_DIR,
  DEFAULT_LOG_DIR,
} from './cluster/local-cluster.js';
export type { Cluster, ClusterOptions, ClusterProcessName, TemporalService } from './cluster/local-cluster.js';
export { clusterSearchAttributes } from './cluster/namespace.js';
export { portLayout } from './cluster/ports.js';
export type { ClusterPorts } from './cluster/ports.js';
export type { ManagedProcess } from './cluster/processes.js';

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

/** What the command line (and its environment variables) asked for. */
interface CliOptions {
  help: boolean;
  buildOnly: boolean;
  ui: boolean;
  ports: ClusterPorts;
  codecPort: number;
  dataDir: string | undefined;
}

function intOption(v: string | undefined, env: string | undefined, def: number, what: string): number {
  const raw = v ?? env;
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0 || n > 65535) throw new Error(`${what} must be a port number, not ${raw}`);
  return n;
}

function parseCli(argv: string[], env: NodeJS.ProcessEnv): CliOptions {
  const { values } = parseArgs({
    args: argv,
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
  const ports = portLayout(
    intOption(values.port, env.AGENT_RUNNER_CLUSTER_PORT, 7233, '--port'),
    intOption(values['pg-port'], env.AGENT_RUNNER_CLUSTER_PG_PORT, 5433, '--pg-port'),
    intOption(values['ui-port'], env.AGENT_RUNNER_CLUSTER_UI_PORT, 8233, '--ui-port'),
  );
  const dataDir = values['data-dir'];
  return {
    help: values.help ?? false,
    buildOnly: values['build-only'] ?? false,
    ui: !values['no-ui'],
    ports,
    codecPort: intOption(values['codec-port'], env.AGENT_RUNNER_CODEC_PORT, 8888, '--codec-port'),
    dataDir: dataDir && !isAbsolute(dataDir) ? resolve(dataDir) : dataDir,
  };
}

function seconds(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(1)} s`;
}

async function buildOnly(ui: boolean): Promise<void> {
  const t = Date.now();
  const log = (l: string) => console.log(l);
  const bins = await ensureClusterBinaries({ ui, log });
  const { ensurePostgresBinaries } = await import('./cluster/postgres.js');
  const pg = await ensurePostgresBinaries(log);
  console.log(`ready (${seconds(t)}): ${bins.server}, ${bins.sqlTool}${bins.uiServer ? `, ${bins.uiServer}` : ''}, ${pg.postgres}`);
}

/** The project's codec server for the UI, on `port`, allowing the UI's origins only. */
async function startCodec(port: number, uiPort: number): Promise<{ url: string; close(): Promise<void> }> {
  const { startCodecServer } = await import('../connection/codec-server.js');
  const { codecSettingsFromEnv, payloadCodecs } = await import('../connection/codecs.js');
  return startCodecServer({
    codecs: payloadCodecs(codecSettingsFromEnv()),
    port,
    allowedOrigins: [`http://localhost:${uiPort}`, `http://127.0.0.1:${uiPort}`],
  }).catch((e: Error) => {
    throw new Error(`cannot start the codec server on port ${port} (${e.message}): free it, or use --codec-port / AGENT_RUNNER_CODEC_PORT`);
  });
}

function printHowToUse(cluster: Cluster, codecUrl: string | undefined): void {
  console.log('');
  console.log(`Temporal cluster on PostgreSQL: ${cluster.address}, namespace ${cluster.namespace}`);
  if (cluster.uiUrl) console.log(`Web UI: ${cluster.uiUrl} (payloads decoded by the codec server at ${codecUrl})`);
  console.log(`PostgreSQL: 127.0.0.1:${cluster.ports.postgres}, data in ${cluster.dataDir}; logs in ${cluster.logDir}`);
  console.log(`Use it: TEMPORAL_ADDRESS=${cluster.address} npm run worker   (and TEMPORAL_ADDRESS=${cluster.address} npx agent-runner …)`);
  console.log('Ctrl-C to stop.');
}

/** Start the cluster (and the codec server for its UI) and keep it up until a signal or a process dies. */
async function runInForeground(o: CliOptions): Promise<void> {
  const codec = o.ui ? await startCodec(o.codecPort, o.ports.ui) : undefined;
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
    cluster = await startCluster({ ports: o.ports, dataDir: o.dataDir, ui: o.ui, codecEndpoint: codec?.url, log: (l) => console.log(l) });
  } catch (e) {
    await codec?.close();
    throw e;
  }
  if (shuttingDown) return cluster.stop();
  printHowToUse(cluster, codec?.url);
  for (const p of Object.values(cluster.processes)) {
    void p.exited.then(() => {
      if (shuttingDown) return;
      console.error(`error: ${p.name} exited (${describeExit(p)}); last lines of ${p.logFile}:\n  ${p.tail(10).join('\n  ')}`);
      void shutdown(1);
    });
  }
}

async function main(): Promise<void> {
  const o = parseCli(process.argv.slice(2), process.env);
  if (o.help) console.log(USAGE);
  else if (o.buildOnly) await buildOnly(o.ui);
  else await runInForeground(o);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  main().catch((e: unknown) => {
    console.error(`error: ${(e as Error).message}`);
    process.exit(1);
  });
}
