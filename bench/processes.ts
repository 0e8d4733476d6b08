/**
 * Worker processes for the bench, and what /proc says about them (RSS, CPU time), so memory and
 * CPU are measured on the real separate processes a deployment would run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TuningOptions } from './worker-process.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The shipped worker entry (the "before" of every tuning comparison). */
export const SHIPPED_WORKER = fileURLToPath(new URL('../worker/main.ts', import.meta.url));
/** The bench's worker entry: the same wiring plus WorkerOptions from BENCH_WORKER_OPTIONS. */
export const BENCH_WORKER = fileURLToPath(new URL('./worker-process.ts', import.meta.url));
const BENCH_AGENTS = fileURLToPath(new URL('./agents.ts', import.meta.url));

/** A worker process started by the bench. */
export interface BenchWorker {
  pid: number;
  child: ChildProcess;
  /** Resolves once it polls; rejects if it exits first. */
  ready: Promise<void>;
  exited: Promise<number | string>;
  output(): string;
  /** SIGTERM (graceful), then SIGKILL after `graceMs`; resolves when it is gone. */
  stop(graceMs?: number): Promise<void>;
}

/** What a bench worker needs to know. */
export interface WorkerSpec {
  address: string;
  taskQueue: string;
  baseURL: string;
  apiKey: string;
  bundlePath: string;
  maxActivities: number;
  /** Extra WorkerOptions; only with the bench entry. */
  tuning?: TuningOptions;
  /** Which entry to run (default: the bench's when `tuning` is given, else the shipped one). */
  entry?: string;
  /** Extra Node flags (e.g. `--cpu-prof` to see where the worker's CPU goes). */
  nodeArgs?: string[];
  /** More environment variables (e.g. the textbook worker's own). */
  env?: Record<string, string>;
  /** Root of the code the worker runs (default: this checkout; the levers bench exports other revisions). */
  root?: string;
}

/** Start a worker process serving the bench agents (bench/agents.ts). */
export function spawnBenchWorker(spec: WorkerSpec): BenchWorker {
  const root = spec.root ?? ROOT;
  const inRoot = (path: string) => (spec.root ? join(spec.root, relative(ROOT, path)) : path);
  const entry = inRoot(spec.entry ?? (spec.tuning ? BENCH_WORKER : SHIPPED_WORKER));
  const child = spawn(process.execPath, [...(spec.nodeArgs ?? []), '--import', 'tsx', entry], {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      TEMPORAL_ADDRESS: spec.address,
      AGENT_RUNNER_TASK_QUEUE: spec.taskQueue,
      AGENT_RUNNER_AGENTS: inRoot(BENCH_AGENTS),
      AGENT_RUNNER_WORKFLOW_BUNDLE: spec.bundlePath,
      AGENT_RUNNER_MAX_ACTIVITIES: String(spec.maxActivities),
      AGENT_RUNNER_SHUTDOWN_GRACE: '1s',
      ANTHROPIC_BASE_URL: spec.baseURL,
      ANTHROPIC_API_KEY: spec.apiKey,
      ...(spec.tuning && { BENCH_WORKER_OPTIONS: JSON.stringify(spec.tuning) }),
      // Payload codec settings (connection/codecs.ts): the workers must encode as the bench's client decodes.
      ...Object.fromEntries(Object.entries(process.env).filter(([k]) => /^AGENT_RUNNER_(COMPRESSION|ENCRYPTION_)/.test(k))),
      ...spec.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      // Keep only the tail: a long bench must not grow this string without bound.
      if (out.length > 20_000) out = out.slice(-10_000);
      if (out.includes('worker: serving')) resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    void exited.then((code) =>
      reject(new Error(`worker exited (${code}) before it was ready: ${out.trim().split('\n').slice(-3).join(' | ')}`)),
    );
  });
  ready.catch(() => undefined); // observed by whoever awaits it
  // A bench that dies must not leave a worker behind.
  const killOnExit = () => child.kill('SIGKILL');
  process.on('exit', killOnExit);
  return {
    pid: child.pid ?? -1,
    child,
    ready,
    exited,
    output: () => out,
    async stop(graceMs = 5_000) {
      process.off('exit', killOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** A field of /proc/<pid>/status in bytes (VmRSS, VmHWM), or 0 once the process is gone. */
export function procStatusBytes(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** User + system CPU time of a process so far, in ms (clock ticks are 10 ms on Linux). */
export function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name, which may itself contain spaces.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) * 10;
  } catch {
    return 0;
  }
}

/** Samples a process's RSS every `everyMs`; `stop()` returns the peak seen and VmHWM. */
export function sampleRss(pid: number, everyMs = 200): { stop(): { peakRss: number; hwm: number } } {
  let peak = procStatusBytes(pid, 'VmRSS');
  const timer = setInterval(() => {
    peak = Math.max(peak, procStatusBytes(pid, 'VmRSS'));
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      peak = Math.max(peak, procStatusBytes(pid, 'VmRSS'));
      return { peakRss: peak, hwm: procStatusBytes(pid, 'VmHWM') };
    },
  };
}

/** Busy CPU time of the whole machine so far (all cores), in ms, from /proc/stat. */
export function machineBusyMs(): number {
  try {
    const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
    const n = fields.map(Number);
    const total = n.slice(0, 8).reduce((a, b) => a + b, 0);
    return (total - (n[3] ?? 0) - (n[4] ?? 0)) * 10; // minus idle and iowait
  } catch {
    return 0;
  }
}

/**
 * CPU time used by each of some processes between `start` and `stop`, in ms, plus `others`: what
 * the rest of the machine used meanwhile (another job on the box skews every figure; this shows it).
 */
export function cpuMeter(pids: Record<string, number>): { stop(): Record<string, number> } {
  const before = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuMs(pid)]));
  const busyBefore = machineBusyMs();
  return {
    stop: () => {
      const used = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuMs(pid) - (before[k] ?? 0)]));
      const ours = Object.values(used).reduce((a, b) => a + b, 0);
      return { ...used, others: Math.max(0, machineBusyMs() - busyBefore - ours) };
    },
  };
}
