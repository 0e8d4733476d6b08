/**
 * Agents as tools: a call starts the other agent's run as a child workflow (its own history, a
 * child in Temporal's eyes), its final text is the tool result, its spend rolls up into the
 * caller's ledger, its approvals show in `pending` with the caller named, cancelling the caller
 * cancels it, and nesting stops at MAX_AGENT_DEPTH. The `delegator` test agent offers triage,
 * the gatekeeper and itself.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MAX_AGENT_DEPTH, type RunResult } from '../contract/run.js';
import { invalidRequest, text, toolUses } from '../devtools/fake-api/replies.js';
import { triageBrain } from '../devtools/fake-api/triage-brain.js';
import { cliEnv, expectTerminalSafe, runCli } from './support/cli.js';
import { startHarness, type Harness } from './support/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h?.close());
afterEach(() => {
  const problems = [...h.fake.problems];
  h.fake.clear();
  expect(problems).toEqual([]);
});

const childResult = async (id: string): Promise<RunResult> => (await h.runner.get(id)).result();
const toolResult = (r: RunResult, toolUseId: string) =>
  r.messages
    .flatMap((m) => (Array.isArray(m.content) ? m.content : []))
    .find((b) => b.type === 'tool_result' && b.tool_use_id === toolUseId) as
    { content: string; is_error?: boolean; tool_use_id: string } | undefined;

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('an agent offered as a tool', () => {
  it('runs as a child workflow; its final text is the result; its cost rolls up, attributed to it', async () => {
    h.fake.script(
      toolUses([{ name: 'ask_triage', input: { prompt: 'Where is order 48810?' }, id: 'toolu_ask' }]),
      triageBrain,
      triageBrain,
      text('Triage says order 48810 has shipped.'),
    );
    const r = await h.run('delegator', 'Find out about order 48810.');
    expect(r).toMatchObject({ status: 'completed', turns: 2, finalText: 'Triage says order 48810 has shipped.' });

    // The child: its own run, with the call's prompt, its parent recorded by Temporal.
    const childId = `${r.workflowId}/toolu_ask`;
    const child = await childResult(childId);
    expect(child).toMatchObject({ status: 'completed', agent: 'triage', turns: 2 });
    expect(child.messages[0]).toEqual({ role: 'user', content: 'Where is order 48810?' });
    expect(child.finalText).toMatch(/48810/);
    const described = await h.client.workflow.getHandle(childId).describe();
    expect(described.parentExecution?.workflowId).toBe(r.workflowId);
    expect(described.typedSearchAttributes.get((await import('../contract/search-attributes.js')).AgentName)).toBe('triage');

    // The child's final text is the tool result, in one user message, like any tool's.
    expect(toolResult(r, 'toolu_ask')).toEqual({ type: 'tool_result', tool_use_id: 'toolu_ask', content: child.finalText });

    // The parent's history shows the child workflow, started and completed.
    const events = (await h.history(r.workflowId)).events ?? [];
    expect(events.filter((e) => e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId === childId)).toHaveLength(1);
    expect(events.filter((e) => e.childWorkflowExecutionCompletedEventAttributes)).toHaveLength(1);

    // Spend: the child's ledger inside the parent's, attributed to the sub-agent.
    const own = r.cost!.byModel['claude-haiku-4-5']!;
    expect(own.calls).toBe(2);
    expect(r.cost!.byModel['claude-sonnet-4-6']).toEqual(child.cost!.byModel['claude-sonnet-4-6']);
    expect(r.cost!.usd).toBeCloseTo(own.usd! + child.cost!.usd!, 12);
    const childTokens = Object.values(child.cost!.byModel).reduce(
      (n, s) => n + s.input_tokens + s.output_tokens + s.cache_write_5m_tokens + s.cache_write_1h_tokens + s.cache_read_input_tokens,
      0,
    );
    expect(r.cost!.subAgents).toEqual({ triage: { runs: 1, usd: child.cost!.usd, tokens: childTokens } });

    // show tells the sub-agent's part readably, with the cost split.
    const shown = await runCli(cliEnv(h), 'show', r.workflowId);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('→ agent triage, as a sub-agent: "Where is order 48810?"');
    expect(shown.stdout).toContain(`(its own run: ${childId}; follow it with agent-runner watch)`);
    expect(shown.stdout).toMatch(/← agent triage: .*48810.* \(\d+(\.\d)? m?s, 2 turn\(s\) · \$0\.\d{4}\)/);
    expect(shown.stdout).toMatch(/cost: \$0\.\d{4} \(.*\) · sub-agents: triage \$0\.\d{4} \(1 run\)/);
    expectTerminalSafe(shown.stdout);
  });

  it("a sub-agent's approval shows in pending with the caller named; approving it lets both finish", async () => {
    h.fake.script(
      toolUses([{ name: 'ask_gatekeeper', input: { prompt: 'Pay 77.' }, id: 'toolu_gk' }]),
      toolUses([{ name: 'payment', input: { amount: 77 }, id: 'toolu_pay' }]),
      text('Paid 77.'),
      text('The gatekeeper paid 77.'),
    );
    const run = await h.runner.start('delegator', 'Pay 77 through the gatekeeper.');
    const childId = `${run.workflowId}/toolu_gk`;
    const pending = await until('the sub-agent to wait for approval', async () => {
      const calls = await h.runner.pending();
      return calls.find((c) => c.workflowId === childId);
    });
    expect(pending).toMatchObject({
      tool: 'payment',
      toolUseId: 'toolu_pay',
      agent: 'gatekeeper',
      parent: { workflowId: run.workflowId, agent: 'delegator', toolUseId: 'toolu_gk', depth: 1 },
    });
    const listed = await runCli(cliEnv(h), 'pending', '--agent', 'gatekeeper');
    const row = listed.stdout.split('\n').find((l) => l.startsWith(`${childId}\t`));
    expect(row?.split('\t').at(-1)).toBe(`delegator ${run.workflowId}`);
    // The caller waits in its tool phase, for the sub-agent.
    expect(await h.runner.state(run.workflowId)).toMatchObject({ phase: 'running_tools', pendingTools: [{ id: 'toolu_gk' }] });

    await h.runner.approve(childId, { by: 'carol' });
    const r = await run.result();
    expect(r).toMatchObject({ status: 'completed', finalText: 'The gatekeeper paid 77.' });
    expect(toolResult(r, 'toolu_gk')).toMatchObject({ content: 'Paid 77.' });
    expect(toolResult(r, 'toolu_gk')?.is_error).toBeUndefined();
  });

  it('cancelling the caller cancels the sub-agent; both end with valid transcripts', async () => {
    h.fake.script(
      toolUses([{ name: 'ask_gatekeeper', input: { prompt: 'Pay 12.' }, id: 'toolu_gk2' }]),
      toolUses([{ name: 'payment', input: { amount: 12 }, id: 'toolu_pay2' }]),
    );
    const run = await h.runner.start('delegator', 'Pay 12 through the gatekeeper.');
    const childId = `${run.workflowId}/toolu_gk2`;
    await until('the sub-agent to wait for approval', async () =>
      (await h.runner.pending()).find((c) => c.workflowId === childId) ? true : undefined,
    );
    await h.runner.cancel(run.workflowId, 'changed my mind');
    const r = await run.result();
    expect(r).toMatchObject({ status: 'cancelled', error: 'changed my mind' });
    expect(toolResult(r, 'toolu_gk2')).toMatchObject({
      is_error: true,
      content: expect.stringMatching(/^Agent "gatekeeper" was cancelled/),
    });
    const child = await childResult(childId);
    expect(child).toMatchObject({ status: 'cancelled' });
    expect(toolResult(child, 'toolu_pay2')).toMatchObject({ is_error: true });
    expect((await h.client.workflow.getHandle(childId).describe()).status.name).toBe('COMPLETED');
  });

  it(`nesting stops at depth ${MAX_AGENT_DEPTH}: the deepest run gets is_error and answers itself`, async () => {
    const ids = ['toolu_d1', 'toolu_d2', 'toolu_d3', 'toolu_d4'];
    h.fake.script(
      ...ids.map((id) => toolUses([{ name: 'delegate', input: { prompt: 'Say hello.' }, id }])),
      text('hello from depth 3'),
      text('hello (2)'),
      text('hello (1)'),
      text('hello (0)'),
    );
    const r = await h.run('delegator', 'Say hello.');
    expect(r).toMatchObject({ status: 'completed', finalText: 'hello (0)' });
    const deepest = await childResult(`${r.workflowId}/toolu_d1/toolu_d2/toolu_d3`);
    expect(toolResult(deepest, 'toolu_d4')).toMatchObject({
      is_error: true,
      content: expect.stringContaining(`agents call agents at most ${MAX_AGENT_DEPTH} deep`),
    });
    // No fourth child was started.
    const events = (await h.history(deepest.workflowId)).events ?? [];
    expect(events.some((e) => e.startChildWorkflowExecutionInitiatedEventAttributes)).toBe(false);
    expect(toolResult(r, 'toolu_d1')).toMatchObject({ content: 'hello (1)' });
  });

  it('a sub-agent that fails answers with is_error and its one line; the caller goes on', async () => {
    h.fake.script(
      toolUses([{ name: 'ask_triage', input: { prompt: 'Where is order 1?' }, id: 'toolu_bad' }]),
      invalidRequest('messages: the model refuses this request in the test'),
      text('Triage could not answer.'),
    );
    const r = await h.run('delegator', 'Ask triage about order 1.');
    expect(r).toMatchObject({ status: 'completed', finalText: 'Triage could not answer.' });
    const result = toolResult(r, 'toolu_bad');
    expect(result?.is_error).toBe(true);
    expect(result?.content).toMatch(/^Agent "triage" failed: .*the model refuses this request in the test/);
    expect(result?.content.split('\n')).toHaveLength(1);
  });

  it('an input without a prompt is answered with is_error, and no child starts', async () => {
    h.fake.script(toolUses([{ name: 'ask_triage', input: { question: 'x' }, id: 'toolu_noprompt' }]), text('ok'));
    const r = await h.run('delegator', 'Ask badly.');
    expect(toolResult(r, 'toolu_noprompt')).toMatchObject({ is_error: true, content: expect.stringContaining('prompt') });
    const events = (await h.history(r.workflowId)).events ?? [];
    expect(events.some((e) => e.startChildWorkflowExecutionInitiatedEventAttributes)).toBe(false);
  });
});
