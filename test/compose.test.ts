/**
 * docker-compose.yml, validated by the real Compose CLI (no Docker engine needed to parse,
 * interpolate and validate). .ci/run installs the CLI when the machine has none.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { TEMPORAL_SERVER_VERSION, TEMPORAL_UI_SERVER_VERSION } from '../scripts/cluster/binaries.js';
import { composeCommand } from '../scripts/compose-cli.js';
import { searchAttributeSpecs } from '../worker/search-attributes.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const compose = composeCommand();
if (!compose) console.log('compose.test: SKIPPED on purpose — no Docker Compose CLI here (install one, or run .ci/run, which installs it)');

function config(env: NodeJS.ProcessEnv) {
  const [cmd, ...pre] = compose!;
  return spawnSync(cmd!, [...pre, '-f', 'docker-compose.yml', 'config', '--format', 'json'], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
  });
}

interface Service {
  image?: string;
  build?: { context: string };
  environment?: Record<string, string>;
  ports?: { target: number; published: string; host_ip?: string }[];
  entrypoint?: string[];
  command?: string[];
  depends_on?: Record<string, { condition: string }>;
  deploy?: { replicas?: number };
  stop_grace_period?: string;
  volumes?: { type: string; source: string; target: string; read_only?: boolean }[];
  healthcheck?: { test: string[] };
  restart?: string;
}

function services(env: NodeJS.ProcessEnv = { ANTHROPIC_API_KEY: 'sk-ant-placeholder' }): Record<string, Service> {
  const r = config(env);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return (JSON.parse(r.stdout) as { services: Record<string, Service> }).services;
}

/** The host file behind a path inside a service's container (a bind mount of this repository). */
function hostPath(service: Service, containerPath: string): string | undefined {
  for (const v of service.volumes ?? []) {
    if (v.type !== 'bind') continue;
    if (containerPath === v.target) return v.source;
    if (containerPath.startsWith(`${v.target}/`)) return join(v.source, containerPath.slice(v.target.length + 1));
  }
  return undefined;
}

describe.skipIf(!compose)('docker-compose.yml', () => {
  it('is valid and wires Temporal on PostgreSQL, the UI, the codec server and the workers', () => {
    const all = services();
    expect(Object.keys(all).sort()).toEqual([
      'codec-server',
      'postgresql',
      'temporal',
      'temporal-admin-tools',
      'temporal-namespace',
      'temporal-schema',
      'ui',
      'worker',
    ]);
    // The UI (in the browser) reaches the codec server where compose publishes it.
    const codecPort = all['codec-server']?.ports?.[0]?.published;
    expect(all.ui?.environment?.TEMPORAL_CODEC_ENDPOINT).toBe(`http://localhost:${codecPort}`);
    expect(all['codec-server']?.environment?.AGENT_RUNNER_CODEC_ORIGINS).toBe('http://localhost:8080');
    // Workers: built from this repo, several, pointed at the cluster, drained gracefully, started
    // once the namespace and its search attributes exist.
    expect(all.worker?.build?.context).toBe(ROOT.replace(/\/$/, ''));
    expect(all.worker?.deploy?.replicas).toBe(2);
    expect(all.worker?.environment).toMatchObject({
      TEMPORAL_ADDRESS: 'temporal:7233',
      ANTHROPIC_API_KEY: 'sk-ant-placeholder',
      AGENT_RUNNER_SHUTDOWN_GRACE: '60s',
    });
    expect(all.worker?.stop_grace_period).toBe('1m15s');
    expect(all.worker?.depends_on?.['temporal-namespace']?.condition).toBe('service_completed_successfully');
  });

  it("runs Temporal's current images, pinned to the server the tests run, never the deprecated auto-setup", () => {
    const all = services();
    const temporalImages = Object.values(all)
      .map((s) => s.image ?? '')
      .filter((i) => i.startsWith('temporalio/'));
    expect(temporalImages.some((i) => i.includes('auto-setup'))).toBe(false);
    expect(all.temporal?.image).toBe(`temporalio/server:${TEMPORAL_SERVER_VERSION}`);
    for (const job of ['temporal-schema', 'temporal-admin-tools', 'temporal-namespace'])
      expect(all[job]?.image, job).toBe(`temporalio/admin-tools:${TEMPORAL_SERVER_VERSION}`);
    // The UI the project's own cluster serves (scripts/cluster/binaries.ts).
    expect(all.ui?.image).toBe(`temporalio/ui:${TEMPORAL_UI_SERVER_VERSION}`);
    // One variable moves the server and its admin-tools (whose schemas match its release) together.
    const moved = services({ ANTHROPIC_API_KEY: 'sk-ant-placeholder', TEMPORAL_VERSION: '1.33.0' });
    expect([moved.temporal?.image, moved['temporal-schema']?.image]).toEqual(['temporalio/server:1.33.0', 'temporalio/admin-tools:1.33.0']);
  });

  it('sets up the schema in an explicit one-shot job before the server starts, and configures the server for PostgreSQL', () => {
    const all = services();
    const schema = all['temporal-schema']!;
    expect(schema.depends_on?.postgresql?.condition).toBe('service_healthy');
    expect(all.temporal?.depends_on?.['temporal-schema']?.condition).toBe('service_completed_successfully');
    expect(schema.entrypoint).toEqual(['/bin/sh']);
    const script = hostPath(schema, schema.command?.[0] ?? '');
    expect(script).toBe(join(ROOT, 'compose', 'temporal-schema.sh'));
    const text = readFileSync(script!, 'utf8');
    for (const step of ['create-database', 'setup-schema -v 0.0', 'update-schema -d']) expect(text).toContain(step);
    expect(text).toContain('--plugin postgres12');
    expect(schema.environment).toMatchObject({
      POSTGRES_SEEDS: 'postgresql',
      POSTGRES_USER: 'temporal',
      TEMPORAL_SCHEMA_DIR: '/etc/temporal/schema/postgresql/v12',
    });
    // The same role and password as the server's; the password reaches temporal-sql-tool through its environment.
    expect(schema.environment?.SQL_PASSWORD).toBe(all.temporal?.environment?.POSTGRES_PWD);
    expect(all.temporal?.environment).toMatchObject({
      DB: 'postgres12',
      POSTGRES_SEEDS: 'postgresql',
      POSTGRES_USER: 'temporal',
      BIND_ON_IP: '0.0.0.0',
    });
    // The server image ships no dynamic config file and refuses to start without the one it is told to read.
    const dynamic = hostPath(all.temporal!, all.temporal?.environment?.DYNAMIC_CONFIG_FILE_PATH ?? '');
    expect(dynamic).toBe(join(ROOT, 'compose', 'dynamicconfig.yaml'));
    expect(readFileSync(dynamic!, 'utf8')).toMatch(/^history\.transferProcessorMaxPollRPS:/m);
  });

  it('registers the namespace and every search attribute of the contract before the workers start', () => {
    const all = services();
    const job = all['temporal-namespace']!;
    expect(job.depends_on?.['temporal-admin-tools']?.condition).toBe('service_healthy');
    expect(hostPath(job, job.command?.[0] ?? '')).toBe(join(ROOT, 'compose', 'temporal-namespace.sh'));
    expect(job.environment?.TEMPORAL_ADDRESS).toBe('temporal:7233');
    expect(job.environment?.TEMPORAL_NAMESPACE).toBe(all.worker?.environment?.TEMPORAL_NAMESPACE);
    // docker-compose.yml cannot import contract/search-attributes.ts: its list is checked here instead.
    expect(
      job.environment?.AGENT_RUNNER_SEARCH_ATTRIBUTES?.split(/\s+/),
      'docker-compose.yml temporal-namespace AGENT_RUNNER_SEARCH_ATTRIBUTES must list contract/search-attributes.ts SEARCH_ATTRIBUTES',
    ).toEqual(searchAttributeSpecs());
  });

  it('health-checks with tools its images have: pg_isready in postgres, the temporal CLI in admin-tools', () => {
    const all = services();
    expect(all.postgresql?.healthcheck?.test.join(' ')).toContain('pg_isready -h 127.0.0.1');
    expect(all['temporal-admin-tools']?.healthcheck?.test).toEqual(['CMD', 'temporal', 'operator', 'cluster', 'health']);
    expect(all['temporal-admin-tools']?.environment?.TEMPORAL_ADDRESS).toBe('temporal:7233');
    // temporalio/server holds only the server binary: no CLI, no tctl to check itself with.
    expect(all.temporal?.healthcheck).toBeUndefined();
    expect(JSON.stringify(all)).not.toContain('tctl');
    expect(all.ui?.depends_on?.['temporal-admin-tools']?.condition).toBe('service_healthy');
    for (const f of ['temporal-schema.sh', 'temporal-namespace.sh']) {
      const check = spawnSync('sh', ['-n', join(ROOT, 'compose', f)], { encoding: 'utf8' });
      expect(check.status, `sh -n compose/${f}: ${check.stderr}`).toBe(0);
    }
    expect(existsSync(join(ROOT, 'compose', 'dynamicconfig.yaml'))).toBe(true);
  });

  it("publishes every port on the host's 127.0.0.1 only, by default", () => {
    const published = Object.entries(services()).flatMap(([name, s]) =>
      (s.ports ?? []).map((p) => [name, p.host_ip, p.published, p.target]),
    );
    expect(published.sort()).toEqual([
      ['codec-server', '127.0.0.1', '8888', 8888],
      ['temporal', '127.0.0.1', '7233', 7233],
      ['ui', '127.0.0.1', '8080', 8080],
    ]);
    // AGENT_RUNNER_PUBLISH_HOST opens Temporal and the UI wider; never the token-less codec server.
    const wide = config({ ANTHROPIC_API_KEY: 'sk-ant-placeholder', AGENT_RUNNER_PUBLISH_HOST: '0.0.0.0' });
    const wideServices = (JSON.parse(wide.stdout) as { services: Record<string, Service> }).services;
    expect(wideServices.temporal?.ports?.[0]?.host_ip).toBe('0.0.0.0');
    expect(wideServices.ui?.ports?.[0]?.host_ip).toBe('0.0.0.0');
    expect(wideServices['codec-server']?.ports?.[0]?.host_ip).toBe('127.0.0.1');
  });

  it("binds the codec server on its container's 0.0.0.0 explicitly, and passes the token and old keys to what builds codecs", () => {
    const env = {
      ANTHROPIC_API_KEY: 'sk-ant-placeholder',
      AGENT_RUNNER_CODEC_TOKEN: 'codec-token-placeholder',
      AGENT_RUNNER_ENCRYPTION_KEY: 'a2V5LXBsYWNlaG9sZGVyLWtleS1wbGFjZWhvbGRlci0=',
      AGENT_RUNNER_ENCRYPTION_OLD_KEYS: 'v1:b2xkLWtleS1wbGFjZWhvbGRlci1vbGQta2V5LXBsYWM=',
    };
    const r = config(env);
    expect(r.status).toBe(0);
    const services = (JSON.parse(r.stdout) as { services: Record<string, Service> }).services;
    const codec = services['codec-server']!;
    expect(codec.command).toEqual(['node', 'client/bin.mjs', 'codec-server', '--host', '0.0.0.0', '--port', '8888', '--allow-no-token']);
    expect(codec.environment).toMatchObject({
      AGENT_RUNNER_CODEC_TOKEN: env.AGENT_RUNNER_CODEC_TOKEN,
      AGENT_RUNNER_ENCRYPTION_KEY: env.AGENT_RUNNER_ENCRYPTION_KEY,
      AGENT_RUNNER_ENCRYPTION_OLD_KEYS: env.AGENT_RUNNER_ENCRYPTION_OLD_KEYS,
    });
    expect(services.worker?.environment).toMatchObject({
      AGENT_RUNNER_ENCRYPTION_KEY: env.AGENT_RUNNER_ENCRYPTION_KEY,
      AGENT_RUNNER_ENCRYPTION_OLD_KEYS: env.AGENT_RUNNER_ENCRYPTION_OLD_KEYS,
    });
    // The workers never serve the codec endpoint: its token stays with the codec server.
    expect(services.worker?.environment).not.toHaveProperty('AGENT_RUNNER_CODEC_TOKEN');
  });

  it('refuses to start workers without ANTHROPIC_API_KEY, saying so', () => {
    const r = config({});
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('set ANTHROPIC_API_KEY for the workers');
  });
});
