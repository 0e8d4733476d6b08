/**
 * The workflow on its own: the real `agentRun` on Temporal's time-skipping test server, with stub
 * activities in place of the registry, the Messages API and the tools (the way Temporal's samples
 * test workflows). What the loop does with each answer — not what the world does — is the point.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { cancelSignal, stateQuery } from '../../contract/workflow.js';
import { env, reply, runWith, scriptedModel, text, use, useEnv } from '../support/stub-run.js';

useEnv();

describe('the loop with stub activities', () => {
  it('runs parallel tool calls concurrently and answers them in one message, in tool_use order', async () => {
    const model = scriptedModel(
      reply([text('Two lookups.'), use('toolu_a', { ms: 300 }), use('toolu_b', { ms: 0 })], 'tool_use'),
      reply([text('Done.')], 'end_turn'),
    );
    const finished: string[] = [];
    const r = await runWith({
      callModel: model.callModel,
      runTool: async (i) => {
        await new Promise((res) => setTimeout(res, (i.toolUse.input as { ms: number }).ms));
        finished.push(i.toolUse.id);
        return { type: 'tool_result', tool_use_id: i.toolUse.id, content: `done ${i.toolUse.id}` };
      },
    });
    expect(r).toMatchObject({ status: 'completed', stopReason: 'end_turn', turns: 2, finalText: 'Done.' });
    expect(finished).toEqual(['toolu_b', 'toolu_a']);
    expect(r.messages[2]).toEqual({
      role: 'user',
      content: [
        { type: 'tool_result', tool_use_id: 'toolu_a', content: 'done toolu_a' },
        { type: 'tool_result', tool_use_id: 'toolu_b', content: 'done toolu_b' },
      ],
    });
    // The second request carried the whole conversation.
    expect(model.requests[1]?.request.messages).toEqual(r.messages.slice(0, 3));
    expect(r.usage).toEqual({ input_tokens: 20, output_tokens: 10, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 });
  });

  it('resumes pause_turn by sending the conversation back unchanged', async () => {
    const model = scriptedModel(reply([text('Searching…')], 'pause_turn'), reply([text('Found it.')], 'end_turn'));
    const r = await runWith({ callModel: model.callModel });
    expect(r).toMatchObject({ status: 'completed', turns: 2, finalText: 'Found it.' });
    expect(model.requests[1]?.request.messages).toEqual([
      { role: 'user', content: 'go' },
      { role: 'assistant', content: [text('Searching…')] },
    ]);
  });

  it('stops at maxTurns after the last tool results, so every tool_use has its result', async () => {
    const model = scriptedModel(...[1, 2, 3].map((n) => reply([use(`toolu_${n}`)], 'tool_use')));
    const r = await runWith({ callModel: model.callModel }, { overrides: { maxTurns: 3 } });
    expect(r).toMatchObject({ status: 'completed', stopReason: 'max_turns', turns: 3 });
    expect(r.messages).toHaveLength(7);
    expect(r.messages.at(-1)?.role).toBe('user');
  });

  it('a tool that fails after its retries becomes an is_error result and the run goes on', async () => {
    const model = scriptedModel(reply([use('toolu_x')], 'tool_use'), reply([text('Sorry.')], 'end_turn'));
    let attempts = 0;
    const r = await runWith({
      callModel: model.callModel,
      runTool: async () => {
        attempts++;
        throw new Error('database down');
      },
    });
    expect(attempts).toBe(2);
    expect(r.status).toBe('completed');
    expect(r.messages[2]).toEqual({
      role: 'user',
      content: [
        {
          type: 'tool_result',
          tool_use_id: 'toolu_x',
          is_error: true,
          content: expect.stringMatching(/^Tool echo failed after 2 attempt\(s\): database down/),
        },
      ],
    });
  });

  it('a model call refused for good fails the run with one line and the partial transcript', async () => {
    const model = scriptedModel(
      reply([use('toolu_1')], 'tool_use'),
      ApplicationFailure.create({
        type: 'ModelRequestRejected',
        message: 'Anthropic API 400 invalid_request_error: bad',
        nonRetryable: true,
      }),
    );
    const r = await runWith({ callModel: model.callModel });
    expect(r).toMatchObject({ status: 'failed', stopReason: 'error', turns: 1, error: 'Anthropic API 400 invalid_request_error: bad' });
    expect(r.messages).toHaveLength(3);
  });

  it('a cancel signal while a tool runs ends the run cancelled, the tool answered with is_error', async () => {
    const model = scriptedModel(reply([use('toolu_slow')], 'tool_use'));
    const r = await runWith(
      {
        callModel: model.callModel,
        // Never finishes on its own: it heartbeats until the cancel reaches it.
        runTool: async () => {
          const ctx = Context.current();
          for (;;) {
            ctx.heartbeat();
            await ctx.sleep(50);
          }
        },
      },
      {},
      async (workflowId) => {
        const handle = env.client.workflow.getHandle(workflowId);
        while ((await handle.query(stateQuery)).phase !== 'running_tools') await new Promise((res) => setTimeout(res, 20));
        await handle.signal(cancelSignal, { reason: 'user left' });
      },
    );
    expect(r).toMatchObject({ status: 'cancelled', stopReason: 'cancelled', error: 'user left' });
    expect(r.messages[2]).toMatchObject({ role: 'user', content: [{ tool_use_id: 'toolu_slow', is_error: true }] });
  });
});
