/** The textbook loop's activities: the real Anthropic SDK (against ANTHROPIC_BASE_URL) and an in-process `echo` tool. */
import Anthropic from '@anthropic-ai/sdk';
import type { Message, MessageParam } from '@anthropic-ai/sdk/resources/messages';

const anthropic = new Anthropic({ maxRetries: 0 });

export async function callModel(messages: MessageParam[]): Promise<Message> {
  return anthropic.messages.create({
    model: 'claude-test-model',
    max_tokens: 512,
    system: 'You are a test agent.',
    tools: [
      {
        name: 'echo',
        description: 'Echo the text back.',
        input_schema: { type: 'object', properties: { text: { type: 'string' }, delay_ms: { type: 'integer' } }, required: ['text'] },
      },
    ],
    messages,
  });
}

export async function runTool(name: string, input: unknown): Promise<string> {
  if (name !== 'echo') return `unknown tool ${name}`;
  return `echo: ${(input as { text?: string }).text ?? ''}`;
}
