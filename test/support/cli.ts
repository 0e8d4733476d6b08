/** Running the `agent-runner` command as a child process, configured only by the environment. */
import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, inject } from 'vitest';

/** The package's `bin`. */
export const BIN = fileURLToPath(new URL('../../client/bin.mjs', import.meta.url));

/** What a finished command left. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** The environment a user would set to reach the test's server and worker. */
export function cliEnv(h: { address: string; taskQueue: string }): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    TEMPORAL_ADDRESS: h.address,
    AGENT_RUNNER_TASK_QUEUE: h.taskQueue,
    TEMPORAL_UI_URL: inject('temporalUiUrl'),
    AGENT_RUNNER_AGENTS: fileURLToPath(new URL('./agents.ts', import.meta.url)),
  };
}

/** Run `agent-runner …` to completion. */
export function runCli(env: NodeJS.ProcessEnv, ...args: string[]): Promise<CliRun> {
  return runCliWith(env, {}, ...args);
}

/** Run `agent-runner …` to completion, with this on its stdin (closed after it). */
export function runCliWith(env: NodeJS.ProcessEnv, opts: { stdin?: string }, ...args: string[]): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [BIN, ...args], { env, timeout: 60_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
    );
    if (opts.stdin !== undefined) {
      child.stdin?.on('error', () => undefined); // the command may stop reading early (EPIPE)
      child.stdin?.end(opts.stdin);
    }
  });
}

/** Start `agent-runner …` and collect its output as it comes; `done` resolves when it exits. */
export function spawnCli(env: NodeJS.ProcessEnv, ...args: string[]): { lines: string[]; done: Promise<CliRun> } {
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    lines.splice(0, lines.length, ...stdout.split('\n').filter(Boolean));
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliRun>((resolve) => child.on('exit', (code) => resolve({ code: code ?? 1, stdout, stderr })));
  return { lines, done };
}

/** Characters a terminal acts on: C0 controls except newline and tab, DEL, and C1 controls. */
export const TERMINAL_CONTROLS = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;

/** Human output must carry none of {@link TERMINAL_CONTROLS}. */
export function expectTerminalSafe(output: string): void {
  const at = output.search(TERMINAL_CONTROLS);
  expect(
    at,
    `control character U+${output.codePointAt(at)?.toString(16).padStart(4, '0')} at ${at}: ${JSON.stringify(output.slice(Math.max(0, at - 40), at + 40))}`,
  ).toBe(-1);
}
