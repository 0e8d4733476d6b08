/**
 * The local cluster's ports: Temporal's usual layout around a frontend port, or free ones for
 * tests, all on 127.0.0.1, checked free before anything starts.
 */
import { createServer } from 'node:net';

/** Every port the cluster listens on (all on 127.0.0.1). */
export interface ClusterPorts {
  postgres: number;
  /** Frontend gRPC: the address clients and workers use. */
  frontend: number;
  frontendHttp: number;
  frontendMembership: number;
  history: number;
  historyMembership: number;
  matching: number;
  matchingMembership: number;
  worker: number;
  workerMembership: number;
  /** Web UI (only used with `ui`). */
  ui: number;
}

/**
 * Temporal's usual port layout around a frontend port: 7233 gives history 7234, matching 7235,
 * worker 7239, frontend HTTP 7243 and membership 6933/6934/6935/6939.
 */
export function portLayout(frontend = 7233, postgres = 5433, ui = 8233): ClusterPorts {
  if (!Number.isInteger(frontend) || frontend < 1324 || frontend > 65525)
    throw new Error(`frontend port ${frontend} must be between 1324 and 65525`);
  return {
    postgres,
    frontend,
    frontendHttp: frontend + 10,
    frontendMembership: frontend - 300,
    history: frontend + 1,
    historyMembership: frontend - 299,
    matching: frontend + 2,
    matchingMembership: frontend - 298,
    worker: frontend + 6,
    workerMembership: frontend - 294,
    ui,
  };
}

/** A free TCP port on 127.0.0.1. */
function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => (typeof a === 'object' && a ? res(a.port) : rej(new Error('no port'))));
    });
  });
}

function portFree(port: number): Promise<boolean> {
  return new Promise((res) => {
    const srv = createServer();
    srv.once('error', () => res(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => res(true)));
  });
}

/**
 * PostgreSQL keeps each member's membership port in `cluster_membership.rpc_port`, a SMALLINT:
 * a membership port above 32767 makes the service die at start ("value out of range for type
 * smallint"). The kernel's free ports (32768+ on Linux) are therefore no good for them.
 */
const MAX_MEMBERSHIP_PORT = 32767;
const MEMBERSHIP_KEYS = ['frontendMembership', 'historyMembership', 'matchingMembership', 'workerMembership'] as const;

async function freeLowPort(taken: Set<number>): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = 20000 + Math.floor(Math.random() * (MAX_MEMBERSHIP_PORT - 20000));
    if (!taken.has(port) && (await portFree(port))) return port;
  }
  throw new Error('no free port between 20000 and 32767 for the membership ports');
}

/** Free ports for every entry, membership ports below 32768. */
async function autoPorts(): Promise<ClusterPorts> {
  const ports = {} as ClusterPorts;
  const taken = new Set<number>();
  for (const n of Object.keys(portLayout()) as (keyof ClusterPorts)[]) {
    let port = (MEMBERSHIP_KEYS as readonly string[]).includes(n) ? await freeLowPort(taken) : await freePort();
    while (taken.has(port)) port = await freePort();
    taken.add(port);
    ports[n] = port;
  }
  return ports;
}

/** The ports asked for: a full or partial set (the rest from {@link portLayout}), or `'auto'` for free ones. */
export async function resolvePorts(p: Partial<ClusterPorts> | 'auto' | undefined): Promise<ClusterPorts> {
  const ports = p === 'auto' ? await autoPorts() : { ...portLayout(p?.frontend ?? 7233, p?.postgres ?? 5433, p?.ui ?? 8233), ...p };
  const tooHigh = MEMBERSHIP_KEYS.filter((k) => ports[k] > MAX_MEMBERSHIP_PORT);
  if (tooHigh.length) {
    throw new Error(
      `membership port${tooHigh.length > 1 ? 's' : ''} ${tooHigh.map((k) => `${k}=${ports[k]}`).join(', ')} above ${MAX_MEMBERSHIP_PORT}: ` +
        'Temporal stores them in a PostgreSQL SMALLINT column (use a frontend port of at most 33061, or set the membership ports)',
    );
  }
  return ports;
}

/** Throws one line naming every port (of those the cluster will use) that something already holds. */
export async function assertPortsFree(ports: ClusterPorts, withUi: boolean): Promise<void> {
  const wanted = (Object.entries(ports) as [keyof ClusterPorts, number][]).filter(([k]) => k !== 'ui' || withUi);
  const busy: string[] = [];
  for (const [name, port] of wanted) if (!(await portFree(port))) busy.push(`${port} (${name})`);
  if (!busy.length) return;
  throw new Error(
    `port${busy.length > 1 ? 's' : ''} ${busy.join(', ')} already in use on 127.0.0.1: stop what holds ${busy.length > 1 ? 'them' : 'it'} ` +
      '(another cluster, or `npm run server`?) or choose other ports (npm run cluster -- --port N / --pg-port N / --ui-port N)',
  );
}
