/**
 * The textbook Temporal agent loop, as Temporal's samples write it: one `callModel` activity and
 * one `runTool` activity per `tool_use`, plain `proxyActivities`, the whole conversation as the
 * model activity's input every turn. The bench's baseline for what Temporal costs an agent loop
 * with no care taken (bench/textbook/worker.ts runs it with the default worker options).
 */
import { proxyActivities } from '@temporalio/workflow';
import type { MessageParam, ToolResultBlockParam } from '@anthropic-ai/sdk/resources/messages';
import type * as activities from './activities.js';

const { callModel, runTool } = proxyActivities<typeof activities>({ startToCloseTimeout: '1 minute' });

export async function textbookAgent(prompt: string, maxTurns: number): Promise<{ turns: number; text: string }> {
  const messages: MessageParam[] = [{ role: 'user', content: prompt }];
  for (let turn = 1; ; turn++) {
    const reply = await callModel(messages);
    messages.push({ role: 'assistant', content: reply.content });
    if (reply.stop_reason !== 'tool_use' || turn >= maxTurns) {
      const text = reply.content.flatMap((b) => (b.type === 'text' ? [b.text] : [])).join('');
      return { turns: turn, text };
    }
    const results: ToolResultBlockParam[] = [];
    for (const block of reply.content) {
      if (block.type !== 'tool_use') continue;
      const content = await runTool(block.name, block.input);
      results.push({ type: 'tool_result', tool_use_id: block.id, content });
    }
    messages.push({ role: 'user', content: results });
  }
}
