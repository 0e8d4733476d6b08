/**
 * docker-compose.yml, validated by the real Compose CLI (no Docker engine needed to parse,
 * interpolate and validate). .ci/run installs the CLI when the machine has none.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { composeCommand } from '../scripts/compose-cli.js';

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
  command?: string[];
  depends_on?: Record<string, { condition: string }>;
  deploy?: { replicas?: number };
  stop_grace_period?: string;
}

describe.skipIf(!compose)('docker-compose.yml', () => {
  it('is valid and wires Temporal on PostgreSQL, the UI, the codec server and the workers', () => {
    const r = config({ ANTHROPIC_API_KEY: 'sk-ant-placeholder' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const services = (JSON.parse(r.stdout) as { services: Record<string, Service> }).services;
    expect(Object.keys(services).sort()).toEqual(['codec-server', 'postgresql', 'search-attributes', 'temporal', 'ui', 'worker']);
    expect(services.temporal?.environment).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'postgresql' });
    expect(services.temporal?.depends_on?.postgresql?.condition).toBe('service_healthy');
    // The UI (in the browser) reaches the codec server where compose publishes it.
    const codecPort = services['codec-server']?.ports?.[0]?.published;
    expect(services.ui?.environment?.TEMPORAL_CODEC_ENDPOINT).toBe(`http://localhost:${codecPort}`);
    expect(services['codec-server']?.environment?.AGENT_RUNNER_CODEC_ORIGINS).toBe('http://localhost:8080');
    // Workers: built from this repo, several, pointed at the cluster, drained gracefully.
    expect(services.worker?.build?.context).toBe(ROOT.replace(/\/$/, ''));
    expect(services.worker?.deploy?.replicas).toBe(2);
    expect(services.worker?.environment).toMatchObject({
      TEMPORAL_ADDRESS: 'temporal:7233',
      ANTHROPIC_API_KEY: 'sk-ant-placeholder',
      AGENT_RUNNER_SHUTDOWN_GRACE: '60s',
    });
    expect(services.worker?.stop_grace_period).toBe('1m15s');
    expect(services.worker?.depends_on?.['search-attributes']?.condition).toBe('service_completed_successfully');
  });

  it("publishes every port on the host's 127.0.0.1 only, by default", () => {
    const r = config({ ANTHROPIC_API_KEY: 'sk-ant-placeholder' });
    expect(r.status).toBe(0);
    const services = (JSON.parse(r.stdout) as { services: Record<string, Service> }).services;
    const published = Object.entries(services).flatMap(([name, s]) => (s.ports ?? []).map((p) => [name, p.host_ip, p.published, p.target]));
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
