/** Shaping tool output into tool_result content, in Temporal's activity test environment. */
import { MockActivityEnvironment } from '@temporalio/testing';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { defineAgent, defineTool } from '../../agents/define.js';
import { AgentRegistry } from '../../agents/registry.js';
import { createToolActivity } from '../../activities/tools.js';
import type { ToolCallInput } from '../../contract/activities.js';
import { DEFAULT_LIMITS } from '../../contract/config.js';
import type { ToolResultBlockParam } from '../../contract/messages.js';

const MAX_TOOL_RESULT_BYTES = DEFAULT_LIMITS.toolResultMaxBytes;

function runWith(output: () => unknown) {
  const t = defineTool({ name: 't', description: 'd', inputSchema: z.object({}), run: output });
  const { runTool } = createToolActivity(new AgentRegistry([defineAgent({ name: 'a', model: 'm', max_tokens: 5, tools: [t] })]));
  return new MockActivityEnvironment().run<[ToolCallInput], ToolResultBlockParam, typeof runTool>(runTool, {
    agent: 'a',
    toolUse: { id: 'toolu_1', name: 't', input: {} },
    idempotencyKey: 'wf/toolu_1',
    turn: 1,
  });
}

describe('tool output', () => {
  it('strings, blocks and JSON values', async () => {
    expect(await runWith(() => 'plain')).toEqual({ type: 'tool_result', tool_use_id: 'toolu_1', content: 'plain' });
    expect((await runWith(() => [{ type: 'text', text: 'blk' }])).content).toEqual([{ type: 'text', text: 'blk' }]);
    expect((await runWith(() => ({ a: 1 }))).content).toBe('{"a":1}');
    expect((await runWith(() => undefined)).content).toBe('');
  });
  it('a value that is not JSON-serialisable is a clear is_error result', async () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const r = await runWith(() => circular);
    expect(r.is_error).toBe(true);
    expect(r.content).toMatch(/^Tool t returned a value that is not JSON-serialisable/);
    expect((await runWith(() => ({ n: 10n }))).is_error).toBe(true);
  });
  it('a result over the size limit is truncated with a note the model can read', async () => {
    const r = await runWith(() => 'é'.repeat(MAX_TOOL_RESULT_BYTES));
    const text = String(r.content);
    expect(r.is_error).toBeUndefined();
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(MAX_TOOL_RESULT_BYTES);
    expect(text).toMatch(
      new RegExp(
        `^é+\\n\\[agent-runner: output truncated — the tool returned ${2 * MAX_TOOL_RESULT_BYTES} bytes; the first \\d+ are shown\\.\\]$`,
      ),
    );
    expect(text).not.toContain('\uFFFD');
    const blocks = await runWith(() => [
      { type: 'text', text: 'a'.repeat(MAX_TOOL_RESULT_BYTES) },
      { type: 'text', text: 'dropped' },
    ]);
    expect(Array.isArray(blocks.content) && blocks.content.length).toBe(2);
    expect(JSON.stringify(blocks.content)).toContain('output truncated');
    expect(JSON.stringify(blocks.content)).not.toContain('dropped');
  });
  it('any other throw is left to Temporal to retry, naming the error class', async () => {
    class DbDown extends Error {
      override name = 'DbDown';
    }
    await expect(
      runWith(() => {
        throw new DbDown('connection refused');
      }),
    ).rejects.toMatchObject({
      type: 'ToolFailed',
      message: 't: DbDown: connection refused',
      nonRetryable: false,
      details: [{ tool: 't', errorClass: 'DbDown' }],
    });
  });
});
