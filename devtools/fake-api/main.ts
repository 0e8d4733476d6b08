/**
 * `npm run fake-api`: the offline scripted Messages API on its own, for running `npm run worker`
 * and the CLI without a Claude key. It prints the two variables a worker needs; it binds to
 * loopback and requires the key it prints.
 *
 *   npm run fake-api                  # prints ANTHROPIC_BASE_URL=… ANTHROPIC_API_KEY=…
 *   ANTHROPIC_BASE_URL=… ANTHROPIC_API_KEY=… npm run worker
 *
 * FAKE_API_PORT fixes the port; FAKE_API_LATENCY_MS delays every answer and
 * FAKE_API_CHUNK_DELAY_MS every streamed event (a slow model, to watch or cancel a run).
 */
import { randomBytes } from 'node:crypto';
import { demoBrain } from './demo-brain.js';
import { FakeMessagesApi } from './server.js';

const port = Number(process.env.FAKE_API_PORT ?? 0);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`error: FAKE_API_PORT must be a port number, got "${process.env.FAKE_API_PORT}"`);
  process.exit(2);
}
const latencyMs = Number(process.env.FAKE_API_LATENCY_MS ?? 0);
if (!Number.isFinite(latencyMs) || latencyMs < 0) {
  console.error(`error: FAKE_API_LATENCY_MS must be a number of milliseconds, got "${process.env.FAKE_API_LATENCY_MS}"`);
  process.exit(2);
}
const chunkDelayMs = Number(process.env.FAKE_API_CHUNK_DELAY_MS ?? 0);
if (!Number.isFinite(chunkDelayMs) || chunkDelayMs < 0) {
  console.error(`error: FAKE_API_CHUNK_DELAY_MS must be a number of milliseconds, got "${process.env.FAKE_API_CHUNK_DELAY_MS}"`);
  process.exit(2);
}
const apiKey = `offline-${randomBytes(12).toString('hex')}`;
const api = await FakeMessagesApi.start({ brain: demoBrain, apiKey, port, latencyMs, chunkDelayMs });
console.log(`scripted Messages API (offline; plays triage, researcher and concierge) at ${api.url}`);
console.log(`ANTHROPIC_BASE_URL=${api.url} ANTHROPIC_API_KEY=${apiKey} npm run worker`);
const stop = () => void api.close().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
