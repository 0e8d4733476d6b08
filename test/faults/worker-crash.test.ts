/**
 * Faults 1, 2 and 4: a worker process killed (SIGKILL) while a model call streams, while a tool
 * runs, right after a tool's side effect; and stopped (SIGTERM) mid-model-call. Another worker
 * process takes the run over; side effects stay exactly-once through the idempotency key.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { text, toolUses } from '../../devtools/fake-api/replies.js';
import type { FakeReply, RecordedRequest } from '../../devtools/fake-api/server.js';
import { triageBrain } from '../../devtools/fake-api/triage-brain.js';
import { activityEvents } from '../support/history.js';
import { startFaultWorld, until, type FaultWorld } from './world.js';

let w: FaultWorld;
beforeEach(async () => {
  w = await startFaultWorld();
});
afterEach(async () => {
  expect(w.fake.problems).toEqual([]);
  await w.close();
});

/** The triage brain, streaming slowly (≈ chunks × delay). */
const slowBrain =
  (chunks: number, delayMs: number) =>
  (req: RecordedRequest): FakeReply => ({
    ...(triageBrain(req) as Extract<FakeReply, { kind: 'message' }>),
    chunks,
    chunkDelayMs: delayMs,
  });

it('1. SIGKILL while a model call streams: a new worker takes over and the answer is the same', async () => {
  const w1 = await w.startWorker();
  w.fake.script(slowBrain(60, 200), triageBrain, triageBrain); // first answer would stream for ~12 s
  const run = await w.runner.start('triage', 'Where is my order 48810?');
  await until('the model call to stream', () => w.fake.requests.length === 1);
  await new Promise((r) => setTimeout(r, 700));
  const killedAt = Date.now();
  w1.kill('SIGKILL');
  expect(await w1.exited).toBe('SIGKILL');

  const t0 = Date.now();
  await w.startWorker();
  const moving = await until('the retried model call', () => w.fake.requests[1]?.receivedAt, 30_000);
  const r = await run.result();
  const recoveryMs = moving - t0;
  console.log(
    `fault 1: new worker start → run moving again: ${recoveryMs} ms; kill → moving: ${moving - killedAt} ms (heartbeat timeout 3 s)`,
  );

  expect(r.status).toBe('completed');
  expect(r.finalText).toBe('Order 48810 is shipped, estimated delivery 2026-05-24.');
  const calls = (await activityEvents(w.client, run.workflowId)).filter((e) => e.activityType === 'callModel');
  expect(calls.map((c) => c.attempt)).toEqual([2, 1]);
  // Bounded by the heartbeat timeout (3 s) plus scheduling.
  expect(recoveryMs).toBeLessThan(3_000 + 2_000);
});

it("1b. with the default policy (liveness 5 s apart from the 30 s stall limit), a killed worker's call is retried within seconds", async () => {
  const w1 = await w.startWorker();
  w.fake.script(slowBrain(60, 200), triageBrain, triageBrain);
  const run = await w.runner.start('triage-defaults', 'Where is my order 48810?');
  await until('the model call to stream', () => w.fake.requests.length === 1);
  await new Promise((r) => setTimeout(r, 700));
  const killedAt = Date.now();
  w1.kill('SIGKILL');
  expect(await w1.exited).toBe('SIGKILL');
  await w.startWorker();
  const retriedAt = await until('the retried model call', () => w.fake.requests[1]?.receivedAt, 60_000);
  const r = await run.result();
  console.log(
    `fault 1b (defaults): kill → retried request at the API: ${retriedAt - killedAt} ms (heartbeat timeout 5 s; before: 30 s, ≈ 37 s)`,
  );

  expect(r.status).toBe('completed');
  // What bounds the recovery is the default heartbeat timeout, recorded with the call in history.
  const history = await w.client.workflow.getHandle(run.workflowId).fetchHistory();
  const scheduled = history.events?.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'callModel');
  expect(Number(scheduled?.activityTaskScheduledEventAttributes?.heartbeatTimeout?.seconds)).toBe(5);
  const calls = (await activityEvents(w.client, run.workflowId)).filter((e) => e.activityType === 'callModel');
  expect(calls.map((c) => c.attempt)).toEqual([2, 1]);
});

it('2a. SIGKILL while a tool runs: the finished tool is not rerun, the interrupted one reruns with the same key', async () => {
  const w1 = await w.startWorker();
  w.fake.script(
    toolUses([
      { name: 'echo', input: { text: 'quick', delay_ms: 0 }, id: 'toolu_quick' },
      { name: 'slow_ticket', input: { summary: 'refund', delay_ms: 3_000 }, id: 'toolu_slow' },
    ]),
    text('All done.'),
  );
  const run = await w.runner.start('toolbox', 'two tools');
  await until('echo done and slow_ticket running', async () => {
    const acts = await activityEvents(w.client, run.workflowId);
    const echoDone = acts.some((a) => a.activityType === 'runTool' && a.summary?.startsWith('echo') && a.outcome === 'completed');
    return echoDone && w.toolEvents().some((e) => e.tool === 'slow_ticket' && e.event === 'start');
  });
  w1.kill('SIGKILL');
  await w1.exited;
  const w2 = await w.startWorker();
  const r = await run.result();
  expect(r.status).toBe('completed');

  const key = `${run.workflowId}/toolu_slow`;
  const events = w.toolEvents();
  expect(events.filter((e) => e.tool === 'echo')).toHaveLength(1);
  const slowStarts = events.filter((e) => e.tool === 'slow_ticket' && e.event === 'start');
  expect(slowStarts.map((e) => [e.key, e.attempt, e.pid])).toEqual([
    [key, 1, w1.child.pid],
    [key, 2, w2.child.pid],
  ]);
  expect(w.tickets().map((t) => t.idempotency_key)).toEqual([key]);
});

it('2b. SIGKILL right after the side effect, before its completion is recorded: still one ticket', async () => {
  const w1 = await w.startWorker();
  w.fake.script(
    toolUses([{ name: 'slow_ticket', input: { summary: 'late order', delay_ms: 0, crash_after_ticket: true }, id: 'toolu_t' }]),
    text('Ticket opened.'),
  );
  const run = await w.runner.start('toolbox', 'open a ticket');
  expect(await w1.exited).toBe('SIGKILL');
  await w.startWorker();
  const r = await run.result();
  expect(r.status).toBe('completed');
  const key = `${run.workflowId}/toolu_t`;
  const done = w.toolEvents().filter((e) => e.tool === 'slow_ticket' && e.event === 'done');
  // The tool ran twice (the first completion was never recorded) but created the ticket once.
  expect(done.map((e) => [e.attempt, e.created])).toEqual([
    [1, true],
    [2, false],
  ]);
  expect(new Set(done.map((e) => e.ticket)).size).toBe(1);
  expect(w.tickets().map((t) => t.idempotency_key)).toEqual([key]);
});

it('2c. SIGKILL once a tool completion is recorded, before the next model call: the tool is not rerun', async () => {
  const w1 = await w.startWorker();
  // The next model call may be under way when the worker dies; its retry needs an answer too.
  w.fake.script(toolUses([{ name: 'slow_ticket', input: { summary: 'x', delay_ms: 200 }, id: 'toolu_c' }]), text('Done.'), text('Done.'));
  const run = await w.runner.start('toolbox', 'one ticket');
  await until('the tool completion in history', async () =>
    (await activityEvents(w.client, run.workflowId)).some((a) => a.activityType === 'runTool' && a.outcome === 'completed'),
  );
  w1.kill('SIGKILL');
  await w1.exited;
  await w.startWorker();
  expect((await run.result()).status).toBe('completed');
  expect(w.toolEvents().filter((e) => e.tool === 'slow_ticket' && e.event === 'start')).toHaveLength(1);
  expect(w.tickets()).toHaveLength(1);
});

it('4. SIGTERM mid-model-call: the call finishes within the grace period, nothing is lost or repeated', async () => {
  const w1 = await w.startWorker();
  w.fake.script(slowBrain(10, 200), triageBrain); // ~2 s of streaming, grace is 10 s
  const run = await w.runner.start('triage', 'Where is my order 48811?');
  await until('the model call to stream', () => w.fake.requests.length === 1);
  w1.kill('SIGTERM');
  expect(await w1.exited).toBe(0);
  expect(w1.output()).toContain('worker: stopped');
  // The first model call completed on the stopping worker: recorded, attempt 1, not re-sent.
  const first = (await activityEvents(w.client, run.workflowId)).find((a) => a.activityType === 'callModel');
  expect(first).toMatchObject({ attempt: 1, outcome: 'completed' });
  expect(w.fake.requests).toHaveLength(1);
  await w.startWorker();
  const r = await run.result();
  expect(r).toMatchObject({ status: 'completed', turns: 2 });
  expect(r.finalText).toBe('Order 48811 is processing, estimated delivery 2026-05-30.');
  expect(w.fake.requests).toHaveLength(2);
});
