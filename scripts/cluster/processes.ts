/**
 * Child processes of the local cluster: each one logs to its own file, is tracked until it exits,
 * and is SIGKILLed if this Node process exits without stopping it. Each runs in a process group
 * of its own (`detached`), so a Ctrl-C in the terminal reaches only the script, which then stops
 * the services in order (Temporal services first, PostgreSQL last) instead of all at once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readSync, fstatSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

/** A running (or exited) child process of the cluster. */
export interface ManagedProcess {
  name: string;
  pid: number;
  child: ChildProcess;
  logFile: string;
  /** Set once it has exited. */
  exitStatus: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  /** Resolves when it has exited. */
  exited: Promise<void>;
  /** The last `n` lines of its log file (JSON log lines shortened to level, message and error). */
  tail(n?: number): string[];
  /** What it logged since it was started (at most the last MiB). */
  logSinceStart(): string;
  /** Send `signal` (default SIGTERM), SIGKILL after `graceMs` (default 15 s), and wait for the exit. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

export interface SpawnOptions {
  name: string;
  command: string;
  args: string[];
  logFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Run as this user (root only): PostgreSQL refuses to run as root. */
  uid?: number;
  gid?: number;
}

const live = new Set<ManagedProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort: nothing this module started outlives the Node process that started it.
  process.on('exit', () => {
    for (const p of live) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

/** Start a process whose stdout and stderr are appended to `logFile`. Rejects if it cannot be spawned. */
export async function spawnLogged(opts: SpawnOptions): Promise<ManagedProcess> {
  installExitHook();
  mkdirSync(dirname(opts.logFile), { recursive: true });
  const fd = openSync(opts.logFile, 'a');
  writeSync(fd, `\n===== ${new Date().toISOString()} ${opts.command} ${opts.args.join(' ')}\n`);
  const startOffset = fstatSync(fd).size;
  const child = spawn(opts.command, opts.args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: ['ignore', fd, fd],
    detached: true,
    ...(opts.uid !== undefined ? { uid: opts.uid, gid: opts.gid } : {}),
  });
  closeSync(fd);
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', () => resolve());
    child.once('error', (e) => reject(new Error(`cannot start ${opts.name} (${opts.command}): ${e.message}`)));
  });

  let resolveExit!: () => void;
  const exited = new Promise<void>((r) => (resolveExit = r));
  const proc: ManagedProcess = {
    name: opts.name,
    pid: child.pid!,
    child,
    logFile: opts.logFile,
    exitStatus: undefined,
    exited,
    tail: (n = 15) => tailLines(opts.logFile, n),
    logSinceStart: () => readFrom(opts.logFile, startOffset, 1024 * 1024),
    async stop(signal = 'SIGTERM', graceMs = 15_000) {
      if (proc.exitStatus) return;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
  live.add(proc);
  child.once('exit', (code, signal) => {
    proc.exitStatus = { code, signal };
    live.delete(proc);
    resolveExit();
  });
  return proc;
}

/** Up to the last `max` bytes of a file from `offset` on ('' if it cannot be read). */
function readFrom(file: string, offset: number, max: number): string {
  try {
    const fd = openSync(file, 'r');
    try {
      const size = fstatSync(fd).size;
      const start = Math.max(offset, size - max);
      const buf = Buffer.alloc(Math.max(0, size - start));
      readSync(fd, buf, 0, buf.length, start);
      return buf.toString('utf8');
    } finally {
      closeSync(fd);
    }
  } catch {
    return '';
  }
}

/** The last `n` lines of a log file, Temporal's JSON lines shortened for a person. */
export function tailLines(file: string, n: number): string[] {
  return readFrom(file, 0, 256 * 1024)
    .split('\n')
    .filter((l) => l.trim())
    .slice(-n)
    .map(shortenLogLine);
}

function shortenLogLine(line: string): string {
  if (!line.startsWith('{')) return line;
  try {
    const j = JSON.parse(line) as Record<string, unknown>;
    const parts = [j.level, j.msg, j.error ?? j['error-message']].filter((x) => typeof x === 'string' && x);
    return parts.length ? parts.join(' | ') : line;
  } catch {
    return line;
  }
}

/**
 * Stop every process this module started that still runs: PostgreSQL last and with SIGINT (its
 * fast shutdown), everything else first with SIGTERM. For a Ctrl-C that arrives mid-start.
 */
export async function stopLive(): Promise<void> {
  const all = [...live];
  await Promise.all(all.filter((p) => p.name !== 'postgres').map((p) => p.stop()));
  await Promise.all(all.filter((p) => p.name === 'postgres').map((p) => p.stop('SIGINT', 30_000)));
}

/** The environment minus TEMPORAL_* variables, which the server, UI and CLI would read as settings. */
export function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TEMPORAL_')));
}

/** How a process ended, for error messages. */
export function describeExit(p: ManagedProcess): string {
  const s = p.exitStatus;
  if (!s) return 'still running';
  return s.signal ? `killed by ${s.signal}` : `exit code ${s.code}`;
}

/** Result of {@link runCommand}. */
export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Run a command to completion and collect its output (never rejects for a non-zero exit; rejects
 * only if it cannot be started). `onOutput` sees the output as it comes (e.g. a build log file).
 */
export function runCommand(
  command: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; uid?: number; gid?: number; timeoutMs?: number; onOutput?: (chunk: string) => void } = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(opts.uid !== undefined ? { uid: opts.uid, gid: opts.gid } : {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => {
      stdout += b.toString('utf8');
      opts.onOutput?.(b.toString('utf8'));
    });
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString('utf8');
      opts.onOutput?.(b.toString('utf8'));
    });
    const timer = opts.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs) : undefined;
    child.once('error', (e) => {
      if (timer) clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code) => {
      if (timer) clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The last non-empty lines of some output, joined for a one-line error. */
export function lastLines(text: string, n = 3): string {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(-n)
    .join(' | ');
}
