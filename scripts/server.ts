/**
 * `npm run server`: the Temporal dev server for this project, in the foreground.
 * gRPC on TEMPORAL_ADDRESS's port (7233), Web UI on :8233, state kept in .temporal/dev.db,
 * the project's search attributes registered, and the codec server on :8888
 * (AGENT_RUNNER_CODEC_PORT) so the UI shows compressed/encrypted payloads decoded. Ctrl-C stops it.
 */
import { fileURLToPath } from 'node:url';
import { runnerSettings } from '../connection/settings.js';
import { startCodecServer } from '../connection/codec-server.js';
import { codecSettingsFromEnv, payloadCodecs } from '../connection/codecs.js';
import { startDevServer, temporalAnswers } from './dev-server.js';

const DB_FILE = fileURLToPath(new URL('../.temporal/dev.db', import.meta.url));

async function run(): Promise<void> {
  const s = runnerSettings();
  if (await temporalAnswers(s.connection.address, s.namespace)) {
    throw new Error(`a Temporal server already answers at ${s.connection.address}: use it, or stop it first`);
  }
  const port = Number(s.connection.address.split(':').pop());
  const uiPort = Number(new URL(s.uiUrl).port || 8233);
  const codecPort = Number(process.env.AGENT_RUNNER_CODEC_PORT || 8888);
  const codec = await startCodecServer({
    codecs: payloadCodecs(codecSettingsFromEnv()),
    port: codecPort,
    allowedOrigins: [`http://localhost:${uiPort}`, `http://127.0.0.1:${uiPort}`],
  }).catch((e: Error) => {
    throw new Error(`cannot start the codec server on port ${codecPort} (${e.message}): free it or set AGENT_RUNNER_CODEC_PORT`);
  });
  const server = await startDevServer({
    codecEndpoint: `http://localhost:${codecPort}`,
    port,
    uiPort,
    dbFile: DB_FILE,
    namespace: s.namespace,
    log: (l) => console.log(l),
    onLog: (l) => console.log(`[temporal] ${l}`),
  });
  console.log(`Temporal dev server on ${server.address} (namespace ${server.namespace}), state in .temporal/dev.db`);
  console.log(`Web UI: ${server.uiUrl} (payloads decoded by the codec server at ${codec.url})`);
  console.log('Ctrl-C to stop.');
  const stop = () => void Promise.all([server.stop(), codec.close()]).then(() => process.exit(0));
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
