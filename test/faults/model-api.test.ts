/**
 * Fault 5: model API faults through the real SDK in a real worker process: which are retried
 * (and how soon), which fail the run at once. And key hygiene: the API key never reaches the
 * history, activity inputs or outputs, the worker's logs or error messages.
 */
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
} from '../../devtools/fake-api/replies.js';
import { testAgents } from '../support/agents.js';
import { triageBrain } from '../../devtools/fake-api/triage-brain.js';
import { decodedHistoryText } from '../support/decoded-history.js';
import { cliEnv, runCli } from '../support/cli.js';
import { activityEvents } from '../support/history.js';
import { FAULT_API_KEY, startFaultWorld, until, type FaultWorld } from './world.js';

let h: FaultWorld;
beforeAll(async () => {
  h = await startFaultWorld();
  await h.startWorker();
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

  it('a stream that stalls is aborted by the stall watchdog and retried', async () => {
    h.fake.script(stall(2), text('after the stall'));
    const r = await h.run('toolbox', 'hi');
    expect(r).toMatchObject({ status: 'completed', finalText: 'after the stall' });
    const call = await modelCall(r.workflowId);
    expect(call.attempt).toBe(2);
    // The test agent's stall timeout is 3 s; the first stream was aborted by the activity itself.
    expect(call.startedAt! - call.scheduledAt).toBeGreaterThanOrEqual(3000);
    expect(h.fake.requests[0]?.abortedAt).toBeDefined();
    expect(h.workers.map((w) => w.output()).join('\n')).toContain('model stream stalled: no bytes for 3 s (stall timeout)');
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
    expect(r.error).toMatch(
      /^Anthropic API 401 authentication_error: invalid x-api-key \(the API key was rejected; check ANTHROPIC_API_KEY on the worker\)$/,
    );
    expect(h.fake.requests).toHaveLength(1);
  });

  it('an unknown agent fails the run at once', async () => {
    const r = await h.run('no-such-agent', 'hi');
    expect(r.status).toBe('failed');
    expect(r.error).toBe(`unknown agent "no-such-agent": this worker serves ${testAgents.map((a) => `"${a.name}"`).join(', ')}`);
    expect(r.messages).toEqual([{ role: 'user', content: 'hi' }]);
    expect(h.fake.requests).toHaveLength(0);
  });

  it('a malformed override is refused by the client: nothing starts', async () => {
    const before = (await h.client.workflow.count(`WorkflowType = 'agentRun'`)).count;
    await expect(h.run('toolbox', 'hi', { overrides: { max_tokens: -5 } })).rejects.toThrow(
      'override max_tokens must be a positive integer, got -5',
    );
    expect((await h.client.workflow.count(`WorkflowType = 'agentRun'`)).count).toBe(before);
  });
});

describe('secrets', () => {
  it('the API key appears nowhere: not in history, activity inputs/outputs, logs or error messages', async () => {
    h.fake.script(triageBrain, rateLimited(1), triageBrain, httpError(401, 'authentication_error', 'invalid x-api-key'));
    const ok = await h.run('triage', 'where is 48810?');
    expect(ok.status).toBe('completed');
    const failed = await h.run('toolbox', 'this one fails');
    expect(failed.status).toBe('failed');
    // The key was really used on the wire…
    expect(h.fake.requests.map((q) => q.headers.authorization ?? q.headers['x-api-key'])).toContain(`Bearer ${FAULT_API_KEY}`);
    // …and is absent from both histories (every payload: inputs, results, failures, details)…
    for (const id of [ok.workflowId, failed.workflowId]) {
      const { raw, decoded, payloads } = await decodedHistoryText(h.client, id);
      expect(payloads).toBeGreaterThan(5);
      // The search can fail: the decoded text really holds the run's data (compressed in history).
      expect(decoded).toContain(id === ok.workflowId ? 'where is 48810?' : 'this one fails');
      for (const text of [raw, decoded]) {
        expect(text).not.toContain(FAULT_API_KEY);
        expect(text).not.toContain(Buffer.from(FAULT_API_KEY).toString('base64').slice(0, 20));
      }
    }
    // …from the error the user sees, and from everything the worker process logged.
    expect(failed.error).toContain('401');
    expect(JSON.stringify(failed)).not.toContain(FAULT_API_KEY);
    const logs = h.workers.map((w) => w.output()).join('\n');
    expect(logs).toContain('worker: serving');
    expect(logs).not.toContain(FAULT_API_KEY);
  });

  it('a proxy that echoes the key in its error bodies: the key is redacted from history, the error line, show and the logs', async () => {
    const echo = (status: number, type: string) =>
      httpError(status, type, `upstream rejected key ${FAULT_API_KEY} (also tried sk-ant-api03-OTHERKEY1234567)`);
    h.fake.script(echo(500, 'api_error'), echo(401, 'authentication_error'));
    const failed = await h.run('toolbox', 'echoing proxy');
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/^Anthropic API 401 authentication_error: upstream rejected key \[redacted\] \(also tried \[redacted\]\)/);
    const { raw, decoded } = await decodedHistoryText(h.client, failed.workflowId);
    for (const text of [raw, decoded, JSON.stringify(failed)]) {
      expect(text).not.toContain(FAULT_API_KEY);
      expect(text).not.toContain('OTHERKEY1234567');
    }
    const show = await runCli(cliEnv({ address: h.address, taskQueue: h.taskQueue }), 'show', failed.workflowId);
    expect(show.stdout + show.stderr).toContain('[redacted]');
    expect(show.stdout + show.stderr).not.toContain(FAULT_API_KEY);
    expect(h.workers.map((w) => w.output()).join('\n')).not.toContain(FAULT_API_KEY);
  });

  it('the worker prints the model endpoint without userinfo, query or fragment', async () => {
    const worker = await h.startWorker({ ANTHROPIC_BASE_URL: 'http://user:s3cret-pass@127.0.0.1:9/v1?key=qwerty-token#frag' });
    const line = await until('the endpoint line', () =>
      worker
        .output()
        .split('\n')
        .find((l) => l.startsWith('worker: model endpoint')),
    );
    expect(line).toContain('worker: model endpoint http://127.0.0.1:9/v1');
    expect(worker.output()).not.toMatch(/s3cret-pass|qwerty-token|frag/);
    worker.kill('SIGKILL');
    await worker.exited;
  });
});
