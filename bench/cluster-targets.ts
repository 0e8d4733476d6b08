/**
 * The two servers `npm run bench:cluster` compares, each with a client on it: the dev server as
 * the project ships it (`npm run server`: DEV_SERVER_TUNING, SQLite file, here headless), and the
 * real cluster of `npm run cluster` (frontend, history, matching and worker processes on
 * PostgreSQL, cluster/temporal.yaml). Plus what /proc says about their process trees: PostgreSQL
 * runs a backend process per connection, so its memory and CPU are summed over the postmaster's
 * descendants (memory as PSS, which counts shared buffers once).
 */
import { Client, Connection } from '@temporalio/client';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentRunner } from '../client/runner.js';
import { dataConverter } from '../connection/codecs.js';
import { startCluster, TEMPORAL_SERVICES } from '../scripts/cluster.js';
import { startDevServer } from '../scripts/dev-server.js';
import { cpuMs, machineBusyMs, procStatusBytes } from './processes.js';

/** A Temporal server under test and a client on it. */
export interface Target {
  name: 'dev server' | 'cluster';
  address: string;
  client: Client;
  runner(taskQueue: string): Promise<AgentRunner>;
  /** Root pid of each server process (tree), by name. */
  serverPids: Record<string, number>;
  close(): Promise<void>;
}

function withClient(address: string): Promise<{ connection: Connection; client: Client }> {
  return Connection.connect({ address }).then((connection) => ({
    connection,
    // The workers' payload codecs (connection/codecs.ts, from the same environment), or results cannot be read.
    client: new Client({ connection, namespace: 'default', dataConverter: dataConverter() }),
  }));
}

/** `npm run server`'s dev server (SQLite file with the project's pragmas, DEV_SERVER_TUNING), without the UI. */
export async function devServerTarget(): Promise<Target> {
  const dir = mkdtempSync(join(tmpdir(), 'agent-runner-bench-dev-'));
  const server = await startDevServer({ uiPort: false, tuned: true, dbFile: join(dir, 'dev.db') });
  const { connection, client } = await withClient(server.address);
  return {
    name: 'dev server',
    address: server.address,
    client,
    runner: (taskQueue) => AgentRunner.connect({ client, settings: { taskQueue } }),
    serverPids: { 'temporal server start-dev': server.process.pid! },
    async close() {
      await connection.close();
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A fresh cluster on free ports (scripts/cluster.ts startCluster), data and logs in temporary folders. */
export async function clusterTarget(log: (line: string) => void): Promise<Target> {
  const dataDir = mkdtempSync(join(tmpdir(), 'agent-runner-bench-cluster-'));
  chmodSync(dataDir, 0o755); // PostgreSQL runs as the postgres user when we are root
  const logDir = mkdtempSync(join(tmpdir(), 'agent-runner-bench-cluster-logs-'));
  const cluster = await startCluster({ ports: 'auto', dataDir, logDir, log });
  const { connection, client } = await withClient(cluster.address);
  const serverPids: Record<string, number> = {};
  for (const s of TEMPORAL_SERVICES) serverPids[s === 'worker' ? 'worker service' : s] = cluster.processes[s]!.pid;
  serverPids.postgres = cluster.processes.postgres!.pid;
  return {
    name: 'cluster',
    address: cluster.address,
    client,
    runner: (taskQueue) => AgentRunner.connect({ client, settings: { taskQueue } }),
    serverPids,
    async close() {
      await connection.close();
      await cluster.stop();
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(logDir, { recursive: true, force: true });
    },
  };
}

/** Parent pid of every process, read once from /proc. */
function parents(): Map<number, number> {
  const map = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      map.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // exited meanwhile
    }
  }
  return map;
}

/** `root` and all its descendants. */
export function processTree(root: number, ppids: Map<number, number> = parents()): number[] {
  const tree = [root];
  for (let i = 0; i < tree.length; i++) for (const [pid, ppid] of ppids) if (ppid === tree[i]) tree.push(pid);
  return tree;
}

/** Proportional set size of a process in bytes (shared pages divided among their users), 0 once gone. */
function pssBytes(pid: number): number {
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Peak memory of each server process tree, and of their sum at one instant. */
export interface MemoryPeaks {
  /** Name → peak Σ VmRSS and Σ PSS over the tree. */
  byName: Record<string, { rss: number; pss: number }>;
  /** Peak of Σ PSS over every tree, sampled at one instant. */
  totalPss: number;
}

/** Sample the trees under `roots` every `everyMs` until `stop()`. */
export function sampleTreeMemory(roots: Record<string, number>, everyMs = 500): { stop(): MemoryPeaks } {
  const peaks: MemoryPeaks = { byName: {}, totalPss: 0 };
  const sample = () => {
    const ppids = parents();
    let total = 0;
    for (const [name, root] of Object.entries(roots)) {
      const tree = processTree(root, ppids);
      const rss = tree.reduce((n, pid) => n + procStatusBytes(pid, 'VmRSS'), 0);
      const pss = tree.reduce((n, pid) => n + pssBytes(pid), 0);
      const p = (peaks.byName[name] ??= { rss: 0, pss: 0 });
      p.rss = Math.max(p.rss, rss);
      p.pss = Math.max(p.pss, pss);
      total += pss;
    }
    peaks.totalPss = Math.max(peaks.totalPss, total);
  };
  sample();
  const timer = setInterval(sample, everyMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return peaks;
    },
  };
}

/** CPU ms of a tree so far: its live processes, plus what the root's exited children used (cutime + cstime). */
function treeCpuMs(root: number, ppids: Map<number, number>): number {
  let reaped = 0;
  try {
    const stat = readFileSync(`/proc/${root}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    reaped = (Number(rest[13]) + Number(rest[14])) * 10;
  } catch {
    // gone
  }
  return processTree(root, ppids).reduce((n, pid) => n + cpuMs(pid), reaped);
}

/**
 * CPU ms used between start and `stop()` by each tree in `trees` and each single process in
 * `singles` (a process whose children are measured on their own, such as the bench itself, which
 * spawns the servers and workers), plus `others`: the rest of the machine.
 */
export function treeCpuMeter(trees: Record<string, number>, singles: Record<string, number> = {}): { stop(): Record<string, number> } {
  const read = () => {
    const ppids = parents();
    return {
      ...Object.fromEntries(Object.entries(trees).map(([k, pid]) => [k, treeCpuMs(pid, ppids)])),
      ...Object.fromEntries(Object.entries(singles).map(([k, pid]) => [k, cpuMs(pid)])),
    };
  };
  const before = read();
  const busyBefore = machineBusyMs();
  return {
    stop() {
      const after = read();
      const used = Object.fromEntries(Object.keys(after).map((k) => [k, after[k]! - before[k]!]));
      const ours = Object.values(used).reduce((a, b) => a + b, 0);
      return { ...used, others: Math.max(0, machineBusyMs() - busyBefore - ours) };
    },
  };
}
