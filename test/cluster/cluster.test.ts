/**
 * agent-runner on a real Temporal cluster: the server 1.32 built from source, its frontend,
 * history, matching and worker services each a process of its own, on PostgreSQL — as a
 * production install runs them (scripts/cluster.ts). Worker processes, the fake Messages API and
 * the client are the same as everywhere else; only TEMPORAL_ADDRESS differs.
 */
import { Worker } from '@temporalio/worker';
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { dataConverter } from '../../connection/codecs.js';
import { text, toolUses } from '../../devtools/fake-api/replies.js';
import type { FakeReply, RecordedRequest } from '../../devtools/fake-api/server.js';
import { triageBrain } from '../../devtools/fake-api/triage-brain.js';
import { startCluster, type Cluster, type ClusterProcessName } from '../../scripts/cluster.js';
import { startFaultWorld, until, type FaultWorld } from '../faults/world.js';
import { stuckRuns } from '../support/no-stuck-tasks.js';

let cluster: Cluster;
let w: FaultWorld;
const since = new Date(Date.now() - 1000);
const runs: string[] = [];

beforeAll(async () => {
  const started = Date.now();
  // PostgreSQL runs as the postgres user (it refuses root): its folder must be one that user can enter.
  const dataDir = mkdtempSync(join(tmpdir(), 'agent-runner-cluster-'));
  chmodSync(dataDir, 0o755);
  cluster = await startCluster({
    ports: 'auto',
    dataDir,
    logDir: mkdtempSync(join(tmpdir(), 'agent-runner-cluster-logs-')),
    log: (l) => console.log(l),
  });
  console.log(`cluster up at ${cluster.address} in ${Date.now() - started} ms`);
  // Every model reply streams for ~0.5 s, so runs overlap and a kill lands mid-work.
  const brain = (req: RecordedRequest): FakeReply => ({
    ...(triageBrain(req) as Extract<FakeReply, { kind: 'message' }>),
    chunks: 5,
    chunkDelayMs: 100,
  });
  w = await startFaultWorld({ address: cluster.address, fake: { brain } });
}, 600_000);

afterAll(async () => {
  try {
    if (cluster) expect(await stuckRuns(cluster.address, since), 'runs with a failed workflow task').toEqual([]);
  } finally {
    await w?.close();
    await cluster?.stop();
  }
}, 120_000);

it('the triage run, end to end', async () => {
  await w.startWorker();
  const run = await w.runner.start('triage', 'Hi, where are my orders 48810 and 99999?');
  runs.push(run.workflowId);
  const r = await run.result();
  expect(r).toMatchObject({ status: 'completed', stopReason: 'end_turn', turns: 2 });
  expect(r.finalText).toContain('Order 48810 is shipped');
  expect(r.finalText).toContain("couldn't find order 99999");
});

it('two worker processes share the runs while each is killed in turn', async () => {
  for (const worker of w.workers) worker.kill('SIGKILL');
  const a = await w.startWorker();
  const b = await w.startWorker();
  const start = (n: number, tag: string) =>
    Promise.all(
      Array.from({ length: n }, (_, i) =>
        w.runner.start('triage', `Where are orders 48810 and 5120${i}?`, { workflowId: `${tag}-${i}-${Date.now()}` }),
      ),
    );
  const first = await start(6, 'cluster-a');
  runs.push(...first.map((r) => r.workflowId));
  const before = w.fake.requests.length;
  await until('both workers to be busy', () => w.fake.requests.length >= before + 4);
  a.kill('SIGKILL');
  await a.exited;
  await w.startWorker();
  expect((await Promise.all(first.map((r) => r.result()))).map((r) => r.status)).toEqual(Array(6).fill('completed'));
  const second = await start(6, 'cluster-b');
  runs.push(...second.map((r) => r.workflowId));
  const mid = w.fake.requests.length;
  await until('work under way', () => w.fake.requests.length >= mid + 4);
  b.kill('SIGKILL');
  await b.exited;
  expect((await Promise.all(second.map((r) => r.result()))).map((r) => r.status)).toEqual(Array(6).fill('completed'));
});

// Every server process: the four Temporal services (the `worker` service runs Temporal's own
// system workflows) and PostgreSQL, whose restart the services must ride out by reconnecting.
it.each(['history', 'matching', 'frontend', 'worker', 'postgres'] as ClusterProcessName[])(
  'the %s process killed and restarted mid-run on the same database: the run completes, its side effect once',
  async (service) => {
    w.fake.script(
      toolUses([{ name: 'slow_ticket', input: { summary: `${service} restart`, delay_ms: 3_000 }, id: `toolu_${service}` }]),
      text('Ticket open.'),
    );
    const run = await w.runner.start('toolbox', `open a ticket (${service})`);
    runs.push(run.workflowId);
    await until('the tool to run', () => w.toolEvents().some((e) => e.tool === 'slow_ticket' && e.key.endsWith(`toolu_${service}`)));
    const killedAt = Date.now();
    await cluster.killService(service, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 1_000));
    await cluster.restartService(service);
    const r = await run.result();
    console.log(`${service}: killed, restarted, run completed ${Date.now() - killedAt} ms after the kill`);
    expect(r).toMatchObject({ status: 'completed', finalText: 'Ticket open.' });
    expect(w.tickets().filter((t) => t.idempotency_key === `${run.workflowId}/toolu_${service}`)).toHaveLength(1);
  },
);

it('the histories of every run above, fetched from the cluster, replay against the current code', async () => {
  expect(runs.length).toBeGreaterThanOrEqual(18);
  const histories = await Promise.all(
    runs.map(async (id) => ({ workflowId: id, history: await w.client.workflow.getHandle(id).fetchHistory() })),
  );
  const failures: string[] = [];
  for await (const r of Worker.runReplayHistories(
    { workflowBundle: { codePath: inject('workflowBundlePath') }, dataConverter: dataConverter() },
    histories,
  )) {
    if (r.error) failures.push(`${r.workflowId}: ${String(r.error)}`);
  }
  expect(failures).toEqual([]);
});
