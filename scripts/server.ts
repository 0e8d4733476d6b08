/**
 * `npm run server`: the Temporal dev server for this project, in the foreground.
 * gRPC on TEMPORAL_ADDRESS's port (7233), Web UI on :8233, state kept in .temporal/dev.db
 * (AGENT_RUNNER_DEV_DB), the project's search attributes registered, and the codec server on
 * :8888 (AGENT_RUNNER_CODEC_PORT) so the UI shows compressed/encrypted payloads decoded. Ctrl-C
 * stops it.
 *
 * This process only supervises. The codec server decodes whatever reaches it, so it runs as a
 * child process (`agent-runner codec-server`): if it dies, this process says so in one line and
 * starts it again, and the dev server goes on. Both children end when this process ends, even
 * when it is SIGKILLed (scripts/child-guard.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runnerSettings } from '../connection/settings.js';
import { endWithThisProcess } from './child-guard.js';
import { startDevServer, temporalAnswers } from './dev-server.js';

const DEFAULT_DB_FILE = fileURLToPath(new URL('../.temporal/dev.db', import.meta.url));
const BIN = fileURLToPath(new URL('../client/bin.mjs', import.meta.url));
/** A codec server that ran this long before dying is restarted at once again. */
const HEALTHY_MS = 60_000;
const MAX_RESTART_DELAY_MS = 30_000;

/** The codec server as a supervised child process. */
class CodecServerChild {
  private child: ChildProcess | undefined;
  private stopping = false;
  /** Deaths in a row, each within HEALTHY_MS of its start: the restart delay doubles with each. */
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly port: number,
    private readonly uiPort: number,
  ) {}

  /** Start it; resolves once it listens, rejects (with its own error line) if it exits before. */
  start(): Promise<void> {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      AGENT_RUNNER_CODEC_ORIGINS: `http://localhost:${this.uiPort},http://127.0.0.1:${this.uiPort}`,
    };
    // The dev server's UI (plain http) cannot send a bearer token; loopback and the Host check guard it.
    delete env.AGENT_RUNNER_CODEC_TOKEN;
    delete env.AGENT_RUNNER_CODEC_ALLOW_NO_TOKEN;
    const child = spawn(process.execPath, [BIN, 'codec-server', '--host', '127.0.0.1', '--port', String(this.port)], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    endWithThisProcess(child);
    const startedAt = Date.now();
    let lastError = '';
    let ready = false;
    return new Promise((resolveReady, rejectReady) => {
      const onLine = (chunk: Buffer) => {
        for (const line of chunk.toString('utf8').split('\n')) {
          if (!line.trim()) continue;
          console.log(`[codec-server pid ${child.pid}] ${line}`);
          if (line.startsWith('error:')) lastError = line.slice('error:'.length).trim();
          if (!ready && line.startsWith('codec server on ')) {
            ready = true;
            resolveReady();
          }
        }
      };
      child.stdout?.on('data', onLine);
      child.stderr?.on('data', onLine);
      child.on('error', (e) => (lastError = e.message));
      child.once('exit', (code, signal) => {
        const how = signal ? `signal ${signal}` : `code ${code}`;
        if (!ready) return rejectReady(new Error(lastError || `it exited (${how})`));
        if (this.stopping) return;
        this.failures = Date.now() - startedAt >= HEALTHY_MS ? 1 : this.failures + 1;
        console.error(`codec server (pid ${child.pid}) exited (${how}); restarting it in ${this.delay() / 1000} s`);
        this.restartLater();
      });
    });
  }

  private delay(): number {
    return Math.min(MAX_RESTART_DELAY_MS, 500 * 2 ** Math.max(0, this.failures - 1));
  }

  private restartLater(): void {
    this.timer = setTimeout(() => {
      if (this.stopping) return;
      this.start().catch((e: Error) => {
        this.failures++;
        console.error(`codec server did not start again (${e.message}); trying again in ${this.delay() / 1000} s`);
        this.restartLater();
      });
    }, this.delay());
  }

  /** Stop it (SIGTERM, then SIGKILL after 5 s) and stop restarting it. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const kill = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(kill);
  }
}

async function run(): Promise<void> {
  const s = runnerSettings();
  if (await temporalAnswers(s.connection.address, s.namespace)) {
    throw new Error(`a Temporal server already answers at ${s.connection.address}: use it, or stop it first`);
  }
  const port = Number(s.connection.address.split(':').pop());
  const uiPort = Number(new URL(s.uiUrl).port || 8233);
  const codecPort = Number(process.env.AGENT_RUNNER_CODEC_PORT || 8888);
  const dbFile = process.env.AGENT_RUNNER_DEV_DB ? resolve(process.env.AGENT_RUNNER_DEV_DB) : DEFAULT_DB_FILE;
  const codec = new CodecServerChild(codecPort, uiPort);
  await codec.start().catch((e: Error) => {
    throw new Error(`cannot start the codec server on port ${codecPort} (${e.message}): free it or set AGENT_RUNNER_CODEC_PORT`);
  });
  const server = await startDevServer({
    codecEndpoint: `http://localhost:${codecPort}`,
    port,
    uiPort,
    dbFile,
    namespace: s.namespace,
    log: (l) => console.log(l),
    onLog: (l) => console.log(`[temporal] ${l}`),
  }).catch(async (e: unknown) => {
    await codec.stop();
    throw e;
  });
  console.log(`Temporal dev server (pid ${server.process.pid}) on ${server.address} (namespace ${server.namespace}), state in ${dbFile}`);
  console.log(`Web UI: ${server.uiUrl} (payloads decoded by the codec server at http://localhost:${codecPort})`);
  console.log('Ctrl-C to stop.');
  let stopping = false;
  const stop = () => {
    stopping = true;
    void Promise.all([server.stop(), codec.stop()]).then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  server.process.once('exit', (code, signal) => {
    if (stopping) return;
    console.error(`error: the Temporal dev server exited (${signal ? `signal ${signal}` : `code ${code}`})`);
    void codec.stop().then(() => process.exit(1));
  });
}

run().catch((e: unknown) => {
  console.error(`error: ${(e as Error).message}`);
  process.exit(1);
});
