/**
 * The fake Messages API, exercised through the real `@anthropic-ai/sdk` (no mocks): if the
 * SDK can talk to it in JSON and SSE and sees the same error classes as with the real API,
 * the project's end-to-end tests are testing something real.
 */
import Anthropic, {
  APIConnectionError,
  APIError,
  APIUserAbortError,
  AuthenticationError,
  BadRequestError,
  InternalServerError,
  OverloadedError,
  RateLimitError,
} from '@anthropic-ai/sdk';
import type { Message, MessageCreateParamsNonStreaming, MessageParam, Tool } from '@anthropic-ai/sdk/resources/messages';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import * as r from '../devtools/fake-api/replies.js';
import { FakeMessagesApi } from '../devtools/fake-api/server.js';
import { encodeSseEvent, messageToSseEvents } from '../devtools/fake-api/sse.js';
import { triageBrain } from '../devtools/fake-api/triage-brain.js';

const MODEL = 'claude-test-1';
const orderTool: Tool = {
  name: 'get_order_status',
  description: 'Look up an order',
  input_schema: { type: 'object', properties: { order_id: { type: 'string' } }, required: ['order_id'] },
};
const base: MessageCreateParamsNonStreaming = { model: MODEL, max_tokens: 2048, messages: [{ role: 'user', content: 'Hi' }] };

let fake: FakeMessagesApi;
let client: Anthropic;

beforeAll(async () => {
  fake = await FakeMessagesApi.start();
  client = new Anthropic({ apiKey: 'test-key', baseURL: fake.url, maxRetries: 0 });
});
afterAll(() => fake.close());
beforeEach(() => fake.clear());

/** Call `fn`, which must fail, and return the error. */
async function failure(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to fail');
}

/**
 * Normalize through JSON so the SDK's lazy-input getters compare as plain data; drop the
 * `parsed_output` that `MessageStream` adds on its own.
 */
function plain(m: Message): Record<string, unknown> {
  const { parsed_output: _parsed, ...rest } = JSON.parse(JSON.stringify(m)) as Message & { parsed_output?: unknown };
  return rest;
}

describe('round trips', () => {
  const cases = {
    text: () => r.text('Hello there, how can I help you today?'),
    'parallel tool_use': () =>
      r.toolUses(
        [
          { name: 'get_order_status', input: { order_id: '48810' } },
          { name: 'get_order_status', input: { order_id: '99999', nested: { a: [1, 2, 'é😀'] } }, id: 'toolu_fixed' },
        ],
        { text: 'Let me look.' },
      ),
    'thinking + redacted_thinking': () =>
      r.message(
        [r.thinkingBlock('The user wants… 😀 let me reason step by step.'), r.redactedThinking(), r.textBlock('Done.')],
        'end_turn',
      ),
    max_tokens: () => r.stop('max_tokens', 'Cut o'),
    stop_sequence: () => r.stop('stop_sequence', 'Up to the'),
  };
  for (const [name, build] of Object.entries(cases)) {
    it(`${name}: JSON and SSE give the same message`, async () => {
      const reply = build();
      fake.script(reply, reply);
      const json = await client.messages.create({ ...base, tools: [orderTool] });
      const streamed = await client.messages.stream({ ...base, tools: [orderTool] }).finalMessage();
      expect(json.content).toEqual(reply.content.map((b) => (b.type === 'tool_use' ? { ...b, id: expect.stringMatching(/^toolu_/) } : b)));
      expect(json.stop_reason).toBe(reply.stop_reason);
      expect(json.id).toMatch(/^msg_/);
      expect(json.model).toBe(MODEL);
      expect(json._request_id).toMatch(/^req_/);
      expect({ ...plain(streamed), id: json.id }).toEqual(plain(json));
      expect(fake.requests.map((q) => q.stream)).toEqual([false, true]);
      expect(fake.problems).toEqual([]);
    });
  }

  it('the SSE frames follow the canonical sequence', () => {
    const msg = {
      id: 'msg_1',
      type: 'message',
      role: 'assistant',
      model: 'm',
      stop_reason: 'tool_use',
      stop_sequence: null,
      stop_details: null,
      container: null,
      diagnostics: null,
      content: [r.textBlock('Let me look.'), r.toolUse('search_docs', { q: 'x' }, 'toolu_1')],
      usage: {
        input_tokens: 10,
        output_tokens: 12,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
        cache_creation: null,
        server_tool_use: null,
        service_tier: 'standard',
        inference_geo: null,
        output_tokens_details: null,
        speed: null,
      },
    } satisfies Message;
    const events = messageToSseEvents(msg);
    expect(events.map((e) => e.event)).toEqual([
      'message_start',
      'ping',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    expect(events.every((e) => e.data.type === e.event)).toBe(true);
    expect(events[7]?.data).toEqual({
      type: 'content_block_start',
      index: 1,
      content_block: { type: 'tool_use', id: 'toolu_1', name: 'search_docs', input: {}, caller: { type: 'direct' } },
    });
    expect(encodeSseEvent({ event: 'message_stop', data: { type: 'message_stop' } })).toBe(
      'event: message_stop\ndata: {"type":"message_stop"}\n\n',
    );
  });

  it('create({stream: true}) yields the raw events and a request id', async () => {
    fake.script(r.toolUses([{ name: 'get_order_status', input: { order_id: '1234' } }]));
    const stream = await client.messages.create({ ...base, tools: [orderTool], stream: true });
    const types: string[] = [];
    let json = '';
    for await (const e of stream) {
      types.push(e.type);
      if (e.type === 'content_block_delta' && e.delta.type === 'input_json_delta') json += e.delta.partial_json;
    }
    expect(types[0]).toBe('message_start');
    expect(types.at(-1)).toBe('message_stop');
    expect(types).not.toContain('ping');
    expect(JSON.parse(json)).toEqual({ order_id: '1234' });
  });

  it('usage defaults to estimates and can be overridden', async () => {
    fake.script(r.text('hi'), r.text('hi', { usage: { input_tokens: 7, cache_read_input_tokens: 3 } }));
    const a = await client.messages.create(base);
    expect(a.usage).toMatchObject({ cache_creation_input_tokens: 0, cache_read_input_tokens: 0 });
    expect(a.usage.input_tokens).toBeGreaterThan(0);
    expect(a.usage.output_tokens).toBeGreaterThan(0);
    const b = await client.messages.create(base);
    expect(b.usage).toMatchObject({ input_tokens: 7, cache_read_input_tokens: 3 });
  });
});

describe('validation', () => {
  const use = (ids: string[]): MessageParam => ({
    role: 'assistant',
    content: ids.map((id) => r.toolUse('get_order_status', { order_id: '1' }, id)),
  });
  const result = (id: string) => ({ type: 'tool_result' as const, tool_use_id: id, content: 'ok' });
  const bad: Record<string, [Record<string, unknown>, string]> = {
    'empty model': [{ model: '' }, 'model:'],
    'missing max_tokens': [{ max_tokens: undefined }, 'max_tokens: Field required'],
    'zero max_tokens': [{ max_tokens: 0 }, 'max_tokens: Input should be greater than or equal to 1'],
    'no messages': [{ messages: [] }, 'messages: at least one message is required'],
    'assistant first': [{ messages: [{ role: 'assistant', content: 'x' }] }, 'first message must use the "user" role'],
    'system role': [{ messages: [{ role: 'system', content: 'x' }] }, 'Unexpected role "system"'],
    'bad content': [{ messages: [{ role: 'user', content: 42 }] }, 'messages.0.content'],
    'unknown field': [{ thread: false }, 'thread: Extra inputs are not permitted'],
    'missing tool_result': [
      {
        tools: [orderTool],
        messages: [{ role: 'user', content: 'x' }, use(['toolu_a', 'toolu_b']), { role: 'user', content: [result('toolu_a')] }],
      },
      'messages.1: `tool_use` ids were found without `tool_result` blocks immediately after: toolu_b.',
    ],
    'tool_result after text': [
      {
        tools: [orderTool],
        messages: [
          { role: 'user', content: 'x' },
          use(['toolu_a']),
          { role: 'user', content: [{ type: 'text', text: 'hi' }, result('toolu_a')] },
        ],
      },
      'immediately after: toolu_a',
    ],
    'unexpected tool_use_id': [
      {
        tools: [orderTool],
        messages: [{ role: 'user', content: 'x' }, use(['toolu_a']), { role: 'user', content: [result('toolu_a'), result('toolu_zz')] }],
      },
      'messages.2.content.1: unexpected `tool_use_id` found in `tool_result` blocks: toolu_zz.',
    ],
    'trailing tool_use': [{ messages: [{ role: 'user', content: 'x' }, use(['toolu_a'])] }, 'without `tool_result` blocks'],
    'duplicate tool names': [{ tools: [orderTool, orderTool] }, 'tools: Tool names must be unique.'],
    'bad tool name': [{ tools: [{ ...orderTool, name: 'get order' }] }, 'tools.0.custom.name: String should match pattern'],
    'schema not object': [
      { tools: [{ ...orderTool, input_schema: { type: 'string' } }] },
      "tools.0.custom.input_schema.type: Input should be 'object'",
    ],
    'missing schema': [{ tools: [{ name: 'x' }] }, 'tools.0.custom.input_schema: Field required'],
    'bad tool_choice type': [{ tools: [orderTool], tool_choice: { type: 'required' } }, "Input tag 'required'"],
    'tool_choice without name': [{ tools: [orderTool], tool_choice: { type: 'tool' } }, 'tool_choice.tool.name: Field required'],
    'tool_choice unknown tool': [{ tools: [orderTool], tool_choice: { type: 'tool', name: 'nope' } }, "Tool 'nope' not found"],
    'tool_choice any without tools': [{ tool_choice: { type: 'any' } }, 'tool_choice may only be specified while providing tools'],
    'parallel flag on none': [
      { tools: [orderTool], tool_choice: { type: 'none', disable_parallel_tool_use: true } },
      'Extra inputs are not permitted',
    ],
    'parallel flag not boolean': [{ tools: [orderTool], tool_choice: { type: 'auto', disable_parallel_tool_use: 'yes' } }, 'valid boolean'],
    'system not text': [{ system: [{ type: 'image' }] }, "system.0.type: Input should be 'text'"],
    'small thinking budget': [{ thinking: { type: 'enabled', budget_tokens: 100 } }, 'greater than or equal to 1024'],
    'budget over max_tokens': [
      { thinking: { type: 'enabled', budget_tokens: 4096 } },
      '`max_tokens` must be greater than `thinking.budget_tokens`',
    ],
    'thinking with forced tool': [
      { tools: [orderTool], tool_choice: { type: 'any' }, thinking: { type: 'enabled', budget_tokens: 1024 } },
      'Thinking may not be enabled when tool_choice forces tool use.',
    ],
  };
  for (const [name, [patch, expected]] of Object.entries(bad)) {
    it(`rejects ${name}`, async () => {
      fake.script(r.text('never sent'));
      const params = { ...base, ...patch } as MessageCreateParamsNonStreaming;
      const err = await failure(() => client.messages.create(params));
      expect(err).toBeInstanceOf(BadRequestError);
      expect((err as BadRequestError).status).toBe(400);
      expect((err as BadRequestError).apiMessage).toContain(expected);
      expect((err as BadRequestError).type).toBe('invalid_request_error');
      expect(fake.pending()).toBe(1); // a rejected request does not consume the script
    });
  }

  it('accepts a complete tool loop with thinking blocks', async () => {
    fake.script(r.text('ok'));
    const messages: MessageParam[] = [
      { role: 'user', content: 'x' },
      { role: 'assistant', content: [r.thinkingBlock('hmm'), r.toolUse('get_order_status', { order_id: '1' }, 'toolu_a')] },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_a', content: 'ok' },
          { type: 'text', text: 'thanks' },
        ],
      },
    ];
    const res = await client.messages.create({
      ...base,
      max_tokens: 4096,
      thinking: { type: 'enabled', budget_tokens: 1024 },
      tools: [orderTool],
      messages,
    });
    expect(res.content).toEqual([r.textBlock('ok')]);
  });
});

describe('errors', () => {
  it('no API key at all → AuthenticationError', async () => {
    const noKey = new Anthropic({
      apiKey: null,
      authToken: null,
      defaultHeaders: { Authorization: null },
      baseURL: fake.url,
      maxRetries: 0,
    });
    const err = await failure(() => noKey.messages.create(base));
    expect(err).toBeInstanceOf(AuthenticationError);
    expect((err as AuthenticationError).apiMessage).toBe('x-api-key header is required');
  });

  it('wrong key when the server requires one → AuthenticationError', async () => {
    const strict = await FakeMessagesApi.start({ apiKey: 'right' });
    try {
      const err = await failure(() => new Anthropic({ apiKey: 'wrong', baseURL: strict.url, maxRetries: 0 }).messages.create(base));
      expect(err).toBeInstanceOf(AuthenticationError);
    } finally {
      await strict.close();
    }
  });

  it('429 → RateLimitError with a readable retry-after and request id', async () => {
    fake.script(r.rateLimited(2));
    const err = await failure(() => client.messages.create(base));
    expect(err).toBeInstanceOf(RateLimitError);
    expect((err as RateLimitError).headers?.get('retry-after')).toBe('2');
    expect((err as RateLimitError).requestID).toMatch(/^req_/);
    expect((err as RateLimitError).error).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
  });

  it('529 → OverloadedError, 500 → InternalServerError', async () => {
    fake.script(r.overloaded(), r.serverError());
    const overloaded = await failure(() => client.messages.create(base));
    expect(overloaded).toBeInstanceOf(OverloadedError);
    expect(overloaded).toBeInstanceOf(InternalServerError);
    const internal = await failure(() => client.messages.stream(base).finalMessage());
    expect(internal).toBeInstanceOf(InternalServerError);
    expect((internal as InternalServerError).status).toBe(500);
  });

  it('reset → APIConnectionError', async () => {
    fake.script(r.reset());
    expect(await failure(() => client.messages.create(base))).toBeInstanceOf(APIConnectionError);
  });

  it('mid-stream error → APIError with type and no status; non-stream gets the HTTP equivalent', async () => {
    fake.script(r.streamError(), r.streamError());
    const err = await failure(() => client.messages.stream(base).finalMessage());
    expect(err).toBeInstanceOf(APIError);
    expect((err as APIError).status).toBeUndefined();
    expect((err as APIError).type).toBe('overloaded_error');
    expect(await failure(() => client.messages.create(base))).toBeInstanceOf(OverloadedError);
  });

  it('stall → pending until aborted (APIUserAbortError)', async () => {
    fake.script(r.stall());
    const controller = new AbortController();
    const stream = client.messages.stream(base, { signal: controller.signal });
    const outcome = stream.finalMessage().then(
      () => 'resolved',
      (e: unknown) => e,
    );
    await stream.withResponse(); // headers and message_start have arrived
    const early = await Promise.race([outcome, new Promise((res) => setTimeout(() => res('pending'), 200))]);
    expect(early).toBe('pending');
    controller.abort();
    expect(await outcome).toBeInstanceOf(APIUserAbortError);
  });

  it('close() does not hang on a stalled stream or a silent non-stream request', async () => {
    const other = await FakeMessagesApi.start();
    other.script(r.stall(1), r.stall());
    const c = new Anthropic({ apiKey: 'k', baseURL: other.url, maxRetries: 0 });
    const s = c.messages.stream(base);
    const streamed = s.finalMessage().catch((e: unknown) => e);
    const plainCall = c.messages.create(base).catch((e: unknown) => e);
    await s.withResponse();
    await new Promise((res) => setTimeout(res, 50));
    await other.close();
    expect(await streamed).toBeInstanceOf(Error);
    expect(await plainCall).toBeInstanceOf(APIConnectionError);
  });

  it('out of script → 400 and a loud problem', async () => {
    fake.script(r.text('only one'));
    await client.messages.create(base);
    const err = await failure(() => client.messages.create({ ...base, messages: [{ role: 'user', content: 'second question' }] }));
    expect(err).toBeInstanceOf(BadRequestError);
    expect((err as BadRequestError).apiMessage).toContain('fake model: no scripted answer for request 2');
    expect(fake.problems).toEqual([
      expect.stringContaining('fake model: no scripted answer for request 2 (last user message: second question)'),
    ]);
  });

  it('unknown path → 404', async () => {
    const res = await fetch(`${fake.url}/v1/complete`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(404);
    expect(res.headers.get('request-id')).toMatch(/^req_/);
    expect(await res.json()).toMatchObject({
      type: 'error',
      error: { type: 'not_found_error' },
      request_id: expect.stringMatching(/^req_/),
    });
  });
});

describe('pacing', () => {
  it('latencyMs delays the answer and chunkDelayMs spaces the SSE events', async () => {
    const slow = await FakeMessagesApi.start({ latencyMs: 50, chunkDelayMs: 15 });
    try {
      slow.script(r.text('one two three four five six'));
      const c = new Anthropic({ apiKey: 'k', baseURL: slow.url, maxRetries: 0 });
      const started = Date.now();
      const deltas: string[] = [];
      const msg = await c.messages
        .stream(base)
        .on('text', (d) => deltas.push(d))
        .finalMessage();
      expect(deltas.length).toBeGreaterThan(1);
      expect(deltas.join('')).toBe('one two three four five six');
      expect(msg.content).toEqual([r.textBlock('one two three four five six')]);
      expect(Date.now() - started).toBeGreaterThanOrEqual(50 + 15 * 5);
    } finally {
      await slow.close();
    }
  });
});

describe('recording and responders', () => {
  it('records every request, rejected ones included, and passes them to function responders', async () => {
    fake.script((req) => r.text(`you said ${String(req.body.messages.at(-1)?.content)}`));
    await failure(() => client.messages.create({ ...base, max_tokens: 0 }));
    const res = await client.messages.create({ ...base, messages: [{ role: 'user', content: 'ping' }] });
    expect(res.content).toEqual([r.textBlock('you said ping')]);
    expect(fake.requests).toHaveLength(2);
    expect(fake.requests[1]).toMatchObject({ index: 1, stream: false, body: { model: MODEL, max_tokens: 2048 } });
    expect(fake.requests[1]?.headers.authorization).toBe('Bearer test-key');
    expect(fake.requests[1]?.headers['anthropic-version']).toBeTruthy();
    expect(fake.pending()).toBe(0);
  });
});

describe('triage brain', () => {
  it('looks up every order in parallel, then answers from the results', async () => {
    const brainy = await FakeMessagesApi.start({ brain: triageBrain });
    try {
      const c = new Anthropic({ apiKey: 'k', baseURL: brainy.url, maxRetries: 0 });
      const messages: MessageParam[] = [{ role: 'user', content: 'Hi, where are my orders 48810 and 99999? Also 48810 again.' }];
      const first = await c.messages.stream({ ...base, tools: [orderTool], messages }).finalMessage();
      expect(first.stop_reason).toBe('tool_use');
      const uses = first.content.filter((b) => b.type === 'tool_use');
      expect(uses.map((u) => u.input)).toEqual([{ order_id: '48810' }, { order_id: '99999' }]);
      messages.push({ role: 'assistant', content: first.content });
      messages.push({
        role: 'user',
        content: [
          {
            type: 'tool_result',
            tool_use_id: uses[0]?.id ?? '',
            content: JSON.stringify({ order_id: '48810', status: 'shipped', estimated_delivery: '2026-05-24' }),
          },
          { type: 'tool_result', tool_use_id: uses[1]?.id ?? '', content: 'No order with id 99999 was found', is_error: true },
        ],
      });
      const second = await c.messages.create({ ...base, tools: [orderTool], messages });
      expect(second.stop_reason).toBe('end_turn');
      expect(second.model).toBe(MODEL);
      expect(second.content).toEqual([
        r.textBlock(
          "Order 48810 is shipped, estimated delivery 2026-05-24. I couldn't find order 99999: No order with id 99999 was found. Please double-check that number.",
        ),
      ]);
      expect(brainy.problems).toEqual([]);
    } finally {
      await brainy.close();
    }
  });

  it('asks one order at a time when parallel tool use is disabled, and asks for a number when there is none', async () => {
    const serial = { ...base, tools: [orderTool], tool_choice: { type: 'auto' as const, disable_parallel_tool_use: true } };
    const messages: MessageParam[] = [{ role: 'user', content: 'orders 1111 and 2222 please' }];
    const rec = (i: number) => ({ index: i, headers: {}, stream: false, receivedAt: 0, body: { ...serial, messages } });
    const first = triageBrain(rec(0));
    expect(first.kind === 'message' && first.content.filter((b) => b.type === 'tool_use')).toHaveLength(1);
    if (first.kind !== 'message') throw new Error('expected a message');
    const use = first.content.find((b) => b.type === 'tool_use');
    messages.push(
      { role: 'assistant', content: first.content },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: use?.id ?? '', content: 'in transit' }] },
    );
    const second = triageBrain(rec(1));
    expect(second.kind === 'message' && second.content.find((b) => b.type === 'tool_use')).toMatchObject({ input: { order_id: '2222' } });
    const none = triageBrain({ ...rec(2), body: { ...base, tools: [orderTool] } });
    expect(none).toMatchObject({ kind: 'message', stop_reason: 'end_turn', content: [{ text: expect.stringContaining('order number') }] });
  });
});
