/**
 * The cluster's PostgreSQL: a data directory of the project's own (default `.data/cluster/postgres`,
 * gitignored), one `postgres` process listening on 127.0.0.1 only (no Unix socket), passwords
 * required for every connection (scram-sha-256), and a `temporal` role that owns the `temporal`
 * and `temporal_visibility` databases. The databases are created and their schemas applied with
 * the server's own SQL tool from the schemas that ship in the server module; a second start
 * reuses the data and only applies schema versions that are new.
 *
 * PostgreSQL refuses to run as root, so as root it runs as the `postgres` system user (created if
 * missing). Its binaries are taken from AGENT_RUNNER_PG_BIN, PATH or /usr/lib/postgresql/<v>/bin;
 * as root on a Debian-like system without them, Debian's `postgresql` package is installed.
 */
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { describeExit, lastLines, runCommand, spawnLogged, type ManagedProcess } from './processes.js';

export interface PostgresBinaries {
  initdb: string;
  postgres: string;
  psql: string;
}

/** Role the Temporal services connect as. */
export const TEMPORAL_DB_USER = 'temporal';
export const TEMPORAL_DATABASES = ['temporal', 'temporal_visibility'] as const;

const HOW_TO_INSTALL =
  'install PostgreSQL 12 or newer (Debian/Ubuntu: apt-get install postgresql; macOS: brew install postgresql) ' +
  'or set AGENT_RUNNER_PG_BIN to the folder that holds initdb and postgres';

function findIn(dir: string, names: string[]): boolean {
  return names.every((n) => existsSync(join(dir, n)));
}

function findPostgresBinaries(): PostgresBinaries | undefined {
  const dirs: string[] = [];
  if (process.env.AGENT_RUNNER_PG_BIN) dirs.push(process.env.AGENT_RUNNER_PG_BIN);
  dirs.push(...(process.env.PATH ?? '').split(delimiter).filter(Boolean));
  try {
    // Debian keeps the server binaries off PATH, one folder per major version: newest first.
    const versions = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a));
    dirs.push(...versions.map((v) => `/usr/lib/postgresql/${v}/bin`));
  } catch {
    // not Debian-like
  }
  const serverDir = dirs.find((d) => findIn(d, ['initdb', 'postgres']));
  if (!serverDir) return undefined;
  const psqlDir = [serverDir, ...dirs].find((d) => findIn(d, ['psql']));
  if (!psqlDir) return undefined;
  return { initdb: join(serverDir, 'initdb'), postgres: join(serverDir, 'postgres'), psql: join(psqlDir, 'psql') };
}

/** Find initdb/postgres/psql; as root with apt-get, install Debian's `postgresql` package if missing. */
export async function ensurePostgresBinaries(log: (line: string) => void = () => {}): Promise<PostgresBinaries> {
  const found = findPostgresBinaries();
  if (found) return found;
  if (process.env.AGENT_RUNNER_PG_BIN)
    throw new Error(`AGENT_RUNNER_PG_BIN=${process.env.AGENT_RUNNER_PG_BIN} has no initdb, postgres and psql: ${HOW_TO_INSTALL}`);
  const aptGet = existsSync('/usr/bin/apt-get');
  if (process.getuid?.() !== 0 || !aptGet) throw new Error(`PostgreSQL is not installed: ${HOW_TO_INSTALL}`);
  const started = Date.now();
  log("PostgreSQL not found: installing Debian's postgresql package (apt-get) …");
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = await runCommand('apt-get', ['update', '-qq'], { env });
  const install = update.code === 0 ? await runCommand('apt-get', ['install', '-y', '-qq', 'postgresql'], { env }) : update;
  const after = findPostgresBinaries();
  if (install.code !== 0 || !after)
    throw new Error(`apt-get install postgresql failed (${lastLines(install.stderr || install.stdout)}): ${HOW_TO_INSTALL}`);
  log(`installed PostgreSQL in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return after;
}

interface Secrets {
  superuserPassword: string;
  temporalPassword: string;
}

/** Who runs postgres: the current user, or (as root) the `postgres` system user. */
interface RunAs {
  uid?: number;
  gid?: number;
  name: string;
}

async function resolveRunAs(log: (line: string) => void): Promise<RunAs> {
  if (process.getuid?.() !== 0) return { name: process.env.USER ?? 'current user' };
  const id = async () => {
    const u = await runCommand('id', ['-u', 'postgres']);
    const g = await runCommand('id', ['-g', 'postgres']);
    return u.code === 0 && g.code === 0 ? { uid: Number(u.stdout.trim()), gid: Number(g.stdout.trim()) } : undefined;
  };
  let ids = await id();
  if (!ids) {
    log('PostgreSQL refuses to run as root and there is no `postgres` user: creating it (useradd --system) …');
    const r = await runCommand('useradd', [
      '--system',
      '--user-group',
      '--no-create-home',
      '--home-dir',
      '/nonexistent',
      '--shell',
      '/usr/sbin/nologin',
      'postgres',
    ]);
    ids = await id();
    if (!ids)
      throw new Error(`cannot create the postgres system user (${lastLines(r.stderr)}): create it, or run as a user other than root`);
  }
  return { ...ids, name: 'postgres' };
}

/** The cluster's PostgreSQL server: one data directory, one port. */
export class LocalPostgres {
  process: ManagedProcess | undefined;

  private constructor(
    readonly bins: PostgresBinaries,
    readonly dataDir: string,
    readonly port: number,
    readonly logFile: string,
    private readonly runAs: RunAs,
    private readonly secrets: Secrets,
  ) {}

  get pgData(): string {
    return join(this.dataDir, 'postgres');
  }

  /** Password of the `temporal` role (kept in `<dataDir>/secrets.json`, mode 600). */
  get temporalPassword(): string {
    return this.secrets.temporalPassword;
  }

  /** Find or install the binaries, check the data directory, and initialise it if new. */
  static async prepare(opts: { dataDir: string; port: number; logFile: string; log?: (line: string) => void }): Promise<LocalPostgres> {
    const log = opts.log ?? (() => {});
    const bins = await ensurePostgresBinaries(log);
    const runAs = await resolveRunAs(log);
    mkdirSync(opts.dataDir, { recursive: true, mode: 0o755 });
    const secrets = loadSecrets(opts.dataDir);
    const pg = new LocalPostgres(bins, opts.dataDir, opts.port, opts.logFile, runAs, secrets);
    await pg.checkReachable();
    if (!existsSync(join(pg.pgData, 'PG_VERSION'))) await pg.initdb(log);
    return pg;
  }

  /** As root, the postgres user must be able to enter every folder above the data directory. */
  private async checkReachable(): Promise<void> {
    if (this.runAs.uid === undefined) return;
    const r = await runCommand('test', ['-x', this.dataDir], { uid: this.runAs.uid, gid: this.runAs.gid }).catch(() => undefined);
    if (!r || r.code !== 0) {
      throw new Error(
        `the postgres user cannot reach ${this.dataDir} (PostgreSQL refuses to run as root, so it runs as postgres): ` +
          'set AGENT_RUNNER_CLUSTER_DIR (or startCluster({ dataDir })) to a folder it can enter, e.g. under /var/tmp',
      );
    }
  }

  private async initdb(log: (line: string) => void): Promise<void> {
    const started = Date.now();
    log(`initialising a PostgreSQL data directory in ${this.pgData} (as ${this.runAs.name}) …`);
    rmSync(this.pgData, { recursive: true, force: true });
    mkdirSync(this.pgData, { mode: 0o700 });
    const pwfile = join(this.dataDir, '.initdb-password');
    writeFileSync(pwfile, `${this.secrets.superuserPassword}\n`, { mode: 0o600 });
    if (this.runAs.uid !== undefined) {
      chownSync(this.pgData, this.runAs.uid, this.runAs.gid!);
      chownSync(pwfile, this.runAs.uid, this.runAs.gid!);
    }
    try {
      const r = await runCommand(
        this.bins.initdb,
        [
          '-D',
          this.pgData,
          '-U',
          'postgres',
          `--pwfile=${pwfile}`,
          '--auth=scram-sha-256',
          '--encoding=UTF8',
          '--locale=C',
          '--no-instructions',
        ],
        { uid: this.runAs.uid, gid: this.runAs.gid, cwd: '/' },
      );
      if (r.code !== 0) throw new Error(`initdb failed: ${lastLines(r.stderr || r.stdout)}`);
    } finally {
      rmSync(pwfile, { force: true });
    }
    log(`initialised PostgreSQL in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }

  /** Start `postgres` and wait until it accepts connections. */
  async start(): Promise<ManagedProcess> {
    const proc = await spawnLogged({
      name: 'postgres',
      command: this.bins.postgres,
      args: [
        '-D',
        this.pgData,
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        `port=${this.port}`,
        // TCP only: no socket file whose path length or folder permissions could get in the way.
        '-c',
        'unix_socket_directories=',
        // 4 Temporal processes x up to 30 connections each, plus psql and the SQL tool.
        '-c',
        'max_connections=200',
      ],
      logFile: this.logFile,
      uid: this.runAs.uid,
      gid: this.runAs.gid,
      cwd: '/',
    });
    this.process = proc;
    const deadline = Date.now() + 60_000;
    for (;;) {
      const r = await this.psql('SELECT 1', 'postgres', 5_000).catch((e: Error) => ({ error: e.message }));
      if (typeof r === 'string') return proc;
      if (proc.exitStatus || Date.now() > deadline) {
        await proc.stop('SIGKILL');
        const hint = proc.tail(8).join('\n  ');
        throw new Error(
          `PostgreSQL did not start on 127.0.0.1:${this.port} (${proc.exitStatus ? describeExit(proc) : 'no answer in 60 s'}; log ${this.logFile}):\n  ${hint}` +
            (/lock file|already in use|Address already in use/i.test(hint)
              ? '\n  (another PostgreSQL holds this data directory or port: stop it, or use another port/data dir)'
              : ''),
        );
      }
      await new Promise((res) => setTimeout(res, 250));
    }
  }

  /** Run SQL as the superuser and return psql's unaligned output; rejects on errors. */
  async psql(sql: string, database = 'postgres', timeoutMs = 30_000): Promise<string> {
    const r = await runCommand(
      this.bins.psql,
      ['-h', '127.0.0.1', '-p', String(this.port), '-U', 'postgres', '-d', database, '-X', '-v', 'ON_ERROR_STOP=1', '-At', '-c', sql],
      {
        env: { ...process.env, PGPASSWORD: this.secrets.superuserPassword, PGCONNECT_TIMEOUT: '3' },
        timeoutMs,
      },
    );
    if (r.code !== 0) throw new Error(lastLines(r.stderr || r.stdout));
    return r.stdout.trim();
  }

  /**
   * The `temporal` role (password kept in sync), then per database: create it with the SQL tool
   * when missing, set up the version table when missing, and apply every schema version not
   * applied yet (`update-schema` is a no-op when current).
   */
  async ensureTemporalDatabases(sqlTool: string, schemaDir: string, log: (line: string) => void = () => {}): Promise<void> {
    const pw = this.secrets.temporalPassword;
    await this.psql(
      `DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${TEMPORAL_DB_USER}') THEN CREATE ROLE ${TEMPORAL_DB_USER}; END IF; END $$;` +
        ` ALTER ROLE ${TEMPORAL_DB_USER} WITH LOGIN CREATEDB PASSWORD '${pw}';`,
    );
    const existing = new Set(
      (await this.psql(`SELECT datname FROM pg_database WHERE datname IN ('temporal', 'temporal_visibility')`)).split('\n').filter(Boolean),
    );
    const env = { ...process.env, SQL_PASSWORD: pw };
    const base = ['--ep', '127.0.0.1', '-p', String(this.port), '-u', TEMPORAL_DB_USER, '--pl', 'postgres12'];
    const tool = async (db: string, args: string[]) => {
      const r = await runCommand(sqlTool, [...base, '--db', db, ...args], { env, timeoutMs: 300_000 });
      if (r.code !== 0) throw new Error(`temporal-sql-tool --db ${db} ${args.join(' ')} failed: ${lastLines(r.stderr || r.stdout)}`);
      return r.stdout + r.stderr;
    };
    for (const db of TEMPORAL_DATABASES) {
      const dir = join(schemaDir, db === 'temporal' ? 'temporal' : 'visibility', 'versioned');
      if (!existing.has(db)) {
        log(`creating database ${db} …`);
        await tool(db, ['create', '--defaultdb', 'postgres']);
      }
      const hasVersionTable = (await this.psql(`SELECT to_regclass('public.schema_version') IS NOT NULL`, db)) === 't';
      if (!hasVersionTable) await tool(db, ['setup-schema', '-v', '0.0']);
      const out = await tool(db, ['update-schema', '-d', dir]);
      const applied = [...out.matchAll(/---- Executing updates for version (\S+) ----/g)].map((m) => m[1]);
      if (applied.length) log(`${db}: applied schema versions ${applied[0]} … ${applied[applied.length - 1]}`);
    }
  }

  /**
   * Forget the members a previous run left in `cluster_membership`. Call only while no Temporal
   * service of this database runs. A service that starts with stale rows on other ports in its
   * seed list keeps trying to join them: with ports that change between runs (`ports: 'auto'`)
   * the history service was seen waiting 40 s ("join duration … exceeded max 30s").
   */
  async forgetStaleMembers(): Promise<void> {
    await this.psql('DELETE FROM cluster_membership', 'temporal');
  }
}

function loadSecrets(dataDir: string): Secrets {
  const file = join(dataDir, 'secrets.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as Secrets;
  if (existsSync(join(dataDir, 'postgres', 'PG_VERSION'))) {
    throw new Error(`${file} is missing but ${dataDir}/postgres holds data: restore the file, or delete ${dataDir} to start from scratch`);
  }
  const secrets: Secrets = { superuserPassword: randomBytes(18).toString('hex'), temporalPassword: randomBytes(18).toString('hex') };
  writeFileSync(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  return secrets;
}
