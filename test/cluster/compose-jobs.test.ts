/**
 * docker-compose.yml's one-shot jobs, run here without Docker: the same scripts
 * (compose/temporal-schema.sh, compose/temporal-namespace.sh) with the same tools the
 * temporalio/admin-tools 1.32.2 image carries — temporal-sql-tool is `go.temporal.io/server/cmd/tools/sql`
 * at the same version, the schemas are the server module's `schema/postgresql/v12`, and `temporal`
 * is the CLI — against a real cluster on PostgreSQL. Each runs twice: compose runs them on every `up`.
 */
import { Connection } from '@temporalio/client';
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ensureClusterBinaries, startCluster, type Cluster, type ClusterBinaries } from '../../scripts/cluster.js';
import { ensurePostgresBinaries } from '../../scripts/cluster/postgres.js';
import { ensureTemporalCli } from '../../scripts/temporal-cli.js';
import { SEARCH_ATTRIBUTES } from '../../contract/search-attributes.js';
import { SEARCH_ATTRIBUTE_TYPES, searchAttributeSpecs } from '../../worker/search-attributes.js';

const COMPOSE = fileURLToPath(new URL('../../compose/', import.meta.url));

let cluster: Cluster;
let bins: ClusterBinaries;
/** A PATH on which the admin-tools commands are found under their image names. */
let toolPath: string;

beforeAll(async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'agent-runner-compose-jobs-'));
  chmodSync(dataDir, 0o755); // PostgreSQL runs as the postgres user when we are root
  cluster = await startCluster({ ports: 'auto', dataDir, logDir: mkdtempSync(join(tmpdir(), 'agent-runner-compose-jobs-logs-')) });
  bins = await ensureClusterBinaries();
  const shims = mkdtempSync(join(tmpdir(), 'agent-runner-admin-tools-'));
  symlinkSync(bins.sqlTool, join(shims, 'temporal-sql-tool'));
  toolPath = [shims, dirname(ensureTemporalCli()), process.env.PATH].join(':');
}, 300_000);

afterAll(async () => cluster?.stop(), 60_000);

/** Run a compose job's script with `env` (plus PATH), as the admin-tools container would. */
function runJob(script: string, env: Record<string, string>): Promise<{ code: number; out: string }> {
  return new Promise((resolve) =>
    execFile(
      'sh',
      [join(COMPOSE, script)],
      { env: { PATH: toolPath, HOME: process.env.HOME, TEMPORAL_CONFIG_FILE: '/dev/null', ...env }, timeout: 240_000 },
      (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, out: stdout + stderr }),
    ),
  );
}

async function psql(database: string, sql: string): Promise<string> {
  const { psql: bin } = await ensurePostgresBinaries();
  const db = cluster.database;
  return new Promise((resolve, reject) =>
    execFile(
      bin,
      ['-h', db.host, '-p', String(db.port), '-U', db.user, '-d', database, '-X', '-At', '-c', sql],
      { env: { ...process.env, PGPASSWORD: db.password } },
      (err, stdout, stderr) => (err ? reject(new Error(stderr || err.message)) : resolve(stdout.trim())),
    ),
  );
}

/** The newest version folder (`v1.19` → `1.19`) of a schema in the module's versioned folders. */
function newest(schema: 'temporal' | 'visibility'): string {
  const versions = readdirSync(join(bins.postgresSchemaDir, schema, 'versioned')).map((v) => v.replace(/^v/, ''));
  const key = (v: string) => v.split('.').map(Number);
  return versions.sort((a, b) => key(a)[0]! - key(b)[0]! || key(a)[1]! - key(b)[1]!).at(-1)!;
}

it('temporal-schema: creates both databases and brings them to the newest schema, and a second run changes nothing', async () => {
  const env = {
    POSTGRES_SEEDS: cluster.database.host,
    DB_PORT: String(cluster.database.port),
    POSTGRES_USER: cluster.database.user,
    SQL_PASSWORD: cluster.database.password,
    DBNAME: 'compose_temporal',
    VISIBILITY_DBNAME: 'compose_temporal_visibility',
    TEMPORAL_SCHEMA_DIR: bins.postgresSchemaDir,
  };
  const first = await runJob('temporal-schema.sh', env);
  expect(first.out).toContain('schemas of compose_temporal and compose_temporal_visibility are current');
  expect(first.code).toBe(0);
  expect(first.out).not.toContain(cluster.database.password);
  const versions = async () => [
    await psql('compose_temporal', 'SELECT curr_version FROM schema_version'),
    await psql('compose_temporal_visibility', 'SELECT curr_version FROM schema_version'),
  ];
  expect(await versions()).toEqual([newest('temporal'), newest('visibility')]);
  // The same versions as the databases the cluster itself runs on.
  expect(await psql('temporal', 'SELECT curr_version FROM schema_version')).toBe(newest('temporal'));
  const second = await runJob('temporal-schema.sh', env);
  expect(second.code, second.out).toBe(0);
  expect(await versions()).toEqual([newest('temporal'), newest('visibility')]);
  // Without the password it stops at once, naming the variable.
  const { SQL_PASSWORD: _, ...noPassword } = env;
  const refused = await runJob('temporal-schema.sh', noPassword);
  expect(refused.code).not.toBe(0);
  expect(refused.out).toContain('set SQL_PASSWORD');
});

it("temporal-namespace: the namespace and the contract's search attributes on PostgreSQL visibility, idempotent, a type clash refused", async () => {
  const env = {
    TEMPORAL_ADDRESS: cluster.address,
    TEMPORAL_NAMESPACE: 'compose-jobs',
    AGENT_RUNNER_SEARCH_ATTRIBUTES: searchAttributeSpecs().join(' '),
  };
  const started = Date.now();
  const first = await runJob('temporal-namespace.sh', env);
  console.log(`temporal-namespace.sh: ${SEARCH_ATTRIBUTES.length} search attributes in ${Date.now() - started} ms`);
  expect(first.code, first.out).toBe(0);
  expect(first.out).toContain('namespace compose-jobs is ready for agent-runner');
  const connection = await Connection.connect({ address: cluster.address });
  try {
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace: 'compose-jobs' });
    expect(customAttributes).toEqual(Object.fromEntries(SEARCH_ATTRIBUTES.map((k) => [k.name, SEARCH_ATTRIBUTE_TYPES[k.type].proto])));
  } finally {
    await connection.close();
  }
  const second = await runJob('temporal-namespace.sh', env);
  expect(second.code, second.out).toBe(0);
  expect(second.out).toContain('namespace compose-jobs exists');
  const clash = await runJob('temporal-namespace.sh', { ...env, AGENT_RUNNER_SEARCH_ATTRIBUTES: 'AgentTurns=Keyword' });
  expect(clash.code).not.toBe(0);
  expect(clash.out).toContain('search attribute AgentTurns exists on namespace compose-jobs with another type than Keyword');
});
