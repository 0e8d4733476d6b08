/**
 * The pinned Temporal server, its SQL schema tool and the Web UI server, built from source with
 * `go install` into the project's `.tools/` (gitignored) the first time they are needed:
 *
 *   GOTOOLCHAIN=go1.27.3 GOBIN=.tools/temporal-server/1.32.2 \
 *     go install go.temporal.io/server/cmd/server@v1.32.2 go.temporal.io/server/cmd/tools/sql@v1.32.2
 *   GOTOOLCHAIN=go1.27.3 GOBIN=.tools/temporal-ui-server/2.54.1 \
 *     go install github.com/temporalio/ui-server/v2/cmd/server@v2.54.1
 *
 * Server 1.32 needs Go >= 1.26.10; GOTOOLCHAIN makes any Go >= 1.21 fetch go1.27.3 from the module
 * proxy and build with it. The Go module and build caches stay where `go env` says (shared with
 * other Go builds on the machine), so a second clone on the same machine builds in seconds.
 * The PostgreSQL schemas that ship in the server module are copied next to the binaries, so a
 * later `go clean -modcache` does not break the cluster.
 */
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lastLines, runCommand } from './processes.js';

export const TEMPORAL_SERVER_VERSION = '1.32.2';
/** The UI server the Temporal CLI 1.9.1 embeds (UI 2.54), served by the Go module proxy. */
export const TEMPORAL_UI_SERVER_VERSION = '2.54.1';
/** Server 1.32 needs Go >= 1.26.10; the go command fetches this toolchain from the module proxy. */
export const GO_TOOLCHAIN = 'go1.27.3';

export const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SERVER_DIR = join(PROJECT_ROOT, '.tools', 'temporal-server', TEMPORAL_SERVER_VERSION);
const UI_DIR = join(PROJECT_ROOT, '.tools', 'temporal-ui-server', TEMPORAL_UI_SERVER_VERSION);
const BUILD_LOG = join(PROJECT_ROOT, '.artifacts', 'cluster', 'build.log');

/** Paths of the built binaries. */
export interface ClusterBinaries {
  /** `server` of go.temporal.io/server/cmd/server. */
  server: string;
  /** `sql` of go.temporal.io/server/cmd/tools/sql (temporal-sql-tool). */
  sqlTool: string;
  /** `schema/postgresql/v12` of the server module: `temporal/versioned`, `visibility/versioned`. */
  postgresSchemaDir: string;
  /** The Web UI server, when asked for. */
  uiServer?: string;
}

const HOW_TO_GET_GO = `install Go 1.21 or newer (https://go.dev/dl or your package manager) and put \`go\` on PATH; it fetches ${GO_TOOLCHAIN} by itself`;

/** Build whatever is missing (printing what and how long) and return the paths. */
export async function ensureClusterBinaries(opts: { ui?: boolean; log?: (line: string) => void } = {}): Promise<ClusterBinaries> {
  const log = opts.log ?? (() => {});
  const result: ClusterBinaries = {
    server: join(SERVER_DIR, 'server'),
    sqlTool: join(SERVER_DIR, 'sql'),
    postgresSchemaDir: join(SERVER_DIR, 'schema', 'postgresql', 'v12'),
  };
  const schemaReady =
    existsSync(join(result.postgresSchemaDir, 'temporal', 'versioned')) &&
    existsSync(join(result.postgresSchemaDir, 'visibility', 'versioned'));
  if (!existsSync(result.server) || !existsSync(result.sqlTool) || !schemaReady) {
    await checkGo();
    const started = Date.now();
    log(
      `building Temporal server ${TEMPORAL_SERVER_VERSION} and its SQL tool with go install (${GO_TOOLCHAIN}) into .tools/temporal-server/ — once per machine and version; about 4 min on 2 cores with empty Go caches (log: .artifacts/cluster/build.log) …`,
    );
    await goInstall(SERVER_DIR, [
      `go.temporal.io/server/cmd/server@v${TEMPORAL_SERVER_VERSION}`,
      `go.temporal.io/server/cmd/tools/sql@v${TEMPORAL_SERVER_VERSION}`,
    ]);
    await copySchemas(result.postgresSchemaDir);
    log(`built Temporal server ${TEMPORAL_SERVER_VERSION} in ${seconds(started)}`);
  }
  if (opts.ui) {
    result.uiServer = join(UI_DIR, 'server');
    if (!existsSync(result.uiServer)) {
      await checkGo();
      const started = Date.now();
      log(`building the Temporal UI server ${TEMPORAL_UI_SERVER_VERSION} with go install into .tools/temporal-ui-server/ (once) …`);
      await goInstall(UI_DIR, [`github.com/temporalio/ui-server/v2/cmd/server@v${TEMPORAL_UI_SERVER_VERSION}`]);
      log(`built the UI server in ${seconds(started)}`);
    }
  }
  return result;
}

function seconds(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(1)} s`;
}

function goEnv(gobin?: string): NodeJS.ProcessEnv {
  return { ...process.env, GOTOOLCHAIN: GO_TOOLCHAIN, ...(gobin ? { GOBIN: gobin } : {}) };
}

async function checkGo(): Promise<void> {
  const r = await runCommand('go', ['version'], { env: { ...process.env, GOTOOLCHAIN: 'local' }, timeoutMs: 30_000 }).catch(
    () => undefined,
  );
  if (!r || r.code !== 0) throw new Error(`Go is not installed, and the Temporal server is built from source: ${HOW_TO_GET_GO}`);
  const m = /go(\d+)\.(\d+)/.exec(r.stdout);
  if (m && (Number(m[1]) < 1 || (Number(m[1]) === 1 && Number(m[2]) < 21))) {
    throw new Error(`${r.stdout.trim()} is too old to fetch ${GO_TOOLCHAIN} by itself: ${HOW_TO_GET_GO}`);
  }
}

async function goInstall(gobin: string, packages: string[]): Promise<void> {
  mkdirSync(gobin, { recursive: true });
  mkdirSync(join(PROJECT_ROOT, '.artifacts', 'cluster'), { recursive: true });
  appendFileSync(
    BUILD_LOG,
    `\n===== ${new Date().toISOString()} GOTOOLCHAIN=${GO_TOOLCHAIN} GOBIN=${gobin} go install ${packages.join(' ')}\n`,
  );
  const r = await runCommand('go', ['install', ...packages], {
    env: goEnv(gobin),
    cwd: PROJECT_ROOT,
    onOutput: (chunk) => appendFileSync(BUILD_LOG, chunk),
  });
  if (r.code !== 0) throw new Error(`go install ${packages.join(' ')} failed (see .artifacts/cluster/build.log): ${lastLines(r.stderr)}`);
}

/** Copy `schema/postgresql/v12` out of the module cache (read-only files there) into .tools/. */
async function copySchemas(target: string): Promise<void> {
  const r = await runCommand('go', ['mod', 'download', '-json', `go.temporal.io/server@v${TEMPORAL_SERVER_VERSION}`], {
    env: goEnv(),
    cwd: PROJECT_ROOT,
  });
  let dir: string | undefined;
  try {
    dir = (JSON.parse(r.stdout) as { Dir?: string }).Dir;
  } catch {
    // reported below
  }
  const source = dir && join(dir, 'schema', 'postgresql', 'v12');
  if (r.code !== 0 || !source || !existsSync(source)) {
    throw new Error(`cannot find the server module's PostgreSQL schemas (go mod download: ${lastLines(r.stderr || r.stdout)})`);
  }
  rmSync(target, { recursive: true, force: true });
  copyTree(source, target);
}

function copyTree(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const name of readdirSync(from)) {
    const src = join(from, name);
    const dst = join(to, name);
    if (statSync(src).isDirectory()) copyTree(src, dst);
    else {
      copyFileSync(src, dst);
      chmodSync(dst, 0o644);
    }
  }
}
