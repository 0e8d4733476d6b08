/**
 * With encryption on, failures are encrypted too: an error's message and stack trace (a tool's
 * error text, a model API message that may quote the conversation) are moved into the failure's
 * encoded attributes, which the codecs encrypt. Checked where it matters, in the bytes of the
 * Temporal server's SQLite database; a run with encryption off is the control that shows the
 * check can see a leak. Clients and `agent-runner show` still read the real messages.
 */
import { Client, Connection } from '@temporalio/client';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { stuckRuns } from '../support/no-stuck-tasks.js';
import { AgentRunner } from '../../client/runner.js';
import { codecSettingsFromEnv, dataConverter } from '../../connection/codecs.js';
import { invalidRequest, text, toolUses } from '../../devtools/fake-api/replies.js';
import { startDevServer, type DevServer } from '../../scripts/dev-server.js';
import { runCli } from '../support/cli.js';
import { spawnWorker } from '../support/worker-process.js';
import { FAULT_API_KEY, startFaultWorld, type FaultWorld } from './world.js';

const AGENTS = fileURLToPath(new URL('./fixtures/leaky-agent.ts', import.meta.url));
const KEY_ENV = { AGENT_RUNNER_ENCRYPTION_KEY: randomBytes(32).toString('base64'), AGENT_RUNNER_ENCRYPTION_KEY_ID: 'k1' };
const canary = (what: string) => `${what}-${randomUUID()}`;

let server: DevServer;
let dbFile: string;
let connection: Connection;
const worlds: FaultWorld[] = [];

beforeAll(async () => {
  dbFile = join(mkdtempSync(join(tmpdir(), 'agent-runner-failures-')), 'temporal.db');
  server = await startDevServer({ uiPort: false, dbFile });
  connection = await Connection.connect({ address: server.address });
});
afterAll(async () => {
  for (const w of worlds) await w.close();
  await connection?.close();
  await server?.stop();
});

/** Every byte the server stored: the database file and its write-ahead log. */
function stored(): Buffer {
  return Buffer.concat([dbFile, `${dbFile}-wal`].filter(existsSync).map((f) => readFileSync(f)));
}

/** A world whose worker process has these codec settings and tells the tool's secret. */
async function world(env: Record<string, string>, toolSecret: string) {
  const w = await startFaultWorld({ address: server.address });
  worlds.push(w);
  await w.startWorker({ ...env, AGENT_RUNNER_AGENTS: AGENTS, AGENT_RUNNER_TEST_CANARY: toolSecret });
  const client = new Client({ connection, dataConverter: dataConverter(codecSettingsFromEnv(env)) });
  const runner = await AgentRunner.connect({ client, settings: { taskQueue: w.taskQueue } });
  const cliEnv = { PATH: process.env.PATH, HOME: process.env.HOME, TEMPORAL_ADDRESS: server.address, ...env };
  return { w, runner, cliEnv };
}

it('with encryption on, no failure message or stack trace reaches the database in clear; off, they do', async () => {
  const toolSecret = canary('tool-secret');
  const apiSecret = canary('api-secret');
  const plainSecret = canary('plain-secret');
  const enc = await world(KEY_ENV, toolSecret);
  const plain = await world({}, plainSecret);

  // A tool that throws (retried, then is_error), and a model call the API refuses (the run fails).
  enc.w.fake.script(toolUses([{ name: 'charge_card', input: {}, id: 'toolu_c' }]), text('The card was declined.'));
  const toolRun = await enc.runner.start('leaky', 'Charge my card.');
  expect(await toolRun.result()).toMatchObject({ status: 'completed', finalText: 'The card was declined.' });
  enc.w.fake.script(invalidRequest(`messages.0.content: unexpected text "${apiSecret}"`));
  const apiRun = await enc.runner.start('leaky', 'Charge my card again.');
  const failed = await apiRun.result();
  expect(failed.status).toBe('failed');
  expect(failed.error).toContain(apiSecret); // the client, with the key, reads the real message

  plain.w.fake.script(toolUses([{ name: 'charge_card', input: {}, id: 'toolu_p' }]), text('The card was declined.'));
  expect(await plain.runner.start('leaky', 'Charge my card.').then((r) => r.result())).toMatchObject({ status: 'completed' });

  // The control: without encryption the tool's error text is stored in clear, so the search works.
  const db = stored();
  const inClear = { plainSecret: db.includes(plainSecret), toolSecret: db.includes(toolSecret), apiSecret: db.includes(apiSecret) };
  expect(inClear).toEqual({ plainSecret: true, toolSecret: false, apiSecret: false });

  // `agent-runner show` (client/run-story.ts) decodes the encoded failures with the client's key.
  const toolStory = await runCli(enc.cliEnv, 'show', toolRun.workflowId);
  expect(toolStory.stdout).toMatch(
    new RegExp(`✗ tool charge_card \\{\\} failed after 2 attempt\\(s\\) \\(.*\\): card declined for ${toolSecret}\n`),
  );
  const apiStory = await runCli(enc.cliEnv, 'show', apiRun.workflowId);
  expect(apiStory.stdout).toMatch(
    new RegExp(`✗ model call \\(turn 1\\) failed after 1 attempt\\(s\\) \\(.*\\): Anthropic API 400 .*${apiSecret}`),
  );
  expect(apiStory.stdout).toMatch(new RegExp(`run failed: Anthropic API 400 .*${apiSecret}`));
  expect(toolStory.stdout + apiStory.stdout).not.toContain('Encoded failure');
});

it('a worker that bundles its workflows at start encodes workflow failures too; a prebuilt bundle that cannot is refused', async () => {
  const apiSecret = canary('bundled-at-start-secret');
  const w = await startFaultWorld({ address: server.address });
  worlds.push(w);
  await w.startWorker({ ...KEY_ENV, AGENT_RUNNER_AGENTS: AGENTS, AGENT_RUNNER_WORKFLOW_BUNDLE: '' });
  const client = new Client({ connection, dataConverter: dataConverter(codecSettingsFromEnv(KEY_ENV)) });
  const runner = await AgentRunner.connect({ client, settings: { taskQueue: w.taskQueue } });
  w.fake.script(invalidRequest(`unexpected text "${apiSecret}"`));
  const r = await (await runner.start('leaky', 'Charge my card.')).result();
  expect(r.error).toContain(apiSecret);
  expect(stored().includes(apiSecret)).toBe(false);

  const foreign = join(mkdtempSync(join(tmpdir(), 'agent-runner-bundle-')), 'bundle.js');
  writeFileSync(foreign, 'var __TEMPORAL__; // a bundle built without connection/workflow-failures.cjs\n');
  const refused = spawnWorker({
    address: server.address,
    taskQueue: w.taskQueue,
    baseURL: w.fake.url,
    apiKey: FAULT_API_KEY,
    env: { ...KEY_ENV, AGENT_RUNNER_AGENTS: AGENTS, AGENT_RUNNER_WORKFLOW_BUNDLE: foreign },
  });
  expect(await refused.exited).toBe(1);
  expect(refused.output().trim()).toBe(
    `error: the workflow bundle ${foreign} was built without agent-runner's failure converter, so with encryption on it would store failure messages in clear: rebuild it with \`npm run build:bundle\``,
  );
});

// The suite's no-stuck-run check covers the shared dev server; this file's runs live on its own.
it('no run on this file’s own server has a failed workflow task', async () => {
  expect(await stuckRuns(server.address, new Date(0)), 'runs with a failed workflow task').toEqual([]);
});
