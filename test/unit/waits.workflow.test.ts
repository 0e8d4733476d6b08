/**
 * Waiting for people, on the time-skipping test server: a day of waiting takes milliseconds. In a
 * file of its own: the test server skips time only while no activity runs anywhere on it.
 */
import { describe, expect, it } from 'vitest';
import type { RunConfig } from '../../contract/config.js';
import { config, reply, runWith, scriptedModel, text, use, useEnv } from '../support/stub-run.js';

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
