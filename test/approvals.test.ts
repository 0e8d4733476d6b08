/**
 * Tool approvals end to end: the run waits (phase, AgentStatus, pending), a person decides through
 * the `decide` update (CLI and library), the decision is bound to the call and its input, and the
 * other calls of the turn run meanwhile.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { inputHash } from '../contract/hash.js';
import { AgentStatus } from '../contract/search-attributes.js';
import { decideUpdate } from '../contract/workflow.js';
import { text, toolUses } from '../devtools/fake-api/replies.js';
import { toolCalls } from './support/agents.js';
import { toolResults as results } from './support/blocks.js';
import { cliEnv, runCli } from './support/cli.js';
import { startHarness, type Harness } from './support/harness.js';
import { activityEvents } from './support/history.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h?.close());
afterEach(() => {
  expect(h.fake.problems).toEqual([]);
  expect(h.fake.pending()).toBe(0);
  h.fake.clear();
});

const cli = (...args: string[]) => runCli(cliEnv(h), ...args);

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const waitingCalls = async (id: string, n = 1) =>
  until(`${n} call(s) waiting`, async () => {
    const s = await h.runner.state(id);
    return s.pendingApprovals.length >= n && s;
  });

describe('a call that needs approval', () => {
  it('waits, shows as awaiting_approval everywhere, and runs once approved; the other call of the turn ran meanwhile', async () => {
    h.fake.script(
      toolUses([
        { name: 'echo', input: { text: 'first' }, id: 'toolu_free' },
        { name: 'payment', input: { amount: 42 }, id: 'toolu_pay' },
      ]),
      text('Paid.'),
    );
    const run = await h.runner.start('gatekeeper', 'pay 42');
    const state = await waitingCalls(run.workflowId);
    expect(state.phase).toBe('awaiting_approval');
    expect(state.pendingApprovals).toEqual([
      expect.objectContaining({ toolUseId: 'toolu_pay', tool: 'payment', input: { amount: 42 }, inputHash: inputHash({ amount: 42 }) }),
    ]);
    // The free call already ran; the gated one did not.
    const before = await activityEvents(h.client, run.workflowId);
    expect(before.filter((a) => a.activityType === 'runTool').map((a) => [a.summary, a.outcome])).toEqual([
      ['echo {"text":"first"}', 'completed'],
    ]);
    await until('AgentStatus', async () => (await run.temporal.describe()).typedSearchAttributes.get(AgentStatus) === 'awaiting_approval');
    expect((await h.runner.list({ status: 'awaiting_approval' })).map((r) => r.workflowId)).toContain(run.workflowId);
    const pending = await cli('pending', '--json');
    expect(pending.code).toBe(0);
    expect((JSON.parse(pending.stdout) as { pending: { workflowId: string; tool: string }[] }).pending).toContainEqual(
      expect.objectContaining({ workflowId: run.workflowId, tool: 'payment', toolUseId: 'toolu_pay' }),
    );
    const approved = await cli('approve', run.workflowId, '--by', 'alice', '--reason', 'known customer');
    expect(approved.code).toBe(0);
    expect(approved.stdout).toMatch(/^approved payment \{"amount":42\} \(toolu_pay\) in .*, after \d/);
    const r = await run.result();
    expect(r).toMatchObject({ status: 'completed', finalText: 'Paid.' });
    expect(results(r.messages[2]).map((b) => [b.tool_use_id, b.content])).toEqual([
      ['toolu_free', 'echo: first'],
      ['toolu_pay', 'paid 42'],
    ]);
    expect(toolCalls.filter((c) => c.key === `${run.workflowId}/toolu_pay`)).toHaveLength(1);
    // watch tells the wait and the decision, who made it and after how long.
    const story = await cli('show', run.workflowId);
    expect(story.stdout).toMatch(/⏸ awaiting approval: payment \{"amount":42\} \(toolu_pay\)/);
    expect(story.stdout).toMatch(/✓ approved: payment \(toolu_pay\) by alice after [\d.]+ m?s: known customer/);
  });

  it('waiting costs nothing: no history event for 3 s, no pending activity, one open timer (the deadline)', async () => {
    h.fake.script(toolUses([{ name: 'payment', input: { amount: 3 }, id: 'toolu_idle' }]), text('Paid 3.'));
    const run = await h.runner.start('gatekeeper', 'pay 3');
    const [waiting] = (await waitingCalls(run.workflowId)).pendingApprovals;
    // The status is upserted by the workflow task that began the wait: once it shows, that task is done.
    await until('AgentStatus', async () => (await run.temporal.describe()).typedSearchAttributes.get(AgentStatus) === 'awaiting_approval');
    const history = async () => (await run.temporal.fetchHistory()).events ?? [];
    const before = await history();
    await new Promise((r) => setTimeout(r, 3_000));
    const after = await history();
    expect(after.length).toBe(before.length);
    expect((await run.temporal.describe()).raw.pendingActivities ?? []).toEqual([]);
    // The only timers: the approval's deadline, started once and still open (no polling, no heartbeat).
    const timers = after.filter((e) => e.timerStartedEventAttributes);
    const closed = after.filter((e) => e.timerFiredEventAttributes || e.timerCanceledEventAttributes);
    expect(closed).toEqual([]);
    expect(timers).toHaveLength(1);
    const fireInMs = Number(timers[0]!.timerStartedEventAttributes!.startToFireTimeout?.seconds ?? 0) * 1000;
    const deadlineMs = Date.parse(waiting!.deadline) - Date.parse(waiting!.requestedAt);
    expect(Math.abs(fireInMs - deadlineMs)).toBeLessThanOrEqual(1_000);
    console.log(`waiting for approval: ${after.length} history events, unchanged over 3 s; one timer of ${fireInMs / 1000} s`);
    await h.runner.approve(run.workflowId);
    expect(await run.result()).toMatchObject({ status: 'completed', finalText: 'Paid 3.' });
  });

  it('denied: the model gets is_error with the reason and adapts; the tool never runs', async () => {
    h.fake.script(toolUses([{ name: 'payment', input: { amount: 9999 }, id: 'toolu_big' }]), text('I will not pay that.'));
    const run = await h.runner.start('gatekeeper', 'pay 9999');
    await waitingCalls(run.workflowId);
    const noReason = await cli('deny', run.workflowId);
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toMatch(/^error: deny needs --reason/);
    const denied = await h.runner.deny(run.workflowId, { reason: 'over the limit', by: 'bob' });
    expect(denied).toMatchObject({ toolUseId: 'toolu_big', tool: 'payment', decision: 'deny' });
    const r = await run.result();
    expect(results(r.messages[2])).toEqual([
      {
        type: 'tool_result',
        tool_use_id: 'toolu_big',
        is_error: true,
        content: 'Tool payment was not run: a person denied it (bob): over the limit',
      },
    ]);
    expect(r.finalText).toBe('I will not pay that.');
    expect(toolCalls.some((c) => c.key === `${run.workflowId}/toolu_big`)).toBe(false);
    // The next request carried the denial to the model.
    expect(JSON.stringify(h.fake.requests[1]?.body.messages.at(-1))).toContain('over the limit');
  });

  it('refuses, in one line and without touching the run, an unknown id, a stale input hash and a second decision', async () => {
    h.fake.script(toolUses([{ name: 'payment', input: { amount: 5 }, id: 'toolu_five' }]), text('Done.'));
    const run = await h.runner.start('gatekeeper', 'pay 5');
    await waitingCalls(run.workflowId);
    const events = async () => (await run.temporal.fetchHistory()).events?.length ?? 0;
    const n = await events();
    const unknown = await cli('approve', run.workflowId, '--tool', 'toolu_nope');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.trim()).toBe(`error: ${run.workflowId}: no tool call awaits approval with id toolu_nope (waiting: toolu_five)`);
    await expect(h.runner.approve(run.workflowId, { inputHash: inputHash({ amount: 500 }) })).rejects.toThrow(
      /stale decision: the input of toolu_five has hash sha256:[0-9a-f]{64}, not sha256:/,
    );
    const malformed = await run.temporal
      .executeUpdate(decideUpdate, { args: [{ toolUseId: 'toolu_five', decision: 'maybe' as never, inputHash: '' }] })
      .catch((e: { cause?: Error }) => e.cause?.message);
    expect(malformed).toBe('decision must be "approve" or "deny"');
    expect(await events()).toBe(n); // refused updates leave no trace in history
    await h.runner.approve(run.workflowId);
    await expect(h.runner.approve(run.workflowId, { toolUseId: 'toolu_five', inputHash: inputHash({ amount: 5 }) })).rejects.toThrow(
      /toolu_five was already decided \(approved\)|no tool call awaits approval with id toolu_five|has ended/,
    );
    expect((await run.result()).status).toBe('completed');
  });

  it('cancelled while waiting: the waiting call gets is_error and the run ends cancelled with a valid transcript', async () => {
    h.fake.script(toolUses([{ name: 'payment', input: { amount: 7 }, id: 'toolu_wait' }]));
    const run = await h.runner.start('gatekeeper', 'pay 7');
    await waitingCalls(run.workflowId);
    await h.runner.cancel(run.workflowId, 'customer left');
    const r = await run.result();
    expect(r).toMatchObject({ status: 'cancelled', error: 'customer left' });
    expect(results(r.messages.at(-1))).toEqual([
      { type: 'tool_result', tool_use_id: 'toolu_wait', is_error: true, content: expect.stringContaining('was cancelled') },
    ]);
  });

  it('decided per call from the input: a plain command runs at once, a privileged one waits (the decision recorded in history)', async () => {
    h.fake.script(
      toolUses([
        { name: 'guarded_echo', input: { command: 'ls' }, id: 'toolu_ls' },
        { name: 'guarded_echo', input: { command: 'sudo reboot' }, id: 'toolu_sudo' },
      ]),
      text('Done.'),
    );
    const run = await h.runner.start('gatekeeper', 'ls, then reboot');
    const state = await waitingCalls(run.workflowId);
    expect(state.pendingApprovals.map((p) => p.toolUseId)).toEqual(['toolu_sudo']);
    await h.runner.approve(run.workflowId, { by: 'ops' });
    const r = await run.result();
    expect(results(r.messages[2]).map((b) => b.content)).toEqual(['ran: ls', 'ran: sudo reboot']);
    const checks = (await activityEvents(h.client, run.workflowId)).filter((a) => a.activityType === 'needsApproval');
    expect(checks).toHaveLength(2);
  });

  it('continues as new while calls still wait, and their decisions land in the next execution', async () => {
    h.fake.script(
      toolUses([
        { name: 'payment', input: { amount: 1, receipt_bytes: 90_000 }, id: 'toolu_p1' },
        { name: 'payment', input: { amount: 2 }, id: 'toolu_p2' },
        { name: 'payment', input: { amount: 3 }, id: 'toolu_p3' },
      ]),
      text('All paid.'),
    );
    const run = await h.runner.start('gatekeeper', 'pay three');
    await waitingCalls(run.workflowId, 3);
    const first = (await run.temporal.describe()).runId;
    // The first receipt pushes the history past the agent's 48 KB threshold: the run hands over.
    await h.runner.approve(run.workflowId, { toolUseId: 'toolu_p1' });
    await until('a new execution', async () => (await run.temporal.describe()).runId !== first);
    const after = await waitingCalls(run.workflowId, 2);
    expect(after.execution).toBe(2);
    expect(after.pendingApprovals.map((p) => p.toolUseId)).toEqual(['toolu_p2', 'toolu_p3']);
    await h.runner.approve(run.workflowId, { toolUseId: 'toolu_p2' });
    await h.runner.deny(run.workflowId, { toolUseId: 'toolu_p3', reason: 'enough for today' });
    const r = await run.result();
    expect(r).toMatchObject({ status: 'completed', finalText: 'All paid.' });
    expect(r.executions).toBeGreaterThanOrEqual(2); // one more per decision here: the carried receipt alone tops the test's threshold
    expect(results(r.messages[2]).map((b) => [b.tool_use_id, b.is_error ?? false])).toEqual([
      ['toolu_p1', false],
      ['toolu_p2', false],
      ['toolu_p3', true],
    ]);
  });
});
