/**
 * `npm run server`: the Temporal dev server for this project, in the foreground.
 * gRPC on TEMPORAL_ADDRESS's port (7233), Web UI on :8233, state kept in .temporal/dev.db,
 * the project's search attributes registered. Ctrl-C stops it.
 */
import { fileURLToPath } from 'node:url';
import { runnerSettings } from '../client/settings.js';
import { startDevServer, temporalAnswers } from './dev-server.js';

const DB_FILE = fileURLToPath(new URL('../.temporal/dev.db', import.meta.url));

async function run(): Promise<void> {
  const s = runnerSettings();
  if (await temporalAnswers(s.connection.address, s.namespace)) {
    throw new Error(`a Temporal server already answers at ${s.connection.address}: use it, or stop it first`);
  }
  const port = Number(s.connection.address.split(':').pop());
  const uiPort = Number(new URL(s.uiUrl).port || 8233);
  const server = await startDevServer({
    port,
    uiPort,
    dbFile: DB_FILE,
    namespace: s.namespace,
    log: (l) => console.log(l),
    onLog: (l) => console.log(`[temporal] ${l}`),
  });
  console.log(`Temporal dev server on ${server.address} (namespace ${server.namespace}), state in .temporal/dev.db`);
  console.log(`Web UI: ${server.uiUrl}`);
  console.log('Ctrl-C to stop.');
  const stop = () => void server.stop().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  server.process.once('exit', (code) => {
    console.error(`error: the Temporal dev server exited (code ${code})`);
    process.exit(1);
  });
}

run().catch((e: unknown) => {
  console.error(`error: ${(e as Error).message}`);
  process.exit(1);
});
