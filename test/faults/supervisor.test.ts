/**
 * `npm run server` as a process tree: its codec server is a supervised child process (restarted,
 * with one line, when it dies), and neither the codec server nor the Temporal dev server outlives
 * the supervisor, however the supervisor ends (here: SIGKILL, where no exit handler runs).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/dev-server.js';
import { until } from './world.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Alive and not a zombie (an orphan's new parent may be slow to reap it). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = `/proc/${pid}/stat`;
  return !existsSync(stat) || !/\) Z /.test(readFileSync(stat, 'utf8'));
}

/** Every pid a test saw, killed at the end whatever happened (so a failing run leaks nothing). */
const seen = new Set<number>();
const children: ChildProcess[] = [];
afterAll(() => {
  for (const pid of seen) if (alive(pid)) process.kill(pid, 'SIGKILL');
  for (const c of children) c.kill('SIGKILL');
});

/** Start `node --import tsx <script>` and collect its output lines. */
function start(script: string, env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  seen.add(child.pid!);
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const waitFor = async (re: RegExp, timeoutMs = 60_000): Promise<RegExpMatchArray> =>
    until(`${re} in the output of ${script}`, () => out.match(re) ?? undefined, timeoutMs).catch((e: Error) => {
      throw new Error(`${e.message}; output so far: ${out.trim().split('\n').slice(-8).join(' | ')}`);
    });
  return { child, waitFor, output: () => out };
}

async function codecAnswers(port: number): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/decode`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"payloads":[]}',
  }).catch(() => undefined);
  return res?.status ?? 0;
}

describe('npm run server', () => {
  let supervisor: ReturnType<typeof start>;
  let codecPort: number;
  let devPid: number;

  it('runs the codec server as a child and restarts it when it dies, saying so in one line', async () => {
    codecPort = await freePort();
    supervisor = start('scripts/server.ts', {
      TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}`,
      TEMPORAL_UI_URL: `http://localhost:${await freePort()}`,
      AGENT_RUNNER_CODEC_PORT: String(codecPort),
      AGENT_RUNNER_DEV_DB: join(mkdtempSync(join(tmpdir(), 'agent-runner-server-')), 'dev.db'),
    });
    devPid = Number((await supervisor.waitFor(/Temporal dev server \(pid (\d+)\) on /))[1]);
    seen.add(devPid);
    const first = Number((await supervisor.waitFor(/\[codec-server pid (\d+)\] codec server on http:\/\/127\.0\.0\.1:\d+/))[1]);
    seen.add(first);
    expect(await codecAnswers(codecPort)).toBe(200);

    const killedAt = Date.now();
    process.kill(first, 'SIGKILL');
    await supervisor.waitFor(new RegExp(`codec server \\(pid ${first}\\) exited \\(signal SIGKILL\\); restarting it in [\\d.]+ s\\n`));
    const second = Number(
      (await supervisor.waitFor(/\[codec-server pid (\d+)\] codec server on .*\n[^]*\[codec-server pid (\d+)\] codec server on/))[2],
    );
    seen.add(second);
    expect(second).not.toBe(first);
    await until('the restarted codec server to answer', async () => (await codecAnswers(codecPort)) === 200, 10_000);
    console.log(`codec server SIGKILLed: answering again ${Date.now() - killedAt} ms later`);
    expect(alive(devPid)).toBe(true);
    expect(supervisor.child.exitCode).toBeNull();
  });

  it('takes the dev server and the codec server with it when it is SIGKILLed', async () => {
    const codecPid = Number([...supervisor.output().matchAll(/\[codec-server pid (\d+)\] codec server on/g)].at(-1)![1]);
    const killedAt = Date.now();
    supervisor.child.kill('SIGKILL');
    await until('the dev server to end', () => !alive(devPid), 20_000);
    await until('the codec server to end', () => !alive(codecPid), 20_000);
    console.log(`supervisor SIGKILLed: its children were gone ${Date.now() - killedAt} ms later`);
    expect(await codecAnswers(codecPort)).toBe(0);
  });
});

it('startDevServer: the dev server dies with its parent, even a SIGKILLed one', async () => {
  const parent = start('test/faults/fixtures/dev-server-parent.ts', {});
  const pid = Number((await parent.waitFor(/dev server pid (\d+) at /))[1]);
  seen.add(pid);
  expect(alive(pid)).toBe(true);
  parent.child.kill('SIGKILL');
  await until('the orphaned dev server to end', () => !alive(pid), 20_000);
});
