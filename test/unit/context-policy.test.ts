/** The context-window policy keeps any conversation under its budget and valid for the API. */
import type { MessageParam } from '@anthropic-ai/sdk/resources/messages';
import { describe, expect, it } from 'vitest';
import { conversationBytes, ELIDED_PREFIX, fitConversation } from '../../workflows/context-policy.js';
import { validateMessagesRequest } from '../../devtools/fake-api/validate.js';

/** A conversation of `turns` tool turns, each result `bytes` long. */
function conversation(turns: number, bytes: number): MessageParam[] {
  const m: MessageParam[] = [{ role: 'user', content: 'go' }];
  for (let i = 1; i <= turns; i++) {
    m.push({
      role: 'assistant',
      content: [
        { type: 'text', text: `Step ${i}.` },
        { type: 'tool_use', id: `toolu_${i}`, name: 'blob', input: { seed: i } },
      ],
    });
    m.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: `toolu_${i}`, content: 'x'.repeat(bytes) }] });
  }
  return m;
}

const valid = (messages: MessageParam[]) =>
  validateMessagesRequest({ model: 'm', max_tokens: 10, messages, tools: [{ name: 'blob', input_schema: { type: 'object' } }] });

describe('fitConversation', () => {
  it('leaves a conversation that fits alone', () => {
    const c = conversation(3, 100);
    expect(fitConversation(c, 1_000_000)).toEqual({ messages: c, elided: 0, fits: true });
  });

  it('elides the oldest tool results first, never the newest, keeping every tool_use paired', () => {
    const c = conversation(10, 10_000);
    const fit = fitConversation(c, 40_000);
    expect(fit.fits).toBe(true);
    expect(conversationBytes(fit.messages)).toBeLessThanOrEqual(40_000);
    expect(fit.messages).toHaveLength(c.length);
    expect(JSON.stringify(fit.messages[2])).toContain(ELIDED_PREFIX);
    expect(JSON.stringify(fit.messages.at(-1))).not.toContain(ELIDED_PREFIX);
    expect(valid(fit.messages)).toBeNull();
  });

  it('drops the oldest whole turns when placeholders alone outgrow the budget (1,000 turns)', () => {
    const c = conversation(1_000, 1_000);
    const fit = fitConversation(c, 100_000);
    expect(fit.fits).toBe(true);
    expect(conversationBytes(fit.messages)).toBeLessThanOrEqual(100_000);
    expect(fit.messages[0]).toEqual({ role: 'user', content: 'go' });
    expect(fit.messages.at(-1)).toEqual(c.at(-1));
    expect(JSON.stringify(fit.messages)).toMatch(/\d+ earlier turn\(s\) were removed/);
    expect(valid(fit.messages)).toBeNull();
  });
});

describe('conversationBytes', () => {
  it('equals the UTF-8 length of the whole JSON, also after messages were measured once', () => {
    const messages: MessageParam[] = [
      { role: 'user', content: 'héllo ✓' },
      { role: 'assistant', content: [{ type: 'text', text: 'ok' }] },
    ];
    const whole = () => new TextEncoder().encode(JSON.stringify(messages)).length;
    expect(conversationBytes(messages)).toBe(whole());
    messages.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: 'ü'.repeat(10) }] });
    expect(conversationBytes(messages)).toBe(whole());
    expect(conversationBytes([])).toBe(2);
  });
});
