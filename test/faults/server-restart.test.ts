/**
 * Fault 3: the Temporal dev server is killed (SIGKILL) and restarted on the same SQLite file
 * while a run is under way: the run completes, and its side effect happens once.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { freePort, startDevServer, type DevServer } from '../../scripts/dev-server.js';
import { text, toolUses } from '../../devtools/fake-api/replies.js';
import { startFaultWorld, until, type FaultWorld } from './world.js';

let server: DevServer;
let port: number;
let dbFile: string;
let w: FaultWorld;

beforeAll(async () => {
  port = await freePort();
  dbFile = join(mkdtempSync(join(tmpdir(), 'agent-runner-db-')), 'temporal.db');
  server = await startDevServer({ port, uiPort: false, dbFile });
  w = await startFaultWorld({ address: server.address });
});
afterAll(async () => {
  await w?.close();
  await server?.stop();
});

it('3. the server is killed and restarted on the same database mid-run: the run completes', async () => {
  await w.startWorker();
  w.fake.script(
    toolUses([{ name: 'slow_ticket', input: { summary: 'server restart', delay_ms: 4_000 }, id: 'toolu_r' }]),
    text('Your ticket is open.'),
    text('Your ticket is open.'),
  );
  const run = await w.runner.start('toolbox', 'open a ticket');
  await until('the tool to run', () => w.toolEvents().some((e) => e.tool === 'slow_ticket'));

  const downAt = Date.now();
  server.process.kill('SIGKILL');
  await new Promise<void>((r) => server.process.once('exit', () => r()));
  await new Promise((r) => setTimeout(r, 1_000));
  server = await startDevServer({ port, uiPort: false, dbFile });
  console.log(`fault 3: server down for ${Date.now() - downAt} ms`);

  const r = await run.result();
  console.log(`fault 3: run completed ${Date.now() - downAt} ms after the kill`);
  expect(r).toMatchObject({ status: 'completed', finalText: 'Your ticket is open.' });
  expect(w.tickets().map((t) => t.idempotency_key)).toEqual([`${run.workflowId}/toolu_r`]);
  // The worker process lived through it.
  expect(w.workers[0]?.child.exitCode).toBeNull();
});
