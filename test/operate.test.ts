/**
 * Operating runs on the real dev server: cancel (signal and Temporal's own), the state query,
 * watch / show / list, search attributes and UI metadata, and bad input.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { toolResults as results } from './support/blocks.js';
import { AgentName, AgentStatus, AgentTokens, AgentTurns } from '../contract/search-attributes.js';
import { stateQuery } from '../contract/workflow.js';
import { text, toolUses } from '../devtools/fake-api/replies.js';
import { triageBrain } from '../devtools/fake-api/triage-brain.js';
import { WorkflowNotFoundError } from '@temporalio/client';
import { REASON_WIDTH } from '../client/format.js';
import { RunnerError } from '../client/runner.js';
import { toolAborts, toolCalls } from './support/agents.js';
import { cliEnv, expectTerminalSafe, runCli, spawnCli } from './support/cli.js';
import { startHarness, type Harness } from './support/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h?.close());
afterEach(() => {
  expect(h.fake.problems).toEqual([]);
  h.fake.clear();
});

const cli = (...args: string[]) => runCli(cliEnv(h), ...args);

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A reply that streams for about `seconds`. */
const slowAnswer = (seconds: number) => text('word '.repeat(200), { chunks: seconds * 10, chunkDelayMs: 100 });

describe('cancel', () => {
  it('the cancel command stops a streaming model call at once; the run completes as cancelled', async () => {
    h.fake.script(slowAnswer(20));
    const run = await h.runner.start('toolbox', 'write a long essay', { workflowId: `cancel-stream-${Date.now()}` });
    // Wait until the model's answer is streaming (the heartbeat details say so).
    await until('streaming', async () => (await h.runner.state(run.workflowId)).phase === 'calling_model' && h.fake.requests.length === 1);
    await new Promise((r) => setTimeout(r, 500));

    const sent = Date.now();
    const c = await cli('cancel', run.workflowId, '--reason', 'user changed their mind');
    expect(c).toMatchObject({ code: 0, stderr: '' });
    const r = await run.result();
    const closedMs = Date.now() - sent;
    expect(r).toMatchObject({ status: 'cancelled', stopReason: 'cancelled', error: 'user changed their mind', turns: 0 });
    expect(r.messages).toEqual([{ role: 'user', content: 'write a long essay' }]);
    // The HTTP stream was aborted, not waited out (it had ~19 s to go).
    const aborted = await until('stream aborted', () => h.fake.requests[0]?.abortedAt, 5_000);
    expect(aborted - sent).toBeLessThan(5_000);
    expect(closedMs).toBeLessThan(15_000);
    console.log(`cancel → run closed: ${closedMs} ms (includes the CLI's start); → HTTP stream aborted: ${aborted - sent} ms`);
    // The run closed as Completed in Temporal, with search attributes saying cancelled.
    const d = await run.temporal.describe();
    expect(d.status.name).toBe('COMPLETED');
    expect(d.typedSearchAttributes.get(AgentStatus)).toBe('cancelled');
    // No model call or tool starts after the cancel.
    expect(h.fake.requests).toHaveLength(1);
  });

  it("Temporal's own cancel during tools: finished tools keep results, running ones get is_error and their AbortSignal", async () => {
    h.fake.script(
      toolUses([
        { name: 'echo', input: { text: 'fast', delay_ms: 0 }, id: 'toolu_fast' },
        { name: 'echo', input: { text: 'slow', delay_ms: 30_000 }, id: 'toolu_slow' },
      ]),
    );
    const run = await h.runner.start('toolbox', 'two tools', { workflowId: `cancel-tools-${Date.now()}` });
    const state = await until('the slow tool to be the only one left', async () => {
      const s = await h.runner.state(run.workflowId);
      return s.phase === 'running_tools' && s.pendingTools.length === 1 ? s : undefined;
    });
    expect(state.pendingTools).toEqual([{ id: 'toolu_slow', name: 'echo', input: { text: 'slow', delay_ms: 30_000 } }]);

    await run.temporal.cancel();
    const r = await run.result();
    expect(r).toMatchObject({ status: 'cancelled', error: 'cancelled via Temporal', turns: 1 });
    const [fast, slow] = results(r.messages[2]);
    expect(fast).toEqual({ type: 'tool_result', tool_use_id: 'toolu_fast', content: 'echo: fast' });
    expect(slow).toMatchObject({
      tool_use_id: 'toolu_slow',
      is_error: true,
      content: 'Tool echo was cancelled: the run was cancelled before it finished.',
    });
    // The conversation can be sent to the API again unchanged: every tool_use has its result.
    expect(r.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    await until('the slow tool to see its AbortSignal', () => toolAborts.find((a) => a.key === `${run.workflowId}/toolu_slow`), 5_000);
    expect(toolCalls.filter((c) => c.key.startsWith(run.workflowId))).toHaveLength(2);
  });

  it('cancelling a finished run changes nothing and says so', async () => {
    h.fake.script(text('done'));
    const r = await h.run('toolbox', 'quick', { workflowId: `finished-${Date.now()}` });
    const before = (await h.history(r.workflowId)).events?.length;
    const c = await cli('cancel', r.workflowId);
    expect(c.code).toBe(1);
    expect(c.stderr).toBe(`error: run "${r.workflowId}" has already ended (completed): nothing to cancel\n`);
    expect((await h.history(r.workflowId)).events?.length).toBe(before);
  });
});

describe('a huge cancel reason', () => {
  it('show, watch and result print it once per line, clipped to a sane width', async () => {
    h.fake.script(slowAnswer(20));
    const run = await h.runner.start('toolbox', 'long', { workflowId: `huge-reason-${Date.now()}` });
    await until('the model call', () => h.fake.requests.length === 1);
    const huge = 'the customer hung up; '.repeat(48_000); // 1 MB
    await h.runner.cancel(run.workflowId, huge);
    // The run keeps the first 2,000 characters (a reason comes from outside), the display less.
    const error = (await run.result()).error ?? '';
    expect(error).toHaveLength(2000);
    expect(huge.startsWith(error.slice(0, -1))).toBe(true);
    for (const command of ['show', 'watch', 'result']) {
      const r = await cli(command, run.workflowId);
      expect(r.code, command).toBe(1);
      const lines = `${r.stdout}${r.stderr}`.split('\n');
      expect(lines.filter((l) => l.includes('the customer hung up')).length, command).toBeGreaterThan(0);
      for (const l of lines) expect(l.length, `${command}: ${l.slice(0, 80)}…`).toBeLessThanOrEqual(REASON_WIDTH + 40);
      expect(r.stdout.length + r.stderr.length, command).toBeLessThan(8_000);
    }
  });
});

describe('a hostile cancel reason', () => {
  it('cancel and show print it without terminal escapes, on its own line', async () => {
    h.fake.script(slowAnswer(20));
    const run = await h.runner.start('toolbox', 'long', { workflowId: `hostile-reason-${Date.now()}` });
    await until('the model call', () => h.fake.requests.length === 1);
    const c = await cli('cancel', run.workflowId, '--reason', 'stop\x1b]0;pwned\x07\x1b[2J\nstatus: completed · fake');
    expect(c.code).toBe(0);
    expectTerminalSafe(c.stdout);
    expect(c.stdout).toBe(`cancel sent to ${run.workflowId} (reason: stop status: completed · fake)\n`);
    await run.result();
    const s = await cli('show', run.workflowId);
    expect(s.code).toBe(1);
    expectTerminalSafe(s.stdout + s.stderr);
    expect(s.stdout).toContain('cancel requested: stop status: completed · fake\n');
    expect(s.stdout.split('\n').filter((l) => l.startsWith('status: '))).toEqual([expect.stringMatching(/^status: cancelled · /)]);
  });
});

describe('watch, show and the state query', () => {
  it('watch follows a live run, with a progress line while the model streams, and exits 0', async () => {
    h.fake.script(toolUses([{ name: 'echo', input: { text: 'hi', delay_ms: 100 } }]), slowAnswer(4));
    const run = await h.runner.start('toolbox', 'say hi', { workflowId: `watch-live-${Date.now()}` });
    const w = spawnCli(cliEnv(h), 'watch', run.workflowId);
    const res = await w.done;
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const out = res.stdout;
    expect(out).toContain('user: say hi');
    expect(out).toMatch(/── turn 1 · claude-test-model · tool_use · \d+ in \/ \d+ out tokens \(\d+ ms, 1 attempt\)/);
    expect(out).toMatch(/→ tool echo \{"text":"hi","delay_ms":100\} \(\d+ ms, 1 attempt\)\n {6}← echo: hi/);
    expect(out).toMatch(/── turn 2 · claude-test-model · end_turn/);
    // Not a TTY: progress comes as plain lines, from the heartbeat details.
    expect(out).toMatch(/… model streaming: ~\d+ output tokens so far/);
    expect(out).not.toContain('\r');
    expect(out).toContain('status: completed · stop reason: end_turn · model calls: 2');
  });

  it('watch on a finished run prints the whole story; on a cancelled one it exits non-zero', async () => {
    h.fake.script(triageBrain, triageBrain);
    const done = await h.run('triage', 'where are 48810 and 99999?');
    const w = await cli('watch', done.workflowId);
    expect(w.code).toBe(0);
    expect(w.stdout).toContain('→ tool get_order_status {"order_id":"99999"}');
    expect(w.stdout).toContain('✗ error: No order with id 99999 was found.');
    expect(w.stdout).toContain(`final answer: ${done.finalText}`);

    h.fake.script(slowAnswer(10));
    const run = await h.runner.start('toolbox', 'long', { workflowId: `watch-cancelled-${Date.now()}` });
    await until('model call', () => h.fake.requests.length === 3);
    await h.runner.cancel(run.workflowId, 'stop');
    await run.result();
    const c = await cli('watch', run.workflowId);
    expect(c.code).toBe(1);
    expect(c.stdout).toContain('cancel requested: stop');
    expect(c.stdout).toMatch(/✗ model call \(turn 1\) cancelled after \d+/);
    expect(c.stderr).toBe('run cancelled: stop\n');
  });

  it('show prints the transcript of a running run and its live state', async () => {
    h.fake.script(toolUses([{ name: 'echo', input: { text: 'slow', delay_ms: 4_000 } }]), text('ok'));
    const run = await h.runner.start('toolbox', 'slow one', { workflowId: `show-${Date.now()}` });
    await until('tool running', async () => (await h.runner.state(run.workflowId)).phase === 'running_tools');
    const s = await cli('show', run.workflowId);
    expect(s.code).toBe(0);
    expect(s.stdout).toContain('user: slow one');
    expect(s.stdout).toContain('── turn 1 · claude-test-model · tool_use');
    expect(s.stdout).toContain('still running: turn 1, running tools (echo)');
    const state = await run.temporal.query(stateQuery);
    expect(state).toMatchObject({ agent: 'toolbox', status: 'running', phase: 'running_tools', turn: 1, stopReason: 'tool_use' });
    expect(state.usage.output_tokens).toBeGreaterThan(0);
    expect((await run.result()).status).toBe('completed');
  });
});

describe('list and search attributes', () => {
  it('runs are findable by agent and status, newest first, with turns and tokens', async () => {
    h.fake.script(text('one'), text('two'));
    const a = await h.run('toolbox', 'first', { workflowId: `list-a-${Date.now()}` });
    const b = await h.run('toolbox', 'second', { workflowId: `list-b-${Date.now()}` });
    const desc = await b.handle.describe();
    expect(desc.typedSearchAttributes.get(AgentName)).toBe('toolbox');
    expect(desc.typedSearchAttributes.get(AgentStatus)).toBe('completed');
    expect(desc.typedSearchAttributes.get(AgentTurns)).toBe(1);
    expect(desc.typedSearchAttributes.get(AgentTokens)).toBe(b.usage.input_tokens + b.usage.output_tokens);

    // Visibility is eventually consistent.
    const listed = await until('both runs listed', async () => {
      const l = await cli('list', '--agent', 'toolbox', '--status', 'completed', '--limit', '50', '--json');
      const runs = (JSON.parse(l.stdout) as { runs: { workflowId: string }[] }).runs.map((x) => x.workflowId);
      return runs.includes(a.workflowId) && runs.includes(b.workflowId) ? runs : undefined;
    });
    expect(listed.indexOf(b.workflowId)).toBeLessThan(listed.indexOf(a.workflowId));
    const plain = await cli('list', '--agent', 'toolbox', '--limit', '1');
    expect(plain.stdout.split('\n')[0]).toBe('WORKFLOW ID\tAGENT\tSTATUS\tTURNS\tTOKENS\tCOST\tSTARTED');
    expect(plain.stdout.trim().split('\n')).toHaveLength(2);
  });

  it('the UI gets a static summary, live details and one-line activity summaries', async () => {
    h.fake.script(triageBrain, triageBrain);
    const r = await h.run('triage', 'Where is 48810?\nThanks!');
    const d = await r.handle.describe();
    expect(await d.staticSummary()).toBe('triage: Where is 48810?');
    const meta = (await r.handle.query('__temporal_workflow_metadata')) as { currentDetails?: string };
    expect(meta.currentDetails).toMatch(/^turn 2 · completed · \d+ tokens$/);
  });
});

describe('an unknown agent', () => {
  it('fails the run in its first task with one line (the CLI loads no agent code)', async () => {
    const r = await cli('start', 'nobody', 'hi', '--wait', '--json');
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('run failed: unknown agent "nobody": this worker serves "triage", "toolbox"');
    const result = JSON.parse(r.stdout) as { workflowId: string; status: string; turns: number };
    expect(result).toMatchObject({ status: 'failed', turns: 0 });
    const history = await h.history(result.workflowId);
    expect(history.events?.filter((e) => e.workflowTaskFailedEventAttributes)).toHaveLength(0);
    expect(history.events?.at(-1)?.workflowExecutionFailedEventAttributes?.failure?.message).toMatch(/^unknown agent "nobody"/);
  });
});

describe('bad input: one line, non-zero exit, nothing started or changed', () => {
  it.each([
    [['start', 'triage', ''], 2, 'error: prompt is empty: say what the agent should do'],
    [['watch', 'no-such-run'], 1, 'error: no run with workflow id "no-such-run"'],
    [['show', 'no-such-run'], 1, 'error: no run with workflow id "no-such-run"'],
    [['cancel', 'no-such-run'], 1, 'error: no run with workflow id "no-such-run"'],
    [
      ['list', '--status', 'sleeping'],
      2,
      'error: --status must be one of running, awaiting_approval, awaiting_message, awaiting_budget, completed, failed, cancelled',
    ],
    [['list', '--limit', 'ten'], 2, 'error: --limit must be a positive integer'],
    [['list', '--agent', 'tri age'], 2, 'error: invalid agent name "tri age"'],
  ])('%j', async (args, code, message) => {
    const before = await h.client.workflow.count(`WorkflowType = 'agentRun'`);
    const r = await cli(...args);
    expect(r.code).toBe(code);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(message);
    expect((await h.client.workflow.count(`WorkflowType = 'agentRun'`)).count).toBe(before.count);
  });
});

describe('the library: bad input throws a RunnerError before anything starts', () => {
  it.each([
    ['max_tokens: -1', 'toolbox', 'hi', { overrides: { max_tokens: -1 } }, 'override max_tokens must be a positive integer, got -1'],
    ['maxTurns: 0', 'toolbox', 'hi', { overrides: { maxTurns: 0 } }, 'override maxTurns must be a positive integer, got 0'],
    ['maxTurns: 1.5', 'toolbox', 'hi', { overrides: { maxTurns: 1.5 } }, 'override maxTurns must be a positive integer, got 1.5'],
    ['an unknown override', 'toolbox', 'hi', { overrides: { temperature: 0.2 } }, 'unknown override "temperature": use model, max_tokens'],
    ['overrides: null', 'toolbox', 'hi', { overrides: null }, 'overrides must be an object'],
    ['a prompt that is a number', 'toolbox', 42, {}, 'prompt must be a string, got number'],
    ['a prompt that is null', 'toolbox', null, {}, 'prompt must be a string, got null'],
    ['a prompt that is an array', 'toolbox', ['hi'], {}, 'prompt must be a string, got an array'],
    ['an override given as a start option', 'toolbox', 'hi', { maxTurns: 3 }, 'unknown start option "maxTurns": use workflowId, overrides'],
    ['a misspelt start option', 'toolbox', 'hi', { workflowID: 'x' }, 'unknown start option "workflowID"'],
    ['an agent name no worker can serve', 'tri\nage', 'hi', {}, 'invalid agent name "tri\\nage"'],
    ['rerun that is not a boolean', 'toolbox', 'hi', { rerun: 'yes' }, 'rerun must be true or false, got "yes"'],
  ])('%s', async (_what, agent, prompt, opts, message) => {
    const workflowId = `bad-lib-${Date.now()}`;
    const before = await h.client.workflow.count(`WorkflowType = 'agentRun'`);
    const err = await h.runner.start(agent, prompt as never, { workflowId, ...opts } as never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RunnerError);
    expect((err as Error).message).toContain(message);
    await expect(h.client.workflow.getHandle(workflowId).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
    expect((await h.client.workflow.count(`WorkflowType = 'agentRun'`)).count).toBe(before.count);
    expect(h.fake.requests).toHaveLength(0);
  });

  it('start options that are not an object', async () => {
    const before = await h.client.workflow.count(`WorkflowType = 'agentRun'`);
    await expect(h.runner.start('toolbox', 'hi', 'fast' as never)).rejects.toThrow(/^start options must be an object/);
    expect((await h.client.workflow.count(`WorkflowType = 'agentRun'`)).count).toBe(before.count);
    expect(h.fake.requests).toHaveLength(0);
  });
});
