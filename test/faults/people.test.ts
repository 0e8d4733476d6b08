/**
 * People take their time; workers do not wait for them: a run waiting for approval, and a
 * session between exchanges, survive their worker being SIGKILLed — the decision or the next
 * message is answered by whichever worker runs next.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { text, toolUses } from '../../devtools/fake-api/replies.js';
import { startFaultWorld, until, type FaultWorld } from './world.js';

let w: FaultWorld;
beforeEach(async () => {
  w = await startFaultWorld();
});
afterEach(async () => {
  expect(w.fake.problems).toEqual([]);
  await w.close();
});

it('worker SIGKILLed while a call waits for approval; a new worker runs it once approved', async () => {
  const first = await w.startWorker();
  w.fake.script(toolUses([{ name: 'payment', input: { amount: 12 }, id: 'toolu_kill' }]), text('Paid after all.'));
  const run = await w.runner.start('gatekeeper', 'pay 12');
  await until('the call to wait', async () => (await w.runner.state(run.workflowId)).pendingApprovals.length === 1);
  first.kill('SIGKILL');
  await first.exited;
  // Nothing runs while it waits: no worker is needed until someone decides.
  await new Promise((r) => setTimeout(r, 1_000));
  const second = await w.startWorker();
  await w.runner.approve(run.workflowId, { by: 'night shift' });
  const r = await run.result();
  expect(r).toMatchObject({ status: 'completed', finalText: 'Paid after all.' });
  const runs = w.toolEvents().filter((e) => e.tool === 'payment');
  expect(runs).toHaveLength(1);
  expect(runs[0]?.pid).toBe(second.child.pid);
});

it('a session lives on through a worker restart between exchanges', async () => {
  const first = await w.startWorker();
  w.fake.script(text('Hello!'), text('Still here.'), text('Bye.'));
  const sid = `session-restart-${Date.now()}`;
  expect((await w.runner.send(sid, 'hi', { agent: 'toolbox' })).reply).toBe('Hello!');
  first.kill('SIGKILL');
  await first.exited;
  await w.startWorker();
  expect((await w.runner.send(sid, 'are you there?')).reply).toBe('Still here.');
  expect((await w.runner.send(sid, 'bye')).exchange).toBe(3);
  await w.runner.endSession(sid);
  const r = await (await w.runner.get(sid)).result();
  expect(r).toMatchObject({ status: 'completed', stopReason: 'session_ended', turns: 3 });
});
