/**
 * Scale-out: two worker processes on one task queue share the runs, and the runs survive the
 * loss of either worker.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { FakeReply, RecordedRequest } from '../../devtools/fake-api/server.js';
import { triageBrain } from '../../devtools/fake-api/triage-brain.js';
import { startFaultWorld, until, type FaultWorld } from './world.js';

let w: FaultWorld;
beforeEach(async () => {
  // Every model reply streams for ~0.5 s, so runs overlap and a kill lands mid-work.
  const brain = (req: RecordedRequest): FakeReply => ({
    ...(triageBrain(req) as Extract<FakeReply, { kind: 'message' }>),
    chunks: 5,
    chunkDelayMs: 100,
  });
  w = await startFaultWorld({ fake: { brain } });
});
afterEach(async () => {
  expect(w.fake.problems).toEqual([]);
  await w.close();
});

/** Process ids of the workers that ran each run's activities, from the history's identities. */
async function workerPids(workflowId: string): Promise<Set<number>> {
  const history = await w.client.workflow.getHandle(workflowId).fetchHistory();
  const pids = new Set<number>();
  for (const e of history.events ?? []) {
    const identity = e.activityTaskStartedEventAttributes?.identity ?? e.workflowTaskStartedEventAttributes?.identity;
    if (identity) pids.add(Number(identity.split('@')[0]));
  }
  return pids;
}

async function startRuns(n: number, tag: string) {
  return Promise.all(
    Array.from({ length: n }, (_, i) =>
      w.runner.start('triage', `Where are my orders 48810 and 5120${i % 10}?`, { workflowId: `${tag}-${i}-${Date.now()}` }),
    ),
  );
}

it('runs spread over two workers and survive the loss of either', async () => {
  const a = await w.startWorker();
  const b = await w.startWorker();

  // Phase 1: A dies while 12 runs are under way; B (then C) finishes them.
  const first = await startRuns(12, 'spread');
  await until('both workers to be busy', () => w.fake.requests.length >= 8);
  a.kill('SIGKILL');
  await a.exited;
  const c = await w.startWorker();
  const results1 = await Promise.all(first.map((r) => r.result()));
  expect(results1.map((r) => r.status)).toEqual(Array(12).fill('completed'));
  const used1 = new Set<number>();
  for (const r of first) for (const pid of await workerPids(r.workflowId)) used1.add(pid);
  expect(used1.has(a.child.pid!)).toBe(true); // A took work before it died…
  expect(used1.has(b.child.pid!)).toBe(true); // …and so did B.

  // Phase 2: now B dies mid-work; C carries on alone.
  const second = await startRuns(8, 'survive');
  await until('work under way', () => w.fake.requests.length >= 12 * 2 + 4);
  b.kill('SIGKILL');
  await b.exited;
  const results2 = await Promise.all(second.map((r) => r.result()));
  expect(results2.map((r) => r.status)).toEqual(Array(8).fill('completed'));
  for (const r of results2) expect(r.finalText).toContain('Order 48810 is shipped');
  const used2 = new Set<number>();
  for (const r of second) for (const pid of await workerPids(r.workflowId)) used2.add(pid);
  expect(used2.has(c.child.pid!)).toBe(true);
  console.log(`scale-out: phase 1 workers ${[...used1].join(', ')}; phase 2 workers ${[...used2].join(', ')}`);
}, 180_000);
