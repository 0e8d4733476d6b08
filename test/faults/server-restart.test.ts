/**
 * Fault 3: the Temporal dev server is killed (SIGKILL) and restarted on the same SQLite file
 * while a run is under way: the run completes, and its side effect happens once. The same while
 * a tool call waits for a person's approval: the wait, its deadline and the decision survive.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { stuckRuns } from '../support/no-stuck-tasks.js';
import { AgentStatus } from '../../contract/search-attributes.js';
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

/** SIGKILL the dev server and start it again on the same port and database; when it went down. */
async function restartServer(): Promise<number> {
  const downAt = Date.now();
  server.process.kill('SIGKILL');
  await new Promise<void>((r) => server.process.once('exit', () => r()));
  await new Promise((r) => setTimeout(r, 1_000));
  server = await startDevServer({ port, uiPort: false, dbFile });
  console.log(`fault 3: server down for ${Date.now() - downAt} ms`);
  return downAt;
}

it('3. the server is killed and restarted on the same database mid-run: the run completes', async () => {
  await w.startWorker();
  w.fake.script(
    toolUses([{ name: 'slow_ticket', input: { summary: 'server restart', delay_ms: 4_000 }, id: 'toolu_r' }]),
    text('Your ticket is open.'),
    text('Your ticket is open.'),
  );
  const run = await w.runner.start('toolbox', 'open a ticket');
  await until('the tool to run', () => w.toolEvents().some((e) => e.tool === 'slow_ticket'));

  const downAt = await restartServer();

  const r = await run.result();
  console.log(`fault 3: run completed ${Date.now() - downAt} ms after the kill`);
  expect(r).toMatchObject({ status: 'completed', finalText: 'Your ticket is open.' });
  expect(w.tickets().map((t) => t.idempotency_key)).toEqual([`${run.workflowId}/toolu_r`]);
  // The worker process lived through it.
  expect(w.workers[0]?.child.exitCode).toBeNull();
});

it('3b. the server is killed and restarted while a call waits for approval: the wait and its deadline survive, the approved call runs once', async () => {
  if (w.workers.length === 0) await w.startWorker();
  w.fake.clear(); // the spare reply 3 scripted for a retry
  w.fake.script(toolUses([{ name: 'payment', input: { amount: 77 }, id: 'toolu_wait' }]), text('Paid 77.'));
  const run = await w.runner.start('gatekeeper', 'pay 77');
  const [waiting] = await until('the call to wait', async () => {
    const s = await w.runner.state(run.workflowId);
    return s.pendingApprovals.length === 1 && s.pendingApprovals;
  });
  // Once the status is upserted, the workflow task that began the wait is in the database.
  await until('AgentStatus', async () => (await run.temporal.describe()).typedSearchAttributes.get(AgentStatus) === 'awaiting_approval');

  await restartServer();

  const after = await until('the server to answer the state query', () => w.runner.state(run.workflowId).catch(() => undefined));
  expect(after.phase).toBe('awaiting_approval');
  expect(after.pendingApprovals).toEqual([waiting]); // same call, input hash, since and deadline
  expect(w.toolEvents().filter((e) => e.tool === 'payment' && e.key === `${run.workflowId}/toolu_wait`)).toEqual([]);
  await w.runner.approve(run.workflowId, { by: 'after the restart' });
  const r = await run.result();
  expect(r).toMatchObject({ status: 'completed', finalText: 'Paid 77.' });
  expect(w.toolEvents().filter((e) => e.tool === 'payment' && e.key === `${run.workflowId}/toolu_wait`)).toHaveLength(1);
  expect(w.workers[0]?.child.exitCode).toBeNull();
});

// The suite's no-stuck-run check covers the shared dev server; this file's runs live on its own.
it('no run on this file’s own server has a failed workflow task', async () => {
  expect(await stuckRuns(server.address, new Date(0)), 'runs with a failed workflow task').toEqual([]);
});
