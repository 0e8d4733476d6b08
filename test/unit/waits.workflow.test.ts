/**
 * Waiting for people, on the time-skipping test server: a day of waiting takes milliseconds — for
 * an approval, the next message of a session, a budget raise. In a file of its own: the test
 * server skips time only while no activity runs anywhere on it.
 */
import { describe, expect, it } from 'vitest';
import type { RunConfig } from '../../contract/config.js';
import type { Message } from '../../contract/messages.js';
import { PRICES_CHECKED, SERVER_TOOL_PRICES } from '../../contract/prices.js';
import type { RunState } from '../../contract/run.js';
import { budgetUpdate, stateQuery } from '../../contract/workflow.js';
import { config, env, reply, runWith, scriptedModel, text, use, useEnv } from '../support/stub-run.js';

useEnv();

describe('waiting for people, hours in milliseconds (time skipping)', () => {
  const gated: RunConfig = { ...config, tools: { echo: { ...config.tools.echo!, approval: 'always', approvalTimeout: '24h' } } };

  it('a call nobody decides on is denied after its approval timeout, and the model is told why', async () => {
    const model = scriptedModel(reply([use('toolu_gate', { x: 1 })], 'tool_use'), reply([text('I could not do it.')], 'end_turn'));
    let ran = false;
    const started = Date.now();
    const r = await runWith({
      config: gated,
      callModel: model.callModel,
      runTool: async () => {
        ran = true;
        return {};
      },
    });
    expect(ran).toBe(false);
    expect(Date.now() - started).toBeLessThan(30_000); // a day of waiting, skipped
    expect(r).toMatchObject({ status: 'completed', finalText: 'I could not do it.' });
    expect(r.messages[2]).toEqual({
      role: 'user',
      content: [
        { type: 'tool_result', tool_use_id: 'toolu_gate', is_error: true, content: expect.stringContaining('none came within 24h') },
      ],
    });
  });

  it('a session that hears nothing for its idle timeout ends with its transcript', async () => {
    const model = scriptedModel(reply([text('Hello! How can I help?')], 'end_turn'));
    const r = await runWith({ callModel: model.callModel }, { prompt: 'hi', session: { idleTimeout: '2h' } });
    expect(r).toMatchObject({ status: 'completed', stopReason: 'session_idle', turns: 1, finalText: 'Hello! How can I help?' });
    expect(r.messages).toHaveLength(2);
  });
});

describe('a run paused at its budget (time skipping)', () => {
  // A token budget the first call fits (~130 tokens: the prompt at 3 bytes a token + 100 max_tokens)
  // and that call's 1 005 tokens use up: the second call would go over 1 100. The agent pauses, with
  // the default pause timeout (24h). Token budgets need the ledger, which needs `pricing` (a null price: tokens only).
  const budgeted: RunConfig = {
    ...config,
    pricing: { price: null, serverTools: SERVER_TOOL_PRICES, checked: PRICES_CHECKED },
    budget: { maxTotalTokens: 1100, onExceeded: 'pause' },
  };
  const expensive = (m: Message): Message => ({ ...m, usage: { ...m.usage, input_tokens: 1000 } });
  const HOUR = 3_600_000;

  /** Wait (in real time: nothing skips it) until the run is paused at its budget. */
  async function pausedAt(workflowId: string): Promise<RunState> {
    const handle = env.client.workflow.getHandle(workflowId);
    for (let i = 0; i < 200; i++) {
      const s = await handle.query(stateQuery).catch(() => undefined);
      if (s?.phase === 'awaiting_budget') return s;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('the run never paused at its budget');
  }

  /** Start and close times of a closed run, in the server's (skipped) time. */
  async function span(workflowId: string): Promise<number> {
    const d = await env.client.workflow.getHandle(workflowId).describe();
    return d.closeTime!.getTime() - d.startTime.getTime();
  }

  it('never raised: the run ends after the pause timeout (24h by default) with budget_exceeded and a valid transcript', async () => {
    const model = scriptedModel(expensive(reply([use('toolu_b1', { x: 1 })], 'tool_use')));
    let id = '';
    const started = Date.now();
    const r = await runWith({ config: budgeted, callModel: model.callModel }, {}, async (workflowId) => {
      id = workflowId;
      const s = await pausedAt(workflowId);
      expect(s.budget).toMatchObject({ maxTotalTokens: 1100, spentTokens: 1005 });
    });
    expect(Date.now() - started).toBeLessThan(30_000); // a day of waiting, skipped
    expect(r).toMatchObject({ status: 'completed', stopReason: 'budget_exceeded', turns: 1 });
    expect(r.stopDetail).toMatch(/^used 1005 of 1100 tokens; the next model call may use up to \d+$/);
    expect(model.requests).toHaveLength(1);
    // Every tool_use answered: the conversation can be sent to the API as it is.
    expect(r.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(r.messages[2]).toMatchObject({ role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_b1' }] });
    const took = await span(id);
    expect(took).toBeGreaterThanOrEqual(24 * HOUR);
    expect(took).toBeLessThan(25 * HOUR);
  });

  it('raised after 23 hours: the run goes on and ends normally', async () => {
    const model = scriptedModel(expensive(reply([use('toolu_b2')], 'tool_use')), reply([text('Done after all.')], 'end_turn'));
    let id = '';
    const r = await runWith({ config: budgeted, callModel: model.callModel }, {}, async (workflowId) => {
      id = workflowId;
      await pausedAt(workflowId);
      await env.sleep('23h');
      const raised = await env.client.workflow
        .getHandle(workflowId)
        .executeUpdate(budgetUpdate, { args: [{ addTokens: 10_000, by: 'finance' }] });
      expect(raised).toMatchObject({ maxTotalTokens: 11_100, spentTokens: 1005 });
    });
    expect(r).toMatchObject({ status: 'completed', stopReason: 'end_turn', turns: 2, finalText: 'Done after all.' });
    expect(r.stopDetail).toBeUndefined();
    expect(model.requests).toHaveLength(2);
    const took = await span(id);
    expect(took).toBeGreaterThanOrEqual(23 * HOUR);
    expect(took).toBeLessThan(24 * HOUR);
  });
});
