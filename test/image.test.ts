/**
 * The Dockerfile's steps, exercised without Docker (no engine runs here): every COPY, ENV, WORKDIR
 * and RUN of the file is carried out in a temporary folder standing in for the image's `/app` —
 * the production dependency set installed with `npm ci --omit=dev` from the committed lock file,
 * the workflow bundle built — and its CMD then starts a worker that serves a triage run against
 * the dev server. What cannot run without Docker (the base image, `USER`, `chown` to a user this
 * machine lacks) is listed by the test.
 */
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import { AgentRunner } from '../client/runner.js';
import { dataConverter } from '../connection/codecs.js';
import { FakeMessagesApi } from '../devtools/fake-api/server.js';
import { triageBrain } from '../devtools/fake-api/triage-brain.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const KEY = 'sk-ant-image-test-0000';

/** One Dockerfile instruction (continuation lines joined). */
function instructions(): { op: string; args: string }[] {
  const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8').replace(/\\\n\s*/g, ' ');
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => ({ op: l.split(/\s+/)[0]!.toUpperCase(), args: l.slice(l.split(/\s+/)[0]!.length).trim() }));
}

let app: string;
const env: Record<string, string> = {};
let cmd: string[] = [];
const notRun: string[] = [];
let fake: FakeMessagesApi;

beforeAll(async () => {
  app = mkdtempSync(join(tmpdir(), 'agent-runner-image-'));
  const inApp = (s: string) => s.replaceAll('/app', app);
  for (const { op, args } of instructions()) {
    if (op === 'FROM') {
      // The base image's Node major must be the one this test runs on.
      expect(args).toMatch(new RegExp(`^node:${process.versions.node.split('.')[0]}-`));
      notRun.push(`FROM ${args} (this machine's Node ${process.version} stands in)`);
    } else if (op === 'WORKDIR') expect(args).toBe('/app');
    else if (op === 'ENV') for (const [, k, v] of args.matchAll(/(\w+)=(\S+)/g)) env[k!] = inApp(v!);
    else if (op === 'COPY') {
      const parts = args.split(/\s+/);
      const dest = parts.pop()!;
      for (const src of parts) cpSync(join(ROOT, src), dest.endsWith('/') ? join(app, dest, src) : join(app, dest), { recursive: true });
    } else if (op === 'RUN') {
      if (/\bchown\b/.test(args)) {
        notRun.push(`RUN ${args} (no user "node" here)`);
        continue;
      }
      execFileSync('sh', ['-c', inApp(args)], { cwd: app, env: { ...process.env, ...env }, stdio: 'pipe', timeout: 600_000 });
    } else if (op === 'CMD') cmd = JSON.parse(args) as string[];
    else notRun.push(`${op} ${args}`);
  }
  fake = await FakeMessagesApi.start({ apiKey: KEY, brain: triageBrain });
}, 600_000);

afterAll(async () => {
  await fake?.close();
  if (app) rmSync(app, { recursive: true, force: true });
});

it('installs only production dependencies from the lock file, bundles the workflows, and its CMD serves a run', async () => {
  console.log(`Dockerfile steps not run without Docker: ${notRun.join('; ')}`);
  // Production dependencies only: no dev tool made it in.
  expect(existsSync(join(app, 'node_modules', '@temporalio', 'worker'))).toBe(true);
  for (const dev of ['vitest', 'typescript', 'eslint', 'prettier']) expect(existsSync(join(app, 'node_modules', dev))).toBe(false);
  expect(statSync(env.AGENT_RUNNER_WORKFLOW_BUNDLE!).size).toBeGreaterThan(100_000);

  const taskQueue = `image-${Date.now()}`;
  const worker = spawn(cmd[0] === 'node' ? process.execPath : cmd[0]!, cmd.slice(1), {
    cwd: app,
    env: {
      PATH: process.env.PATH,
      ...env,
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      AGENT_RUNNER_TASK_QUEUE: taskQueue,
      AGENT_RUNNER_DATA_DIR: join(app, 'data'),
      ANTHROPIC_BASE_URL: fake.url,
      ANTHROPIC_API_KEY: KEY,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  worker.stdout.on('data', (d: Buffer) => (out += d.toString()));
  worker.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const connection = await Connection.connect({ address: inject('temporalAddress') });
  try {
    const deadline = Date.now() + 60_000;
    while (!out.includes('worker: serving')) {
      if (Date.now() > deadline || worker.exitCode !== null) throw new Error(`the image's worker did not start: ${out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    // It used the prebuilt bundle: no bundling at start.
    expect(out).not.toMatch(/bundl/i);
    const runner = await AgentRunner.connect({
      client: new Client({ connection, dataConverter: dataConverter() }),
      settings: { taskQueue, uiUrl: 'http://localhost:8233' },
    });
    const r = await (await runner.start('triage', 'Where is my order 48810?')).result();
    expect(r).toMatchObject({ status: 'completed', stopReason: 'end_turn' });
    expect(r.finalText).toContain('48810 is shipped');
  } finally {
    worker.kill('SIGTERM');
    await new Promise((r) => worker.once('exit', r));
    await connection.close();
  }
  expect(out).toContain('worker: stopped');
});
