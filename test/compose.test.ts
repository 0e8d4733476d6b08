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
  ports?: { target: number; published: string }[];
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

  it('refuses to start workers without ANTHROPIC_API_KEY, saying so', () => {
    const r = config({});
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('set ANTHROPIC_API_KEY for the workers');
  });
});
