/**
 * Model API faults through the real SDK and the real worker: which are retried (and how soon),
 * which fail the run at once, and that the API key never reaches history.
 */
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  httpError,
  invalidRequest,
  overloaded,
  rateLimited,
  reset,
  serverError,
  stall,
  streamError,
  text,
} from './fake-api/replies.js';
import { triageBrain } from './fake-api/triage-brain.js';
import { startHarness, TEST_API_KEY, type Harness } from './support/harness.js';
import { activityEvents } from './support/history.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => h?.close());
afterEach(() => {
  expect(h.fake.problems).toEqual([]);
  expect(h.fake.pending()).toBe(0);
  h.fake.clear();
});

async function modelCall(workflowId: string) {
  const calls = (await activityEvents(h.client, workflowId)).filter((e) => e.activityType === 'callModel');
  expect(calls).toHaveLength(1);
  return calls[0]!;
}

describe('retryable faults', () => {
  it('429 with retry-after: the next attempt waits for it (from history timestamps)', async () => {
    h.fake.script(rateLimited(2), text('ok'));
    const r = await h.run('toolbox', 'hi');
    expect(r).toMatchObject({ status: 'completed', finalText: 'ok' });
    const call = await modelCall(r.workflowId);
    expect(call.attempt).toBe(2);
    // The policy's own backoff is 100 ms; retry-after (2 s) must win.
    expect(call.startedAt! - call.scheduledAt).toBeGreaterThanOrEqual(2000);
    expect(h.fake.requests).toHaveLength(2);
  });

  it('retry-after-ms is honoured too', async () => {
    h.fake.script(httpError(429, 'rate_limit_error', 'slow down', { 'retry-after-ms': '1500' }), text('ok'));
    const r = await h.run('toolbox', 'hi');
    const call = await modelCall(r.workflowId);
    expect(call.attempt).toBe(2);
    expect(call.startedAt! - call.scheduledAt).toBeGreaterThanOrEqual(1500);
  });

  it.each([
    ['529 overloaded', overloaded],
    ['500 server error', serverError],
    ['connection reset', reset],
    ['overloaded_error in the middle of the stream', () => streamError('overloaded_error', 'Overloaded', 3)],
  ])('%s is retried and the run completes', async (_name, fault) => {
    h.fake.script(fault(), text('recovered'));
    const r = await h.run('toolbox', 'hi');
    expect(r).toMatchObject({ status: 'completed', finalText: 'recovered', turns: 1 });
    expect((await modelCall(r.workflowId)).attempt).toBe(2);
  });

  it('a stream that stalls is caught by the heartbeat timeout and retried', async () => {
    h.fake.script(stall(2), text('after the stall'));
    const r = await h.run('toolbox', 'hi');
    expect(r).toMatchObject({ status: 'completed', finalText: 'after the stall' });
    const call = await modelCall(r.workflowId);
    expect(call.attempt).toBe(2);
    // The test agent's heartbeat timeout is 3 s.
    expect(call.startedAt! - call.scheduledAt).toBeGreaterThanOrEqual(3000);
  });
});

describe('fatal faults fail the run at once, with a clear reason', () => {
  it('400 invalid_request_error: no retry', async () => {
    h.fake.script(invalidRequest('messages.0.content: bad things'));
    const r = await h.run('toolbox', 'hi');
    expect(r.status).toBe('failed');
    expect(r.stopReason).toBe('error');
    expect(r.error).toBe(
      'Anthropic API 400 invalid_request_error: messages.0.content: bad things (the request was invalid; fix the agent definition or the conversation)',
    );
    expect(r.error).not.toContain('\n');
    expect(h.fake.requests).toHaveLength(1);
    const call = await modelCall(r.workflowId);
    expect(call).toMatchObject({ attempt: 1, outcome: 'failed' });
    // The partial result survives: the user's message is there.
    expect(r.messages).toEqual([{ role: 'user', content: 'hi' }]);
  });

  it('401: says to check the API key', async () => {
    h.fake.script(httpError(401, 'authentication_error', 'invalid x-api-key'));
    const r = await h.run('toolbox', 'hi');
    expect(r.status).toBe('failed');
    expect(r.error).toMatch(/^Anthropic API 401 authentication_error: invalid x-api-key \(the API key was rejected; check ANTHROPIC_API_KEY on the worker\)$/);
    expect(h.fake.requests).toHaveLength(1);
  });

  it('an unknown agent fails the run at once', async () => {
    const r = await h.run('no-such-agent', 'hi');
    expect(r.status).toBe('failed');
    expect(r.error).toBe('unknown agent "no-such-agent": this worker serves "triage", "toolbox"');
    expect(h.fake.requests).toHaveLength(0);
  });

  it('a malformed override fails the run at once', async () => {
    const r = await h.run('toolbox', 'hi', { overrides: { max_tokens: -5 } });
    expect(r.status).toBe('failed');
    expect(r.error).toBe('override max_tokens must be a positive integer, got -5');
  });
});

describe('secrets', () => {
  it('the API key appears nowhere in the history of a run', async () => {
    h.fake.script(triageBrain, rateLimited(1), triageBrain);
    const r = await h.run('triage', 'where is 48810?');
    expect(r.status).toBe('completed');
    // The key was really used on the wire…
    expect(h.fake.requests.map((q) => q.headers.authorization ?? q.headers['x-api-key'])).toContain(`Bearer ${TEST_API_KEY}`);
    // …and is absent from every event of the history, payloads included.
    const json = historyToJSON(await h.history(r.workflowId));
    expect(json.length).toBeGreaterThan(1000);
    expect(json).not.toContain(TEST_API_KEY);
    expect(json).not.toContain(Buffer.from(TEST_API_KEY).toString('base64').slice(0, 20));
  });
});
