/**
 * The durable tool loop end to end: real dev server, real worker, real Anthropic SDK, fake
 * Messages API. Each test scripts the model and checks both the run's result and what the API
 * received.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { asSent, toolResults as results } from './support/blocks.js';
import { message, redactedThinking, stop, text, textBlock, thinkingBlock, toolUse, toolUses } from '../devtools/fake-api/replies.js';
import { triageBrain } from '../devtools/fake-api/triage-brain.js';
import { toolCalls } from './support/agents.js';
import { startHarness, type Harness } from './support/harness.js';
import { activityEvents } from './support/history.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h?.close());
afterEach(() => {
  // A fake that ran out of script, or a script left unused, is a test bug: fail loudly.
  expect(h.fake.problems).toEqual([]);
  expect(h.fake.pending()).toBe(0);
  h.fake.clear();
});

describe('triage agent', () => {
  it('looks both orders up in parallel and answers from the results', async () => {
    h.fake.script(triageBrain, triageBrain);
    const r = await h.run('triage', 'Hi, where are my orders 48810 and 99999?');

    expect(r.status).toBe('completed');
    expect(r.stopReason).toBe('end_turn');
    expect(r.turns).toBe(2);
    expect(r.finalText).toContain('48810 is shipped');
    expect(r.finalText).toContain('2026-05-24');
    expect(r.finalText).toContain("couldn't find order 99999");
    expect(r.usage.input_tokens).toBeGreaterThan(0);
    expect(r.usage.output_tokens).toBeGreaterThan(0);
    expect(r.messages).toHaveLength(4);

    const [found, missing] = results(r.messages[2]);
    expect(found?.is_error).toBeUndefined();
    expect(JSON.parse(String(found?.content))).toMatchObject({ order_id: '48810', status: 'shipped', estimated_delivery: '2026-05-24' });
    expect(missing).toMatchObject({ is_error: true, content: 'No order with id 99999 was found.' });

    // The second request carried the whole conversation, ending with the results message.
    const second = h.fake.requests[1]?.body;
    expect(asSent(second?.messages)).toEqual(asSent(r.messages.slice(0, 3)));
    expect(JSON.stringify(second?.system)).toContain('never guess');
    expect(second?.tools?.map((t) => ('name' in t ? t.name : t.type))).toEqual(['get_order_status', 'create_support_ticket']);
    expect(h.fake.requests.every((q) => q.stream)).toBe(true);
  });
});

describe('parallel tool calls', () => {
  it('runs three calls concurrently and returns their results in tool_use order in one message', async () => {
    // Delays make them finish in the order b, c, a.
    h.fake.script(
      toolUses(
        [
          { name: 'echo', input: { text: 'a', delay_ms: 600 }, id: 'toolu_a' },
          { name: 'echo', input: { text: 'b', delay_ms: 0 }, id: 'toolu_b' },
          { name: 'echo', input: { text: 'c', delay_ms: 300 }, id: 'toolu_c' },
        ],
        { text: 'Three at once.' },
      ),
      text('Done.'),
    );
    const r = await h.run('toolbox', 'echo a, b and c');
    expect(r.status).toBe('completed');
    const userMsg = r.messages[2];
    expect(results(userMsg).map((b) => [b.tool_use_id, b.content])).toEqual([
      ['toolu_a', 'echo: a'],
      ['toolu_b', 'echo: b'],
      ['toolu_c', 'echo: c'],
    ]);
    // tool_result blocks only, and this is the last message before the final answer.
    expect(Array.isArray(userMsg?.content) && userMsg.content.length).toBe(3);

    // Concurrency, from history: all three were scheduled before the first completed.
    const events = await activityEvents(h.client, r.workflowId);
    const tools = events.filter((e) => e.activityType === 'runTool');
    const firstDone = Math.min(...tools.map((e) => e.completedEventId ?? Infinity));
    expect(tools).toHaveLength(3);
    expect(tools.every((e) => e.scheduledEventId < firstDone)).toBe(true);
    expect(tools.map((e) => e.summary)).toEqual([
      'echo {"text":"a","delay_ms":600}',
      'echo {"text":"b","delay_ms":0}',
      'echo {"text":"c","delay_ms":300}',
    ]);
  });
});

describe('is_error results: the run goes on', () => {
  it('unknown order, invalid input and unknown tool each give an is_error result', async () => {
    h.fake.script(
      toolUses([
        { name: 'get_order_status', input: { order_id: '12345' }, id: 'toolu_missing' },
        { name: 'get_order_status', input: { order_id: 48810 }, id: 'toolu_invalid' },
        { name: 'get_order_statuz', input: { order_id: '48810' }, id: 'toolu_unknown' },
      ]),
      text('Sorry about that.'),
    );
    const r = await h.run('triage', 'orders 12345 and 48810');
    expect(r.status).toBe('completed');
    expect(r.finalText).toBe('Sorry about that.');
    const [missing, invalid, unknown] = results(r.messages[2]);
    expect(missing).toMatchObject({ tool_use_id: 'toolu_missing', is_error: true, content: 'No order with id 12345 was found.' });
    expect(invalid).toMatchObject({ tool_use_id: 'toolu_invalid', is_error: true });
    expect(String(invalid?.content)).toMatch(/^Invalid input for tool get_order_status: order_id: .*string/);
    expect(unknown).toMatchObject({ tool_use_id: 'toolu_unknown', is_error: true });
    expect(String(unknown?.content)).toBe('Unknown tool "get_order_statuz". Available tools: get_order_status, create_support_ticket.');
  });

  it('a business failure (ToolError) is not retried', async () => {
    h.fake.script(toolUses([{ name: 'refuse', input: {} }]), text('ok'));
    const r = await h.run('toolbox', 'refuse');
    expect(results(r.messages[2])[0]).toMatchObject({ is_error: true, content: 'not allowed' });
    const events = await activityEvents(h.client, r.workflowId);
    expect(events.find((e) => e.activityType === 'runTool')?.attempt).toBe(1);
  });

  it('an infrastructure failure is retried, and succeeds within the policy', async () => {
    h.fake.script(toolUses([{ name: 'flaky', input: { fail_times: 2 } }]), text('ok'));
    const r = await h.run('toolbox', 'flaky');
    expect(results(r.messages[2])[0]?.is_error).toBeUndefined();
    expect(JSON.parse(String(results(r.messages[2])[0]?.content))).toEqual({ ok: true, attempt: 3 });
    const keys = toolCalls.filter((c) => c.tool === 'flaky' && c.key.startsWith(r.workflowId)).map((c) => c.key);
    // The same idempotency key on every attempt: workflow id + tool_use id.
    expect(keys).toHaveLength(3);
    expect(new Set(keys).size).toBe(1);
    expect(keys[0]).toMatch(new RegExp(`^${r.workflowId}/toolu_`));
  });

  it('when retries run out the model gets an is_error result saying so', async () => {
    h.fake.script(toolUses([{ name: 'flaky', input: { fail_times: 99 } }]), text('The tool is down.'));
    const r = await h.run('toolbox', 'flaky forever');
    expect(r.status).toBe('completed');
    const [res] = results(r.messages[2]);
    expect(res?.is_error).toBe(true);
    expect(String(res?.content)).toMatch(
      /^Tool flaky failed after 4 attempt\(s\): flaky: flaky failure on attempt 4 \(retries exhausted\)/,
    );
  });
});

describe('tool_choice passes through untouched', () => {
  const choices = [
    { type: 'auto' as const },
    { type: 'any' as const, disable_parallel_tool_use: true },
    { type: 'tool' as const, name: 'echo', disable_parallel_tool_use: false },
    { type: 'none' as const },
  ];
  it.each(choices)('%o', async (tool_choice) => {
    h.fake.script(text('ok'));
    const r = await h.run('toolbox', 'hi', { overrides: { tool_choice } });
    expect(r.status).toBe('completed');
    expect(h.fake.requests[0]?.body.tool_choice).toEqual(tool_choice);
  });

  it('strict tool schemas reach the API as defined', async () => {
    h.fake.script(text('ok'));
    await h.run('toolbox', 'hi');
    const tools = h.fake.requests[0]?.body.tools ?? [];
    const byName = new Map(tools.map((t) => ['name' in t ? t.name : '', t as { strict?: boolean; input_schema?: unknown }]));
    expect(byName.get('refuse')).toMatchObject({
      strict: true,
      input_schema: { type: 'object', properties: {}, additionalProperties: false },
    });
    expect(byName.get('echo')?.strict).toBeUndefined();
  });

  it('model and max_tokens overrides reach the API', async () => {
    h.fake.script(text('ok'));
    await h.run('toolbox', 'hi', { overrides: { model: 'claude-other', max_tokens: 77 } });
    expect(h.fake.requests[0]?.body).toMatchObject({ model: 'claude-other', max_tokens: 77 });
  });
});

describe('stop reasons', () => {
  it.each(['end_turn', 'stop_sequence', 'refusal'] as const)('%s ends the run with that reason', async (reason) => {
    h.fake.script(stop(reason, 'final words', reason === 'stop_sequence' ? { stopSequence: 'END' } : {}));
    const r = await h.run('toolbox', 'hi');
    expect(r).toMatchObject({ status: 'completed', stopReason: reason, finalText: 'final words', turns: 1 });
  });

  it.each(['max_tokens', 'model_context_window_exceeded'] as const)('%s ends truncated and never runs a half tool_use', async (reason) => {
    h.fake.script(message([textBlock('Let me'), toolUse('echo', { text: 'x' })], reason));
    const r = await h.run('toolbox', 'hi');
    expect(r).toMatchObject({ status: 'completed', stopReason: reason, turns: 1 });
    expect(r.messages).toHaveLength(2);
    const events = await activityEvents(h.client, r.workflowId);
    expect(events.filter((e) => e.activityType === 'runTool')).toHaveLength(0);
    expect(h.fake.requests).toHaveLength(1);
  });

  it('pause_turn sends the conversation back unchanged and continues', async () => {
    h.fake.script(stop('pause_turn', 'working on it'), text('finished'));
    const r = await h.run('toolbox', 'long task');
    expect(r).toMatchObject({ stopReason: 'end_turn', finalText: 'finished', turns: 2 });
    const resumed = h.fake.requests[1]?.body.messages;
    expect(resumed).toHaveLength(2);
    expect(asSent(resumed?.slice(1))).toEqual(asSent([{ role: 'assistant', content: [textBlock('working on it')] }]));
  });

  it('maxTurns ends the run with stop reason max_turns', async () => {
    const again = () => toolUses([{ name: 'echo', input: { text: 'again' } }]);
    h.fake.script(again(), again());
    const r = await h.run('toolbox', 'loop', { overrides: { maxTurns: 2 } });
    expect(r).toMatchObject({ status: 'completed', stopReason: 'max_turns', turns: 2 });
    // Every tool_use has its result, so the conversation could be sent again as is.
    expect(r.messages.at(-1)?.role).toBe('user');
  });
});

describe('thinking blocks', () => {
  it('go back to the API verbatim, signatures and redacted data included', async () => {
    const thinking = thinkingBlock('The user wants an echo.', 'sig-abc123');
    const redacted = redactedThinking('REDACTED-DATA-xyz');
    h.fake.script(message([thinking, redacted, toolUse('echo', { text: 't' }, 'toolu_t')], 'tool_use'), text('done'));
    const r = await h.run('toolbox', 'think');
    const sent = h.fake.requests[1]?.body.messages[1];
    expect(sent).toEqual({ role: 'assistant', content: [thinking, redacted, toolUse('echo', { text: 't' }, 'toolu_t')] });
    expect(r.messages[1]).toEqual(sent);
  });
});
